/**
 * The pipeline's Authenticator over TokenService: verifies a bearer token for the environment the
 * request names. When the request names none (no X-Vault-Namespace, no /v1/<env>/ prefix) the token's
 * own environment applies, as Vault applies a token in the namespace it was created in.
 *
 * To learn that environment TokenService hands us the `env` claim of the cached, already verified
 * token when it has one (the same token: its cache is keyed by the token's digest); otherwise the
 * payload is decoded *unverified* — only to choose which environment to verify against; TokenService
 * then checks signature, claims, record and environment, so a forged `env` claim gains nothing.
 * Either way the claim goes through the same checks below. The root token ('*') falls back to
 * `defaultEnv`. Every failure is ERR_PERMISSION_DENIED 'permission denied' (reason in `cause`,
 * token-denial.ts).
 */
import { decodeJwt } from 'jose';
import { isKeywardError } from '../core/errors.js';
import { type Environment, parseEnvironment } from '../core/types.js';
import type { Authenticator } from '../http/pipeline-ports.js';
import type { RequestPrincipal } from '../http/route-spec.js';
import { ALL_ENVIRONMENTS } from './principal.js';
import { tokenDenied } from './token-denial.js';
import type { EnvironmentChooser, TokenService } from './token-service.js';

function unverifiedEnvClaim(token: string): unknown {
  try {
    return decodeJwt(token)['env'];
  } catch {
    throw tokenDenied('malformed');
  }
}

/** The token's own environment: its `env` claim (verified if cached, else decoded unverified). */
export function ownEnvironment(defaultEnv: Environment): EnvironmentChooser {
  return (token, verifiedEnv) => {
    const claim = verifiedEnv !== undefined ? verifiedEnv : unverifiedEnvClaim(token);
    if (claim === ALL_ENVIRONMENTS) return defaultEnv;
    if (typeof claim !== 'string') throw tokenDenied('malformed');
    try {
      return parseEnvironment(claim);
    } catch {
      throw tokenDenied('malformed');
    }
  };
}

export function tokenAuthenticator(tokens: Pick<TokenService, 'verify'>, defaultEnv: Environment): Authenticator {
  const own = ownEnvironment(defaultEnv);
  return {
    async authenticate(token: string, env: Environment | null): Promise<RequestPrincipal> {
      try {
        return await tokens.verify(token, { env: env ?? own });
      } catch (e) {
        if (isKeywardError(e)) throw e;
        throw tokenDenied('malformed');
      }
    },
  };
}
