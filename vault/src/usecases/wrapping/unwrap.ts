/**
 * unwrap: give back a wrapped response exactly once (Vault `sys/wrapping/unwrap`).
 *
 * Invariants:
 * - Consumption is one store transaction: of two concurrent unwraps exactly one gets the payload; the
 *   sealed payload leaves the store in that same transaction.
 * - Malformed, unknown, expired and used tokens all fail with Vault's one message; a used token is
 *   reported as `reused` so the caller can audit it and raise an anomaly.
 * - The stored hash is compared in constant time with SHA-256 of the presented token.
 */
import type { WrappingTokenRecord } from '../../core/ports/secret-store.js';
import { wrapBinding, type WrappedPayload, type WrappingDeps } from './shared.js';
import { hashWrappingToken, isWrappingTokenFormat, sameHash } from './wrapping-token.js';

export type UnwrapResult =
  | { readonly ok: true; readonly payload: WrappedPayload; readonly record: WrappingTokenRecord }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' }
  | { readonly ok: false; readonly reason: 'reused'; readonly record: WrappingTokenRecord };

export type Unwrap = (input: { readonly token: string }) => Promise<UnwrapResult>;

/** Shared with rewrap: consume the token and open its payload. */
export async function consumeAndOpen(deps: WrappingDeps, token: string): Promise<UnwrapResult> {
  if (!isWrappingTokenFormat(token)) return { ok: false, reason: 'invalid' };
  const idHash = hashWrappingToken(token);
  const r = await deps.store.consumeWrappingToken(idHash, deps.clock.now());
  if (r.status === 'missing') return { ok: false, reason: 'invalid' };
  if (!sameHash(r.record.idHash, idHash)) return { ok: false, reason: 'invalid' };
  if (r.status === 'used') return { ok: false, reason: 'reused', record: r.record };
  if (r.status === 'expired' || r.record.sealedPayload === null) return { ok: false, reason: 'expired' };
  const plaintext = await deps.sealer.open(r.record.env, wrapBinding(r.record.env, r.record.accessor), r.record.sealedPayload);
  try {
    return { ok: true, payload: JSON.parse(plaintext.toString('utf8')) as WrappedPayload, record: r.record };
  } finally {
    plaintext.fill(0);
  }
}

export function makeUnwrap(deps: WrappingDeps): Unwrap {
  return async ({ token }) => consumeAndOpen(deps, token);
}
