/**
 * The pipeline's MfaVerifier (vault/src/http/pipeline-ports.ts) over MfaService. When a policy path
 * lists `mfa_methods`, the request must carry a valid code for one of them (the port's contract:
 * "one of"; Vault Enterprise asks for all — Keyward's policies list alternatives).
 * - No credential for any listed method → ERR_MFA_REQUIRED "MFA required: <methods>".
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
    const candidates = parseMfaHeader(header).filter((c) => methods.includes(c.method));
    if (candidates.length === 0) throw new KeywardError('ERR_MFA_REQUIRED', `MFA required: ${methods.join(', ')}`);
    let first: unknown;
    for (const c of candidates) {
      try {
        await this.mfa.verifyCode(env, c.method, principal.subject, c.passcode);
        return;
      } catch (e) {
        first ??= e;
      }
    }
    throw first;
  }
}
