/**
 * A bounded LRU of tokens whose signature and claims already verified, keyed by SHA-256 of the token
 * (the cache never holds a usable token). It saves only the signature check: TokenService still reads
 * the revocation state from the store and checks the environment on every call, because another
 * process may revoke. Entries die at the token's `exp` (no clock tolerance here: stricter than jose,
 * so a cached answer is never more permissive than a fresh one).
 */
import crypto from 'node:crypto';
import type { KeywardClaims } from './jwt-signer.js';

export class VerifiedTokenCache {
  private readonly entries = new Map<string, KeywardClaims>();
  private readonly byJti = new Map<string, string>();

  constructor(private readonly maxEntries = 10_000) {}

  private static digest(token: string): string {
    return crypto.createHash('sha256').update(token).digest('base64url');
  }

  get(token: string, nowMs: number): KeywardClaims | undefined {
    const digest = VerifiedTokenCache.digest(token);
    const claims = this.entries.get(digest);
    if (!claims) return undefined;
    if (claims.exp * 1000 <= nowMs) {
      this.deleteDigest(digest, claims.jti);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks it most recently used.
    this.entries.delete(digest);
    this.entries.set(digest, claims);
    return claims;
  }

  set(token: string, claims: KeywardClaims): void {
    const digest = VerifiedTokenCache.digest(token);
    this.entries.delete(digest);
    this.entries.set(digest, claims);
    this.byJti.set(claims.jti, digest);
    while (this.entries.size > this.maxEntries) {
      const [oldest, old] = this.entries.entries().next().value as [string, KeywardClaims];
      this.deleteDigest(oldest, old.jti);
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
