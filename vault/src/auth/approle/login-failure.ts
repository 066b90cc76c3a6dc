/**
 * One answer for every failed login of a login method (AppRole, JWT), so a caller cannot tell which
 * check failed (an unknown role ID from a wrong secret ID, a wrong audience from a bad signature).
 * Vault answers such failures with 400; so does Keyward (ERR_INVALID_INPUT). The reason, one of a
 * fixed set of non-secret strings, rides in `cause` for the audit entry only.
 */
import { KeywardError } from '../../core/errors.js';

export class LoginFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'LoginFailure';
  }
}

export function loginFailed(message: string, reason: string): KeywardError {
  return new KeywardError('ERR_INVALID_INPUT', message, { cause: new LoginFailure(reason) });
}

/** The audit reason of a login failure, or undefined for any other error. */
export function loginFailureReason(e: unknown): string | undefined {
  if (e instanceof KeywardError && e.cause instanceof LoginFailure) return e.cause.reason;
  return undefined;
}
