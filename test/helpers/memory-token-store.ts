/**
 * MemoryTokenStore: an in-process TokenStore for unit tests. It keeps the port's contract (the same
 * suite, test/contract/token-store.contract.ts, runs against it and SqliteTokenStore): unique jti and
 * accessor, no child under a revoked parent, final revocation, cascade to descendants, fresh copies.
 * Single-threaded JS makes every method atomic, so no locking is needed.
 */
import { KeywardError, conflict, invalidInput, notFound } from '../../vault/src/core/errors.js';
import type {
  RevokeFilter,
  RevokedInfo,
  SigningKeyRecord,
  SigningKeyState,
  TokenRecord,
  TokenStatus,
  TokenStore,
} from '../../vault/src/core/ports/token-store.js';

interface StoredToken {
  usesMade?: number;
  record: TokenRecord;
  reason: string | null;
}

const copyToken = (r: TokenRecord): TokenRecord => ({
  ...r,
  policies: [...r.policies],
  meta: { ...r.meta },
  issuedAt: new Date(r.issuedAt),
  expiresAt: new Date(r.expiresAt),
  revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt),
});

const copyKey = (k: SigningKeyRecord): SigningKeyRecord => ({
  ...k,
  publicJwk: { ...k.publicJwk },
  createdAt: new Date(k.createdAt),
  retiresAt: k.retiresAt === null ? null : new Date(k.retiresAt),
});

const FILTER_FIELDS = ['jti', 'subject', 'role', 'authMethod', 'parentJti', 'env'] as const;

export class MemoryTokenStore implements TokenStore {
  private readonly tokens = new Map<string, StoredToken>();
  private readonly byAccessor = new Map<string, string>();
  private readonly keys: SigningKeyRecord[] = [];
  private closed = false;

  private assertOpen(): void {
    if (this.closed) throw new KeywardError('ERR_INTERNAL', 'token store closed');
  }

  async recordIssued(record: TokenRecord): Promise<void> {
    this.assertOpen();
    if (this.tokens.has(record.jti) || this.byAccessor.has(record.accessor)) {
      throw new KeywardError('ERR_ALREADY_EXISTS', 'recordIssued: already exists');
    }
    if (record.parentJti !== null) {
      const parent = this.tokens.get(record.parentJti);
      if (!parent || parent.record.revokedAt !== null) throw conflict('parent token is revoked or unknown');
    }
    const copy = copyToken(record);
    this.tokens.set(record.jti, { record: { ...copy, revokedAt: null }, reason: null });
    this.byAccessor.set(record.accessor, record.jti);
  }

  async getByJti(jti: string): Promise<TokenRecord | null> {
    this.assertOpen();
    const t = this.tokens.get(jti);
    return t ? copyToken(t.record) : null;
  }

  async getByAccessor(accessor: string): Promise<TokenRecord | null> {
    this.assertOpen();
    const jti = this.byAccessor.get(accessor);
    return jti === undefined ? null : this.getByJti(jti);
  }

  private markRevoked(t: StoredToken, at: Date, reason: string): boolean {
    if (t.record.revokedAt !== null) return false;
    t.record = { ...t.record, revokedAt: new Date(at) };
    t.reason = reason;
    return true;
  }

  async consumeUse(jti: string, at: Date): Promise<boolean> {
    this.assertOpen();
    const t = this.tokens.get(jti);
    if (!t || t.record.revokedAt !== null) return false;
    const limit = t.record.numUses ?? 0;
    if (limit === 0) return true;
    t.usesMade = (t.usesMade ?? 0) + 1;
    if (t.usesMade <= limit) return true;
    this.markRevoked(t, at, 'num-uses-exhausted');
    return false;
  }

  async revoke(jti: string, at: Date, reason: string): Promise<boolean> {
    this.assertOpen();
    const t = this.tokens.get(jti);
    return t ? this.markRevoked(t, at, reason) : false;
  }

  async revokeWhere(filter: RevokeFilter, at: Date, reason = 'revoked'): Promise<number> {
    this.assertOpen();
    const used = FILTER_FIELDS.filter((f) => filter[f] !== undefined);
    if (used.length === 0) throw invalidInput('revocation filter must name at least one field');
    const matches = (r: TokenRecord): boolean => used.every((f) => r[f] === filter[f]);
    const tree = new Set<string>();
    const queue = [...this.tokens.values()].filter((t) => matches(t.record)).map((t) => t.record.jti);
    while (queue.length > 0) {
      const jti = queue.shift() as string;
      if (tree.has(jti)) continue;
      tree.add(jti);
      for (const t of this.tokens.values()) if (t.record.parentJti === jti) queue.push(t.record.jti);
    }
    let count = 0;
    for (const jti of tree) {
      const t = this.tokens.get(jti);
      if (t && this.markRevoked(t, at, reason)) count += 1;
    }
    return count;
  }

  async tokenStatus(jti: string): Promise<TokenStatus> {
    this.assertOpen();
    const t = this.tokens.get(jti);
    if (!t) return 'unknown';
    return t.record.revokedAt === null ? 'active' : 'revoked';
  }

  async isRevoked(jti: string): Promise<boolean> {
    this.assertOpen();
    const t = this.tokens.get(jti);
    return !t || t.record.revokedAt !== null;
  }

  async getRevocation(jti: string): Promise<RevokedInfo | null> {
    this.assertOpen();
    const t = this.tokens.get(jti);
    if (!t || t.record.revokedAt === null) return null;
    return { revokedAt: new Date(t.record.revokedAt), reason: t.reason ?? 'revoked' };
  }

  async listBySubject(subject: string, limit = 1000): Promise<TokenRecord[]> {
    this.assertOpen();
    return [...this.tokens.values()]
      .map((t) => t.record)
      .filter((r) => r.subject === subject)
      .sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime() || (a.jti < b.jti ? -1 : a.jti > b.jti ? 1 : 0))
      .slice(0, limit)
      .map(copyToken);
  }

  async purgeExpired(before: Date): Promise<number> {
    this.assertOpen();
    let count = 0;
    for (const [jti, t] of this.tokens) {
      if (t.record.expiresAt.getTime() < before.getTime()) {
        this.tokens.delete(jti);
        this.byAccessor.delete(t.record.accessor);
        count += 1;
      }
    }
    return count;
  }

  async putSigningKey(key: SigningKeyRecord): Promise<boolean> {
    this.assertOpen();
    if (this.keys.some((k) => k.kid === key.kid || k.label === key.label)) return false;
    this.keys.push(copyKey(key));
    return true;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    this.assertOpen();
    return this.keys.map(copyKey);
  }

  async activateSigningKey(next: SigningKeyRecord, previousRetiresAt: Date): Promise<void> {
    this.assertOpen();
    if (this.keys.some((k) => k.kid === next.kid || k.label === next.label)) {
      throw new KeywardError('ERR_ALREADY_EXISTS', 'signing key already recorded');
    }
    for (let i = 0; i < this.keys.length; i += 1) {
      const k = this.keys[i] as SigningKeyRecord;
      if (k.state === 'active') this.keys[i] = { ...k, state: 'verify-only', retiresAt: new Date(previousRetiresAt) };
    }
    this.keys.push(copyKey({ ...next, state: 'active', retiresAt: null }));
  }

  async setSigningKeyState(kid: string, state: SigningKeyState, retiresAt: Date | null): Promise<void> {
    this.assertOpen();
    const i = this.keys.findIndex((k) => k.kid === kid);
    if (i < 0) throw notFound('signing key not found');
    const current = this.keys[i] as SigningKeyRecord;
    if (current.state === 'retired' && state !== 'retired') throw conflict('a retired signing key cannot be reactivated');
    this.keys[i] = { ...current, state, retiresAt: retiresAt === null ? null : new Date(retiresAt) };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
