/** lookupWrapping: a live wrapping token's creation facts, without consuming it (Vault `sys/wrapping/lookup`). */
import type { WrappingTokenRecord } from '../../core/ports/secret-store.js';
import { wrappingTokenInvalid, type WrappingDeps } from './shared.js';
import { hashWrappingToken, isWrappingTokenFormat, sameHash } from './wrapping-token.js';

export type LookupWrapping = (input: { readonly token: string }) => Promise<WrappingTokenRecord>;

export function makeLookupWrapping(deps: Pick<WrappingDeps, 'store' | 'clock'>): LookupWrapping {
  return async ({ token }) => {
    if (!isWrappingTokenFormat(token)) throw wrappingTokenInvalid();
    const idHash = hashWrappingToken(token);
    const record = await deps.store.getWrappingToken(idHash);
    if (!record || !sameHash(record.idHash, idHash) || record.usedAt !== null || record.expiresAt.getTime() <= deps.clock.now().getTime()) {
      throw wrappingTokenInvalid();
    }
    return { ...record, sealedPayload: null };
  };
}
