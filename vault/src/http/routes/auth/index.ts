/**
 * Login methods and step-up MFA, ready to wire: `createIdentityServices` builds the services from
 * the shared SQLite connection, the HSM, the TokenService and a clock (call `init()` once at startup:
 * it ensures the HSM MAC keys); the route groups mount them.
 */
import type { Clock } from '../../../core/ports/clock.js';
import type { Hsm } from '../../../core/ports/hsm.js';
import type { IdentityStore } from '../../../core/ports/identity-store.js';
import type { SqliteConnection } from '../../../adapters/sqlite/database.js';
import { SqliteIdentityStore } from '../../../adapters/sqlite/sqlite-identity-store.js';
import { AppRoleService } from '../../../auth/approle/approle-service.js';
import { JwtAuthService } from '../../../auth/jwt-method/jwt-auth-service.js';
import type { KeySourceOptions } from '../../../auth/jwt-method/key-source.js';
import { MfaService } from '../../../auth/mfa/mfa-service.js';
import { TotpMfaVerifier } from '../../../auth/mfa/mfa-verifier.js';
import type { TokenService } from '../../../auth/token-service.js';

export { approleRoutes, type ApproleRouteDeps } from './approle.js';
export { jwtAuthRoutes, type JwtAuthRouteDeps } from './jwt.js';
export { mfaRoutes, type MfaRouteDeps } from '../sys/mfa.js';

export interface IdentityServiceDeps {
  readonly db: SqliteConnection;
  readonly hsm: Pick<Hsm, 'hmacSha256' | 'ensureMacKey' | 'randomBytes'>;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly jwks?: KeySourceOptions;
}

export interface IdentityServices {
  readonly store: IdentityStore;
  readonly approle: AppRoleService;
  readonly jwtAuth: JwtAuthService;
  readonly mfa: MfaService;
  /** AppDeps.mfa for buildApp. */
  readonly mfaVerifier: TotpMfaVerifier;
  /** Ensures the HSM keys (secret-ID HMAC, TOTP sealing). Call once before serving. */
  init(): Promise<void>;
}

export function createIdentityServices(deps: IdentityServiceDeps): IdentityServices {
  const store = new SqliteIdentityStore(deps.db);
  const approle = new AppRoleService({ store, hsm: deps.hsm, tokens: deps.tokens, clock: deps.clock });
  const jwtAuth = new JwtAuthService({ store, tokens: deps.tokens, clock: deps.clock }, deps.jwks);
  const mfa = new MfaService({ store, hsm: deps.hsm, clock: deps.clock });
  return {
    store,
    approle,
    jwtAuth,
    mfa,
    mfaVerifier: new TotpMfaVerifier(mfa),
    async init() {
      await approle.init();
      await mfa.init();
    },
  };
}
