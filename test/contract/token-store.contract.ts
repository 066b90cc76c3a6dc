/**
 * Contract suite for the TokenStore port, run against every adapter (MemoryTokenStore, SqliteTokenStore).
 * Each invariant in the port header has a test here with a matching title.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SigningKeyRecord, TokenRecord, TokenStore } from '../../vault/src/core/ports/token-store.js';

export interface TokenStoreFixture {
  readonly store: TokenStore;
  /** A second handle on the same storage (another process, or after a restart), if the adapter has one. */
  readonly reopen?: () => Promise<TokenStore>;
  readonly cleanup: () => Promise<void>;
}

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

let seq = 0;
export function tokenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  seq += 1;
  return {
    jti: `jti-${seq}`,
    accessor: `kwa_acc-${seq}`,
    subject: 'alice',
    authMethod: 'approle',
    role: 'web',
    policies: ['read-secrets'],
    env: 'prod',
    parentJti: null,
    issuedAt: at(seq),
    expiresAt: at(3600 + seq),
    revokedAt: null,
    meta: { team: 'payments' },
    ...overrides,
  };
}

function keyRecord(n: number, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid: `kid-${n}`,
    label: `keyward-jwt-es256-${n}`,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: `x${n}`, y: `y${n}` },
    createdAt: at(n),
    retiresAt: null,
    state: 'active',
    ...overrides,
  };
}

export function tokenStoreContract(name: string, make: () => Promise<TokenStoreFixture>): void {
  describe(`TokenStore contract: ${name}`, () => {
    let fx: TokenStoreFixture;
    let store: TokenStore;
    beforeEach(async () => {
      fx = await make();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('records a token and reads it back by jti and by accessor, field for field', async () => {
      const rec = tokenRecord({ numUses: 3 });
      await store.recordIssued(rec);
      expect(await store.getByJti(rec.jti)).toEqual(rec);
      expect(await store.getByAccessor(rec.accessor)).toEqual(rec);
      expect(await store.getByJti('nope')).toBeNull();
      expect(await store.getByAccessor('kwa_nope')).toBeNull();
    });

    it('keeps a null role and no numUses as they were recorded', async () => {
      const rec = tokenRecord({ role: null, env: '*', policies: ['root'], meta: {} });
      await store.recordIssued(rec);
      const got = await store.getByJti(rec.jti);
      expect(got).toEqual(rec);
      expect(got && 'numUses' in got).toBe(false);
    });

    it('consumeUse gives a use-limited token exactly numUses uses, then revokes it; unlimited tokens never run out', async () => {
      const limited = tokenRecord({ numUses: 2 });
      const unlimited = tokenRecord({});
      await store.recordIssued(limited);
      await store.recordIssued(unlimited);
      const at = new Date('2030-01-01T00:00:00Z');
      expect(await store.consumeUse(limited.jti, at)).toBe(true);
      expect(await store.consumeUse(limited.jti, at)).toBe(true);
      expect(await store.consumeUse(limited.jti, at)).toBe(false);
      expect(await store.isRevoked(limited.jti)).toBe(true);
      expect((await store.getRevocation(limited.jti))?.reason).toBe('num-uses-exhausted');
      for (let i = 0; i < 5; i++) expect(await store.consumeUse(unlimited.jti, at)).toBe(true);
      expect(await store.consumeUse('unknown-jti', at)).toBe(false);
    });

    it('concurrent consumeUse calls never hand out more than numUses uses', async () => {
      const limited = tokenRecord({ numUses: 3 });
      await store.recordIssued(limited);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.consumeUse(limited.jti, new Date())));
      expect(results.filter(Boolean)).toHaveLength(3);
    });

    it('jti and accessor are each unique: a duplicate fails with ERR_ALREADY_EXISTS', async () => {
      const rec = tokenRecord();
      await store.recordIssued(rec);
      await expect(store.recordIssued({ ...rec, accessor: 'kwa_other' })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
      await expect(store.recordIssued({ ...rec, jti: 'other' })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    });

    it('a child can never be recorded under a revoked or unknown parent', async () => {
      const parent = tokenRecord();
      await store.recordIssued(parent);
      const child = tokenRecord({ parentJti: parent.jti });
      await store.recordIssued(child);
      await store.revoke(parent.jti, at(10), 'test');
      await expect(store.recordIssued(tokenRecord({ parentJti: parent.jti }))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
      await expect(store.recordIssued(tokenRecord({ parentJti: 'unknown' }))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    });

    it('revocation is final and keeps its first time and reason', async () => {
      const rec = tokenRecord();
      await store.recordIssued(rec);
      expect(await store.isRevoked(rec.jti)).toBe(false);
      expect(await store.revoke(rec.jti, at(5), 'first')).toBe(true);
      expect(await store.revoke(rec.jti, at(9), 'second')).toBe(false);
      expect(await store.revokeWhere({ jti: rec.jti }, at(11), 'third')).toBe(0);
      expect(await store.isRevoked(rec.jti)).toBe(true);
      expect((await store.getByJti(rec.jti))?.revokedAt).toEqual(at(5));
      expect(await store.getRevocation(rec.jti)).toEqual({ revokedAt: at(5), reason: 'first' });
      expect(await store.revoke('unknown', at(5), 'x')).toBe(false);
    });

    it('tokenStatus tells active, revoked and unknown (never issued or purged) apart', async () => {
      const live = tokenRecord();
      const gone = tokenRecord({ expiresAt: at(10) });
      await store.recordIssued(live);
      await store.recordIssued(gone);
      expect(await store.tokenStatus(live.jti)).toBe('active');
      expect(await store.tokenStatus('jti-never-issued')).toBe('unknown');
      await store.revoke(live.jti, at(5), 'test');
      expect(await store.tokenStatus(live.jti)).toBe('revoked');
      expect(await store.tokenStatus(gone.jti)).toBe('active');
      await store.purgeExpired(at(11));
      expect(await store.tokenStatus(gone.jti)).toBe('unknown');
    });

    it('tokenStatus turns revoked when consumeUse takes past the last use', async () => {
      const rec = tokenRecord({ numUses: 1 });
      await store.recordIssued(rec);
      expect(await store.consumeUse(rec.jti, at(1))).toBe(true);
      expect(await store.tokenStatus(rec.jti)).toBe('active');
      expect(await store.consumeUse(rec.jti, at(2))).toBe(false);
      expect(await store.tokenStatus(rec.jti)).toBe('revoked');
    });

    it('isRevoked fails closed: an unknown jti counts as revoked', async () => {
      expect(await store.isRevoked('never-issued')).toBe(true);
      expect(await store.getRevocation('never-issued')).toBeNull();
    });

    it('revoke (single) does not cascade to children', async () => {
      const parent = tokenRecord();
      await store.recordIssued(parent);
      const child = tokenRecord({ parentJti: parent.jti });
      await store.recordIssued(child);
      await store.revoke(parent.jti, at(5), 'orphan');
      expect(await store.isRevoked(child.jti)).toBe(false);
    });

    it('revokeWhere cascades to all descendants, recursively, and counts only newly revoked tokens', async () => {
      const root = tokenRecord();
      const c1 = tokenRecord({ parentJti: root.jti, subject: 'svc-1' });
      const c2 = tokenRecord({ parentJti: root.jti, subject: 'svc-2' });
      const g1 = tokenRecord({ parentJti: c1.jti, subject: 'svc-3' });
      const gg = tokenRecord({ parentJti: g1.jti, subject: 'svc-4' });
      const other = tokenRecord();
      for (const r of [root, c1, c2, g1, gg, other]) await store.recordIssued(r);
      await store.revoke(c2.jti, at(1), 'earlier');

      // parentJti: the children and their descendants, not the parent itself.
      expect(await store.revokeWhere({ parentJti: root.jti }, at(2))).toBe(3);
      expect(await store.isRevoked(root.jti)).toBe(false);
      for (const r of [c1, g1, gg]) expect(await store.isRevoked(r.jti)).toBe(true);
      expect((await store.getByJti(c2.jti))?.revokedAt).toEqual(at(1));

      // jti: the token and its tree.
      expect(await store.revokeWhere({ jti: root.jti }, at(3), 'tree')).toBe(1);
      expect(await store.isRevoked(other.jti)).toBe(false);
    });

    it('revokeWhere by subject, by role and by auth method revokes every match and their descendants', async () => {
      const a1 = tokenRecord({ subject: 'alice', role: 'web', authMethod: 'approle' });
      const a2 = tokenRecord({ subject: 'alice', role: 'batch', authMethod: 'approle' });
      const aChild = tokenRecord({ subject: 'svc', role: null, authMethod: 'token', parentJti: a1.jti });
      const b1 = tokenRecord({ subject: 'bob', role: 'web', authMethod: 'approle' });
      const b2 = tokenRecord({ subject: 'bob', role: 'web', authMethod: 'jwt' });
      const c1 = tokenRecord({ subject: 'carol', role: 'ops', authMethod: 'jwt' });
      for (const r of [a1, a2, aChild, b1, b2, c1]) await store.recordIssued(r);

      expect(await store.revokeWhere({ subject: 'alice' }, at(5), 'subject')).toBe(3);
      expect(await store.isRevoked(aChild.jti)).toBe(true);
      expect(await store.isRevoked(b1.jti)).toBe(false);

      expect(await store.revokeWhere({ authMethod: 'approle', role: 'web' }, at(6))).toBe(1);
      expect(await store.isRevoked(b1.jti)).toBe(true);
      expect(await store.isRevoked(b2.jti)).toBe(false);

      expect(await store.revokeWhere({ authMethod: 'jwt' }, at(7))).toBe(2);
      expect(await store.isRevoked(c1.jti)).toBe(true);
    });

    it('revokeWhere with an empty filter is refused and revokes nothing', async () => {
      const rec = tokenRecord();
      await store.recordIssued(rec);
      await expect(store.revokeWhere({}, at(1))).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
      expect(await store.isRevoked(rec.jti)).toBe(false);
    });

    it('listBySubject returns that subject\'s tokens, newest first, revoked included, within the limit', async () => {
      const r1 = tokenRecord({ subject: 'dave' });
      const r2 = tokenRecord({ subject: 'dave' });
      const r3 = tokenRecord({ subject: 'erin' });
      for (const r of [r1, r2, r3]) await store.recordIssued(r);
      await store.revoke(r1.jti, at(1), 'x');
      const list = await store.listBySubject('dave');
      expect(list.map((r) => r.jti)).toEqual([r2.jti, r1.jti]);
      expect(list[1]?.revokedAt).toEqual(at(1));
      expect((await store.listBySubject('dave', 1)).map((r) => r.jti)).toEqual([r2.jti]);
      expect(await store.listBySubject('nobody')).toEqual([]);
    });

    it('purgeExpired deletes only records that expired before the cut-off', async () => {
      const old = tokenRecord({ expiresAt: at(100) });
      const fresh = tokenRecord({ expiresAt: at(10_000) });
      await store.recordIssued(old);
      await store.recordIssued(fresh);
      expect(await store.purgeExpired(at(100))).toBe(0);
      expect(await store.purgeExpired(at(101))).toBe(1);
      expect(await store.getByJti(old.jti)).toBeNull();
      expect(await store.getByAccessor(old.accessor)).toBeNull();
      expect(await store.getByJti(fresh.jti)).not.toBeNull();
    });

    it('records are fresh objects: mutating a returned record does not change the store', async () => {
      const rec = tokenRecord();
      await store.recordIssued(rec);
      const got = (await store.getByJti(rec.jti)) as TokenRecord;
      (got.policies as string[]).push('root');
      (got.meta as Record<string, string>).team = 'evil';
      expect(await store.getByJti(rec.jti)).toEqual(rec);
    });

    it('signing keys: put is idempotent on kid and label, list is oldest first, state changes persist', async () => {
      expect(await store.putSigningKey(keyRecord(1))).toBe(true);
      expect(await store.putSigningKey(keyRecord(1))).toBe(false);
      expect(await store.putSigningKey(keyRecord(9, { label: 'keyward-jwt-es256-1' }))).toBe(false);
      expect(await store.listSigningKeys()).toEqual([keyRecord(1)]);
      await store.setSigningKeyState('kid-1', 'verify-only', at(500));
      expect(await store.listSigningKeys()).toEqual([keyRecord(1, { state: 'verify-only', retiresAt: at(500) })]);
      await expect(store.setSigningKeyState('kid-x', 'retired', null)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    });

    it('retired is final: a retired signing key cannot be made active or verify-only again', async () => {
      await store.putSigningKey(keyRecord(1));
      await store.setSigningKeyState('kid-1', 'retired', null);
      await expect(store.setSigningKeyState('kid-1', 'active', null)).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
      await expect(store.setSigningKeyState('kid-1', 'verify-only', at(1))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    });

    it('at most one signing key is active after activateSigningKey', async () => {
      await store.putSigningKey(keyRecord(1));
      await store.activateSigningKey(keyRecord(2, { createdAt: at(50) }), at(900));
      await store.activateSigningKey(keyRecord(3, { createdAt: at(60) }), at(1000));
      const keys = await store.listSigningKeys();
      expect(keys.map((k) => [k.kid, k.state, k.retiresAt])).toEqual([
        ['kid-1', 'verify-only', at(900)],
        ['kid-2', 'verify-only', at(1000)],
        ['kid-3', 'active', null],
      ]);
      await expect(store.activateSigningKey(keyRecord(3), at(1))).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
      expect((await store.listSigningKeys()).filter((k) => k.state === 'active')).toHaveLength(1);
    });

    it('revocation through one handle is seen at once through another handle on the same storage', async (ctx) => {
      if (!fx.reopen) ctx.skip();
      const rec = tokenRecord();
      await store.recordIssued(rec);
      const other = await (fx.reopen as () => Promise<TokenStore>)();
      expect(await other.isRevoked(rec.jti)).toBe(false);
      expect(await other.tokenStatus(rec.jti)).toBe('active');
      await store.revokeWhere({ subject: rec.subject }, at(3));
      expect(await other.isRevoked(rec.jti)).toBe(true);
      expect(await other.tokenStatus(rec.jti)).toBe('revoked');
      await other.close();
    });
  });
}
