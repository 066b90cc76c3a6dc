/**
 * rewrapWrapping: consume a wrapping token and wrap the same payload under a new one with the same
 * creation TTL and path (Vault `sys/wrapping/rewrap`). A used token is reported as `reused`, as unwrap does.
 */
import type { WrappingTokenRecord } from '../../core/ports/secret-store.js';
import type { WrappingDeps } from './shared.js';
import { consumeAndOpen } from './unwrap.js';
import type { WrapResponse, WrapResult } from './wrap-response.js';

export type RewrapResult =
  | { readonly ok: true; readonly wrapped: WrapResult }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' }
  | { readonly ok: false; readonly reason: 'reused'; readonly record: WrappingTokenRecord };

export type RewrapWrapping = (input: { readonly token: string }) => Promise<RewrapResult>;

export function makeRewrapWrapping(deps: WrappingDeps & { readonly wrapResponse: WrapResponse }): RewrapWrapping {
  return async ({ token }) => {
    const r = await consumeAndOpen(deps, token);
    if (!r.ok) return r;
    const wrapped = await deps.wrapResponse({ env: r.record.env, creationPath: r.record.creationPath, ttlSeconds: r.record.ttlSeconds, payload: r.payload });
    return { ok: true, wrapped };
  };
}
