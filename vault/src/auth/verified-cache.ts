/**
 * A bounded LRU of tokens that passed a full verification — signature and claims (jwt-verifier.ts)
 * AND a match against their store record — keyed by SHA-256 of the token (the cache never holds a
 * usable token). An entry keeps the verified claims and that record. It saves the signature check,
 * the full record read and the unverified decode of `env`; it never saves the revocation check:
 * TokenService reads the record's status from the store and checks the environment on every call,
 * because another process may revoke. Keeping the record is sound because records are write-once
 * apart from their revocation and uses (TokenStore port), which are exactly what is read every time.
 * Entries die at the token's `exp` (no clock tolerance here: stricter than jose, so a cached answer
 * is never more permissive than a fresh one).
 */
import crypto from 'node:crypto';
import type { TokenRecord } from '../core/ports/token-store.js';
import type { KeywardClaims } from './jwt-signer.js';

export interface VerifiedToken {
  readonly claims: KeywardClaims;
  /** The store record the claims were matched against (its write-once fields). */
  readonly record: TokenRecord;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();
  private readonly byJti = new Map<string, string>();

  constructor(private readonly maxEntries = 10_000) {}

  private static digest(token: string): string {
    // One-shot hash: about half the CPU of createHash().update().digest() for a token-sized input.
    return crypto.hash('sha256', token, 'base64url');
  }

  get(token: string, nowMs: number): VerifiedToken | undefined {
    const digest = VerifiedTokenCache.digest(token);
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    if (entry.claims.exp * 1000 <= nowMs) {
      this.deleteDigest(digest, entry.claims.jti);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks it most recently used.
    this.entries.delete(digest);
    this.entries.set(digest, entry);
    return entry;
  }

  set(token: string, entry: VerifiedToken): void {
    const digest = VerifiedTokenCache.digest(token);
    this.entries.delete(digest);
    this.entries.set(digest, entry);
    this.byJti.set(entry.claims.jti, digest);
    while (this.entries.size > this.maxEntries) {
      const [oldest, old] = this.entries.entries().next().value as [string, VerifiedToken];
      this.deleteDigest(oldest, old.claims.jti);
    }
  }

  private deleteDigest(digest: string, jti: string): void {
    this.entries.delete(digest);
    if (this.byJti.get(jti) === digest) this.byJti.delete(jti);
  }

  dropJti(jti: string): void {
    const digest = this.byJti.get(jti);
    if (digest !== undefined) this.deleteDigest(digest, jti);
  }

  clear(): void {
    this.entries.clear();
    this.byJti.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
