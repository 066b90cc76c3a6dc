/**
 * The pipeline's MfaVerifier (vault/src/http/pipeline-ports.ts) over MfaService. When a policy path
 * lists `mfa_methods`, the request must carry a valid code for every one of them, as Vault
 * Enterprise's step-up MFA does (`X-Vault-MFA` may repeat, one `method:code` each).
 * - A listed method without a credential → ERR_MFA_REQUIRED "MFA required: <missing methods>".
 * - A credential that fails → ERR_PERMISSION_DENIED, or ERR_RATE_LIMITED while locked out.
 * Credentials for methods the path does not list are ignored (never verified, never counted).
 */
import { KeywardError } from '../../core/errors.js';
import type { Environment } from '../../core/types.js';
import { parseMfaHeader } from './mfa-header.js';
import type { MfaService } from './mfa-service.js';

/**
 * Structurally the http layer's `MfaVerifier` (declared there; not imported, so auth does not depend
 * on http — DESIGN.md §5 import direction).
 */
export class TotpMfaVerifier {
  constructor(private readonly mfa: Pick<MfaService, 'verifyCode'>) {}

  async verify(principal: { readonly subject: string }, env: Environment, methods: readonly string[], header: string | undefined): Promise<void> {
    const required = [...new Set(methods)];
    const given = parseMfaHeader(header);
    const missing = required.filter((m) => !given.some((c) => c.method === m));
    if (missing.length > 0) throw new KeywardError('ERR_MFA_REQUIRED', `MFA required: ${missing.join(', ')}`);
    for (const method of required) {
      const credential = given.find((c) => c.method === method);
      if (credential) await this.mfa.verifyCode(env, method, principal.subject, credential.passcode);
    }
  }
}
