/**
 * Every token failure is the same KeywardError('ERR_PERMISSION_DENIED', 'permission denied'), so a
 * caller learns nothing about which check failed (RFC 8725 §3.3; STYLE.md, jose's single message).
 * The reason is kept for the audit trail only, as the error's `cause`: a TokenDenial whose `reason`
 * is one of the fixed, non-secret strings below (never token contents or library messages).
 *
 * How the audit layer reads it:
 *   const reason = tokenDenialReason(err);   // e.g. 'expired' | 'revoked' | undefined
 *   audit.record({ ..., outcome: 'unauthenticated', decision: { allowed: false, grantingPolicies: [], reason } })
 */
import { KeywardError, PERMISSION_DENIED_MESSAGE } from '../core/errors.js';

export const DENIAL_REASONS = [
  'malformed', // not a compact JWS, bad base64url/JSON, wrong claim types
  'oversized', // larger than the 8 KiB limit, rejected before parsing
  'bad-alg', // alg other than ES256 (none, HS256, RS256, …)
  'bad-header', // wrong typ, unknown crit
  'untrusted-key-header', // jku / x5u / jwk / x5c present: never fetched, never trusted
  'missing-kid',
  'unknown-kid', // not one of Keyward's active or verify-only signing keys
  'bad-signature',
  'expired',
  'not-yet-valid', // nbf more than the clock tolerance in the future
  'iat-in-future',
  'bad-issuer',
  'bad-audience',
  'missing-claim', // exp, iat, nbf, jti or sub absent
  'unknown-token', // valid signature but no record (purged, or a restored database)
  'record-mismatch', // claims disagree with the stored record
  'revoked',
  'uses-exhausted', // num_uses reached: the token is revoked, as in Vault
  'wrong-env',
  'not-permitted', // issuing: a child asked for more than its parent has
] as const;

export type DenialReason = (typeof DENIAL_REASONS)[number];

/** The `cause` of a token denial. Carries no secret: only the fixed reason string. */
export class TokenDenial extends Error {
  constructor(readonly reason: DenialReason) {
    super(reason);
    this.name = 'TokenDenial';
  }
}

export function tokenDenied(reason: DenialReason): KeywardError {
  return new KeywardError('ERR_PERMISSION_DENIED', PERMISSION_DENIED_MESSAGE, { cause: new TokenDenial(reason) });
}

/** The audit reason of a token denial, or undefined if `e` is not one. */
export function tokenDenialReason(e: unknown): DenialReason | undefined {
  if (e instanceof KeywardError && e.code === 'ERR_PERMISSION_DENIED' && e.cause instanceof TokenDenial) return e.cause.reason;
  return undefined;
}
