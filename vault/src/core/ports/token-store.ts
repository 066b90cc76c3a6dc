/**
 * TokenStore port: the record of every token Keyward issued and of the JWT signing keys. The store,
 * not the JWT, is the source of truth for whether a token is still good: a token verifies only if its
 * signature is valid AND its record exists and is not revoked. That is what makes revocation hold at
 * once and survive restarts, also across several processes sharing one database (DESIGN.md §5).
 *
 * Invariants every adapter keeps (checked by test/contract/token-store.contract.ts):
 * - `jti` and `accessor` are each unique; recording a duplicate fails with ERR_ALREADY_EXISTS.
 * - A child can never be recorded under a revoked (or unknown) parent: `recordIssued` fails with
 *   ERR_CONFLICT, in the same transaction that would insert it. Together with the cascade in
 *   `revokeWhere` this closes the race "parent revoked while a child is being issued".
 * - Revocation is final: `revokedAt` is set once and never cleared or moved.
 * - Records are write-once: after `recordIssued`, only `revokedAt` (once) and the uses taken by
 *   `consumeUse` ever change; a record leaves only by `purgeExpired`. So a verifier that matched a
 *   record against a token once needs, per request, only `tokenStatus` (TokenService's cache does).
 * - `revokeWhere` revokes every token matching the filter AND all of their descendants (Vault's
 *   token tree semantics), in one transaction, and returns how many tokens it newly revoked.
 * - At most one signing key is 'active' after `activateSigningKey`; 'retired' is final.
 * - Every method that resolves after writing has made the write durable.
 * - Records are returned as fresh objects; callers cannot mutate store state through them.
 */
import type { PublicJwk } from './hsm.js';

export interface TokenRecord {
  readonly jti: string;
  /** `kwa_…`: random, stored only here; lets operators look up/revoke a token without holding it. */
  readonly accessor: string;
  readonly subject: string;
  readonly authMethod: string;
  readonly role: string | null;
  readonly policies: readonly string[];
  /** An environment (Vault namespace) name, or '*' for the root token only. */
  readonly env: string;
  readonly parentJti: string | null;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  /** Vault's num_uses (0/absent = unlimited); each use is taken with `consumeUse`. */
  readonly numUses?: number;
  readonly meta: Readonly<Record<string, string>>;
}

/** The part of a record that can change after it is issued (`tokenStatus`). */
export type TokenStatus = 'active' | 'revoked' | 'unknown';

export interface RevokedInfo {
  readonly revokedAt: Date;
  readonly reason: string;
}

/** Filters are ANDed; at least one must be given (an empty filter would revoke everything). */
export interface RevokeFilter {
  /** This token (and, by cascade, its descendants). */
  readonly jti?: string;
  readonly subject?: string;
  readonly role?: string;
  readonly authMethod?: string;
  /** Direct children of this token (and, by cascade, their descendants) — not the token itself. */
  readonly parentJti?: string;
  /** Only tokens of this environment match (descendants follow by cascade). */
  readonly env?: string;
}

export type SigningKeyState = 'active' | 'verify-only' | 'retired';

export interface SigningKeyRecord {
  /** RFC 7638 JWK thumbprint (SHA-256) of `publicJwk`. */
  readonly kid: string;
  /** HSM object label, `keyward-jwt-es256-<n>`. */
  readonly label: string;
  readonly alg: 'ES256';
  readonly publicJwk: PublicJwk;
  readonly createdAt: Date;
  /** When a verify-only key may be retired (no token signed by it can still be valid); null while active. */
  readonly retiresAt: Date | null;
  readonly state: SigningKeyState;
}

export interface TokenStore {
  /** Records a freshly issued token. ERR_ALREADY_EXISTS on duplicate jti/accessor; ERR_CONFLICT if the parent is revoked or unknown. */
  recordIssued(record: TokenRecord): Promise<void>;
  getByJti(jti: string): Promise<TokenRecord | null>;
  getByAccessor(accessor: string): Promise<TokenRecord | null>;
  /** Revokes one token (no cascade: Vault's revoke-orphan). Returns false if unknown or already revoked. */
  revoke(jti: string, at: Date, reason: string): Promise<boolean>;
  /** Revokes every match and all their descendants; returns the number newly revoked. */
  revokeWhere(filter: RevokeFilter, at: Date, reason?: string): Promise<number>;
  /**
   * The per-request revocation check: 'unknown' when there is no record (never issued, or purged),
   * 'revoked' once revoked, else 'active'. Read from the storage on every call, like `getByJti`, so
   * a revocation through any handle on the same storage (another process) is seen at once.
   */
  tokenStatus(jti: string): Promise<TokenStatus>;
  /** Fail-closed: true unless the token is recorded and not revoked. */
  isRevoked(jti: string): Promise<boolean>;
  /**
   * Take one use of a use-limited token, atomically (several processes share the store): false
   * when none is left, and the token is then revoked (reason 'num-uses-exhausted'), as in Vault.
   */
  consumeUse(jti: string, at: Date): Promise<boolean>;
  getRevocation(jti: string): Promise<RevokedInfo | null>;
  /** Tokens issued to `subject`, newest first, revoked ones included. */
  listBySubject(subject: string, limit?: number): Promise<TokenRecord[]>;
  /** Deletes records that expired before `before`; returns how many. Revoked or not, they can no longer verify. */
  purgeExpired(before: Date): Promise<number>;

  /** Records a signing key; returns false (and writes nothing) if the kid or label is already recorded. */
  putSigningKey(key: SigningKeyRecord): Promise<boolean>;
  /** All signing keys, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Atomically records `next` as the active key and demotes every other active key to 'verify-only'
   * with `previousRetiresAt`, so at most one key is active even when two processes rotate at once.
   * ERR_ALREADY_EXISTS if `next`'s kid or label is already recorded.
   */
  activateSigningKey(next: SigningKeyRecord, previousRetiresAt: Date): Promise<void>;
  /** ERR_NOT_FOUND if the kid is unknown. `retired` is final: a retired key never comes back. */
  setSigningKeyState(kid: string, state: SigningKeyState, retiresAt: Date | null): Promise<void>;

  close(): Promise<void>;
}
