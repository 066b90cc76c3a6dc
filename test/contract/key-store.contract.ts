/**
 * The KeyStore contract: one suite, run against every adapter (SQLite on a real file, memory).
 * It pins the port's invariants (key-store.ts header) plus the semantics both adapters share:
 * gap-free versions under concurrency, Vault's trim rules, final material erasure, root-term
 * bookkeeping, compare-and-set re-wrap, and records returned as copies.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../vault/src/core/errors.js';
import { DEFAULT_KEY_CONFIG, type KeyStore, type NewTransitKey } from '../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName, parseKeyVersion, type KeyName } from '../../vault/src/core/types.js';

export interface KeyStoreUnderTest {
  readonly store: KeyStore;
  readonly cleanup: () => Promise<void>;
}

const prod = parseEnvironment('prod');
const dev = parseEnvironment('dev');
const T0 = new Date('2024-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const blob = (): Buffer => randomBytes(40); // size of an RFC 5649 wrap of a 256-bit key
const v = parseKeyVersion;

function newKey(name: string, over: Partial<NewTransitKey> = {}): NewTransitKey {
  return {
    env: prod,
    name: parseKeyName(name),
    type: 'aes256-gcm96',
    derived: false,
    config: DEFAULT_KEY_CONFIG,
    firstVersion: { wrappedKek: blob(), rootTerm: 1 },
    createdAt: T0,
    ...over,
  };
}

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'KeywardError', code });
}

export function describeKeyStoreContract(name: string, make: () => Promise<KeyStoreUnderTest>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let sut: KeyStoreUnderTest;
    let store: KeyStore;
    beforeEach(async () => {
      sut = await make();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    /** Creates `name` and appends versions until it has `count`. */
    async function keyWithVersions(keyName: string, count: number, rootTerm = 1): Promise<KeyName> {
      const k = newKey(keyName, { firstVersion: { wrappedKek: blob(), rootTerm } });
      expect(await store.createKey(k)).toBe(true);
      for (let i = 2; i <= count; i++) await store.appendKeyVersion(prod, k.name, blob(), rootTerm, at(i));
      return k.name;
    }

    describe('keys', () => {
      it('creates a key with version 1 and reads it back field for field', async () => {
        const k = newKey('payments', { derived: true, config: { ...DEFAULT_KEY_CONFIG, exportable: true, autoRotatePeriodSeconds: 3600 } });
        expect(await store.createKey(k)).toBe(true);
        const got = await store.getKey(prod, k.name);
        expect(got).toEqual({
          env: prod,
          name: k.name,
          type: 'aes256-gcm96',
          derived: true,
          state: 'active',
          config: { ...DEFAULT_KEY_CONFIG, exportable: true, autoRotatePeriodSeconds: 3600 },
          latestVersion: 1,
          minAvailableVersion: 1,
          createdAt: T0,
          updatedAt: T0,
          versions: [{ version: 1, wrappedKek: k.firstVersion.wrappedKek, rootTerm: 1, createdAt: T0, state: 'active' }],
          deletionDeadline: null,
          lastRotatedAt: T0,
        });
      });

      it('returns null for a key that does not exist', async () => {
        expect(await store.getKey(prod, parseKeyName('nope'))).toBeNull();
      });

      it('refuses a duplicate create with false and keeps the original', async () => {
        const first = newKey('dup');
        expect(await store.createKey(first)).toBe(true);
        expect(await store.createKey(newKey('dup', { derived: true, createdAt: at(5) }))).toBe(false);
        const got = await store.getKey(prod, first.name);
        expect(got?.derived).toBe(false);
        expect(got?.createdAt).toEqual(T0);
        expect(got?.versions).toHaveLength(1);
        expect(got?.versions[0]?.wrappedKek).toEqual(first.firstVersion.wrappedKek);
      });

      it('keeps environments apart: same name in two environments, lists per environment, sorted', async () => {
        await store.createKey(newKey('b'));
        await store.createKey(newKey('a'));
        await store.createKey(newKey('c', { env: dev }));
        expect(await store.createKey(newKey('b', { env: dev }))).toBe(true);
        expect(await store.listKeys(prod)).toEqual(['a', 'b']);
        expect(await store.listKeys(dev)).toEqual(['b', 'c']);
        expect(await store.listKeys(parseEnvironment('staging'))).toEqual([]);
        await store.appendKeyVersion(dev, parseKeyName('b'), blob(), 1, at(1));
        expect((await store.getKey(prod, parseKeyName('b')))?.latestVersion).toBe(1);
      });

      it('deletes a key with its versions; a re-created key starts again at version 1', async () => {
        const keyName = await keyWithVersions('gone', 3, 7);
        expect(await store.deleteKey(prod, keyName)).toBe(true);
        expect(await store.getKey(prod, keyName)).toBeNull();
        expect(await store.listKeys(prod)).toEqual([]);
        expect(await store.listVersionsWrappedUnder(prod, 7, 100)).toEqual([]);
        expect(await store.deleteKey(prod, keyName)).toBe(false);
        expect(await store.createKey(newKey('gone'))).toBe(true);
        const again = await store.getKey(prod, keyName);
        expect(again?.versions.map((x) => x.version)).toEqual([1]);
        expect(await store.appendKeyVersion(prod, keyName, blob(), 1, at(9))).toBe(2);
      });
    });

    describe('versions', () => {
      it('appends versions sequentially and records the rotation time', async () => {
        const keyName = await keyWithVersions('seq', 1);
        expect(await store.appendKeyVersion(prod, keyName, blob(), 1, at(10))).toBe(2);
        expect(await store.appendKeyVersion(prod, keyName, blob(), 2, at(20))).toBe(3);
        const got = await store.getKey(prod, keyName);
        expect(got?.latestVersion).toBe(3);
        expect(got?.lastRotatedAt).toEqual(at(20));
        expect(got?.versions.map((x) => [x.version, x.rootTerm, x.state])).toEqual([
          [1, 1, 'active'],
          [2, 1, 'active'],
          [3, 2, 'active'],
        ]);
        expect(got?.versions[2]?.createdAt).toEqual(at(20));
      });

      it('rejects an append to a missing key with ERR_NOT_FOUND', async () => {
        await expectCode(store.appendKeyVersion(prod, parseKeyName('missing'), blob(), 1, T0), 'ERR_NOT_FOUND');
      });

      it('gives 50 concurrent appends the versions 2..51, each exactly once', async () => {
        const keyName = await keyWithVersions('busy', 1);
        const blobs = Array.from({ length: 50 }, blob);
        const versions = await Promise.all(blobs.map((b, i) => store.appendKeyVersion(prod, keyName, b, 1, at(i + 1))));
        expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
        const got = await store.getKey(prod, keyName);
        expect(got?.latestVersion).toBe(51);
        expect(got?.versions.map((x) => x.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
        // Each returned version holds the blob of the call that got it.
        versions.forEach((ver, i) => expect(got?.versions[ver - 1]?.wrappedKek).toEqual(blobs[i]));
      });

      it('sets a version state and refuses to revive a destroyed version', async () => {
        const keyName = await keyWithVersions('vs', 3);
        await store.setVersionState(prod, keyName, v(2), 'disabled', at(30));
        let got = await store.getKey(prod, keyName);
        expect(got?.versions.map((x) => x.state)).toEqual(['active', 'disabled', 'active']);
        expect(got?.updatedAt).toEqual(at(30));
        await store.setVersionState(prod, keyName, v(2), 'active', at(31));
        await store.setVersionState(prod, keyName, v(1), 'destroyed', at(32));
        got = await store.getKey(prod, keyName);
        expect(got?.versions[0]).toMatchObject({ version: 1, state: 'destroyed', wrappedKek: null });
        expect(got?.versions[1]).toMatchObject({ version: 2, state: 'active' });
        await expectCode(store.setVersionState(prod, keyName, v(1), 'active', at(33)), 'ERR_CONFLICT');
        await store.setVersionState(prod, keyName, v(1), 'destroyed', at(34)); // idempotent
        await expectCode(store.setVersionState(prod, keyName, v(9), 'disabled', at(35)), 'ERR_NOT_FOUND');
        await expectCode(store.setVersionState(prod, parseKeyName('missing'), v(1), 'disabled', at(35)), 'ERR_NOT_FOUND');
      });
    });

    describe('key state and config', () => {
      it('patches only the given config fields and returns the updated record', async () => {
        const keyName = await keyWithVersions('cfg', 2);
        const updated = await store.updateKeyConfig(prod, keyName, { minDecryptionVersion: 2, deletionAllowed: true }, at(40));
        expect(updated.config).toEqual({ ...DEFAULT_KEY_CONFIG, minDecryptionVersion: 2, deletionAllowed: true });
        expect(updated.updatedAt).toEqual(at(40));
        expect(updated.versions.map((x) => x.version)).toEqual([1, 2]);
        const again = await store.updateKeyConfig(prod, keyName, { maxVersions: 10 }, at(41));
        expect(again.config).toEqual({ ...DEFAULT_KEY_CONFIG, minDecryptionVersion: 2, deletionAllowed: true, maxVersions: 10 });
        expect(await store.getKey(prod, keyName)).toEqual(again);
      });

      it('rejects a config patch on a missing key or with an invalid value', async () => {
        await expectCode(store.updateKeyConfig(prod, parseKeyName('missing'), { exportable: true }, T0), 'ERR_NOT_FOUND');
        const keyName = await keyWithVersions('badcfg', 1);
        await expectCode(store.updateKeyConfig(prod, keyName, { minDecryptionVersion: -1 }, T0), 'ERR_INVALID_INPUT');
        await expectCode(store.updateKeyConfig(prod, keyName, { maxVersions: 1.5 }, T0), 'ERR_INVALID_INPUT');
        expect((await store.getKey(prod, keyName))?.config).toEqual(DEFAULT_KEY_CONFIG);
      });

      it('sets key state with a deletion deadline and clears it again', async () => {
        const keyName = await keyWithVersions('life', 1);
        await store.setKeyState(prod, keyName, 'pending_deletion', at(86_400), at(50));
        let got = await store.getKey(prod, keyName);
        expect(got).toMatchObject({ state: 'pending_deletion', deletionDeadline: at(86_400), updatedAt: at(50) });
        await store.setKeyState(prod, keyName, 'active', null, at(51));
        got = await store.getKey(prod, keyName);
        expect(got).toMatchObject({ state: 'active', deletionDeadline: null });
        await expectCode(store.setKeyState(prod, parseKeyName('missing'), 'disabled', null, T0), 'ERR_NOT_FOUND');
      });

      it('erases every blob of a destroyed key, refuses to revive it or append to it', async () => {
        const keyName = await keyWithVersions('burn', 3, 4);
        await store.setKeyState(prod, keyName, 'destroyed', null, at(60));
        const got = await store.getKey(prod, keyName);
        expect(got?.state).toBe('destroyed');
        expect(got?.versions.map((x) => [x.state, x.wrappedKek])).toEqual([
          ['destroyed', null],
          ['destroyed', null],
          ['destroyed', null],
        ]);
        expect(await store.listVersionsWrappedUnder(prod, 4, 10)).toEqual([]);
        await expectCode(store.setKeyState(prod, keyName, 'active', null, at(61)), 'ERR_CONFLICT');
        await expectCode(store.appendKeyVersion(prod, keyName, blob(), 4, at(62)), 'ERR_CONFLICT');
      });
    });

    describe('trim', () => {
      it('drops versions below the new minimum and raises minAvailableVersion', async () => {
        const keyName = await keyWithVersions('trim', 5);
        await store.updateKeyConfig(prod, keyName, { minDecryptionVersion: 4 }, at(70));
        await store.trimVersions(prod, keyName, 3, at(71));
        const got = await store.getKey(prod, keyName);
        expect(got?.minAvailableVersion).toBe(3);
        expect(got?.latestVersion).toBe(5);
        expect(got?.updatedAt).toEqual(at(71));
        expect(got?.versions.map((x) => x.version)).toEqual([3, 4, 5]);
        await expectCode(store.setVersionState(prod, keyName, v(2), 'disabled', at(72)), 'ERR_NOT_FOUND');
        await store.trimVersions(prod, keyName, 3, at(73)); // same minimum again: allowed, no change
        expect((await store.getKey(prod, keyName))?.versions.map((x) => x.version)).toEqual([3, 4, 5]);
        expect(await store.appendKeyVersion(prod, keyName, blob(), 1, at(74))).toBe(6);
      });

      it('refuses to lower the minimum, to pass min_decryption_version, min_encryption_version or latest', async () => {
        const keyName = await keyWithVersions('refuse', 5);
        await store.updateKeyConfig(prod, keyName, { minDecryptionVersion: 3 }, at(80));
        await store.trimVersions(prod, keyName, 2, at(81));
        await expectCode(store.trimVersions(prod, keyName, 1, at(82)), 'ERR_CONFLICT');
        await expectCode(store.trimVersions(prod, keyName, 4, at(82)), 'ERR_CONFLICT');
        await store.updateKeyConfig(prod, keyName, { minDecryptionVersion: 9 }, at(83));
        await expectCode(store.trimVersions(prod, keyName, 6, at(84)), 'ERR_CONFLICT');
        await store.updateKeyConfig(prod, keyName, { minEncryptionVersion: 3 }, at(85));
        await expectCode(store.trimVersions(prod, keyName, 4, at(86)), 'ERR_CONFLICT');
        await expectCode(store.trimVersions(prod, keyName, 0, at(86)), 'ERR_INVALID_INPUT');
        await expectCode(store.trimVersions(prod, parseKeyName('missing'), 1, at(86)), 'ERR_NOT_FOUND');
        const got = await store.getKey(prod, keyName);
        expect(got?.minAvailableVersion).toBe(2);
        expect(got?.versions.map((x) => x.version)).toEqual([2, 3, 4, 5]);
      });
    });

    describe('root terms', () => {
      it('records root terms idempotently, reports the newest active one, lists them ascending', async () => {
        expect(await store.getActiveRoot(prod)).toBeNull();
        await store.putRoot(prod, 1, 'active', at(1));
        await store.putRoot(prod, 1, 'retired', at(2)); // no effect: term 1 is already recorded
        expect(await store.getActiveRoot(prod)).toEqual({ env: prod, term: 1, state: 'active', installedAt: at(1), retiredAt: null });
        await store.putRoot(prod, 2, 'active', at(3));
        expect((await store.getActiveRoot(prod))?.term).toBe(2);
        await store.setRootState(prod, 1, 'retired', at(4));
        await store.putRoot(dev, 5, 'active', at(5));
        expect(await store.listRoots(prod)).toEqual([
          { env: prod, term: 1, state: 'retired', installedAt: at(1), retiredAt: at(4) },
          { env: prod, term: 2, state: 'active', installedAt: at(3), retiredAt: null },
        ]);
        expect((await store.getActiveRoot(dev))?.term).toBe(5);
        await store.setRootState(prod, 2, 'retiring', at(6));
        expect(await store.getActiveRoot(prod)).toBeNull();
        await expectCode(store.setRootState(prod, 3, 'retired', at(7)), 'ERR_NOT_FOUND');
      });

      it('refuses to destroy a term that still wraps a blob, and to revive a destroyed term', async () => {
        await store.putRoot(prod, 1, 'active', T0);
        await store.putRoot(prod, 2, 'active', T0);
        const keyName = await keyWithVersions('rooted', 1, 1);
        await expectCode(store.setRootState(prod, 1, 'destroyed', at(1)), 'ERR_CONFLICT');
        expect(await store.replaceWrappedKek(prod, keyName, v(1), 1, 2, blob())).toBe(true);
        await store.setRootState(prod, 1, 'destroyed', at(2));
        expect((await store.listRoots(prod))[0]).toMatchObject({ term: 1, state: 'destroyed', retiredAt: at(2) });
        await expectCode(store.setRootState(prod, 1, 'active', at(3)), 'ERR_CONFLICT');
      });

      it('lists blobs wrapped under a term in batches until re-wrapping has moved them all', async () => {
        await keyWithVersions('a', 4, 1);
        await keyWithVersions('b', 3, 1);
        const c = await keyWithVersions('c', 2, 2);
        await store.setVersionState(prod, parseKeyName('a'), v(2), 'destroyed', at(1)); // no blob: never listed
        await store.createKey(newKey('d', { env: dev })); // other environment: never listed
        const first = await store.listVersionsWrappedUnder(prod, 1, 3);
        expect(first.map((r) => [r.name, r.version])).toEqual([
          ['a', 1],
          ['a', 3],
          ['a', 4],
        ]);
        const seen: string[] = [];
        for (let round = 0; round < 10; round++) {
          const batch = await store.listVersionsWrappedUnder(prod, 1, 3);
          if (batch.length === 0) break;
          expect(batch.length).toBeLessThanOrEqual(3);
          for (const r of batch) {
            expect(r.wrappedKek).toHaveLength(40);
            expect(await store.replaceWrappedKek(prod, r.name, r.version, 1, 2, blob())).toBe(true);
            seen.push(`${r.name}:${r.version}`);
          }
        }
        expect(seen).toEqual(['a:1', 'a:3', 'a:4', 'b:1', 'b:2', 'b:3']);
        expect(await store.listVersionsWrappedUnder(prod, 1, 3)).toEqual([]);
        expect((await store.listVersionsWrappedUnder(prod, 2, 100)).length).toBe(8);
        expect((await store.getKey(prod, c))?.versions.map((x) => x.rootTerm)).toEqual([2, 2]);
        await expectCode(store.listVersionsWrappedUnder(prod, 1, 0), 'ERR_INVALID_INPUT');
      });

      it('re-wraps as a compare-and-set: a second replace with the stale term returns false', async () => {
        const keyName = await keyWithVersions('cas', 2, 1);
        const fresh = blob();
        expect(await store.replaceWrappedKek(prod, keyName, v(2), 1, 2, fresh)).toBe(true);
        expect(await store.replaceWrappedKek(prod, keyName, v(2), 1, 3, blob())).toBe(false);
        const got = await store.getKey(prod, keyName);
        expect(got?.versions[1]).toMatchObject({ version: 2, rootTerm: 2, wrappedKek: fresh });
        expect(got?.versions[0]?.rootTerm).toBe(1);
        expect(await store.replaceWrappedKek(prod, keyName, v(9), 1, 2, blob())).toBe(false);
        expect(await store.replaceWrappedKek(prod, parseKeyName('missing'), v(1), 1, 2, blob())).toBe(false);
        await store.setVersionState(prod, keyName, v(1), 'destroyed', at(1));
        expect(await store.replaceWrappedKek(prod, keyName, v(1), 1, 2, blob())).toBe(false);
        expect((await store.getKey(prod, keyName))?.versions[0]).toMatchObject({ wrappedKek: null, rootTerm: 1 });
      });

      it('replaceWrappedKeks re-wraps a batch in one call, each item a compare-and-set on the old term', async () => {
        await store.putRoot(prod, 1, 'active', T0);
        await store.createKey(newKey('batch-k'));
        await store.appendKeyVersion(prod, parseKeyName('batch-k'), blob(), 1, T0);
        const items = [
          { name: parseKeyName('batch-k'), version: v(1), wrappedKek: blob() },
          { name: parseKeyName('batch-k'), version: v(2), wrappedKek: blob() },
        ];
        expect(await store.replaceWrappedKeks(prod, 1, 2, items)).toEqual([true, true]);
        // Already moved: the same CAS from term 1 fails for both.
        expect(await store.replaceWrappedKeks(prod, 1, 3, items)).toEqual([false, false]);
        const key = await store.getKey(prod, parseKeyName('batch-k'));
        expect(key?.versions.map((x) => x.rootTerm)).toEqual([2, 2]);
        expect(key?.versions.map((x) => x.wrappedKek)).toEqual(items.map((i) => i.wrappedKek));
      });

      it('lets exactly one of two racing re-wraps of one version win', async () => {
        const keyName = await keyWithVersions('race', 1, 1);
        const results = await Promise.all([
          store.replaceWrappedKek(prod, keyName, v(1), 1, 2, blob()),
          store.replaceWrappedKek(prod, keyName, v(1), 1, 2, blob()),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('lifecycle', () => {
      it('appends a scheduled version only when due, exactly once for one due period', async () => {
        const name = await keyWithVersions('sched', 1);
        const dueBefore = at(100);
        expect(await store.appendKeyVersionIfDue(prod, name, blob(), 1, at(200), at(-1))).toBeNull();
        const results = await Promise.all([1, 2, 3, 4].map(() => store.appendKeyVersionIfDue(prod, name, blob(), 1, at(200), dueBefore)));
        expect(results.filter((r) => r !== null)).toEqual([2]);
        const k = await store.getKey(prod, name);
        expect(k?.latestVersion).toBe(2);
        expect(k?.lastRotatedAt).toEqual(at(200));
      });

      it('does not rotate a key that is not active', async () => {
        const name = await keyWithVersions('inactive', 1);
        await store.setKeyState(prod, name, 'disabled', null, at(1));
        expect(await store.appendKeyVersionIfDue(prod, name, blob(), 1, at(200), at(100))).toBeNull();
        await expectCode(store.appendKeyVersionIfDue(prod, parseKeyName('missing'), blob(), 1, at(200), at(100)), 'ERR_NOT_FOUND');
      });

      it('moves key state only from an expected state; destroying erases the blobs', async () => {
        const name = await keyWithVersions('cas', 2);
        expect(await store.transitionKeyState(prod, name, ['disabled'], 'active', null, at(1))).toBe(false);
        expect(await store.transitionKeyState(prod, name, ['active'], 'pending_deletion', at(99), at(1))).toBe(true);
        expect((await store.getKey(prod, name))?.deletionDeadline).toEqual(at(99));
        expect(await store.transitionKeyState(prod, name, ['pending_deletion'], 'destroyed', null, at(2))).toBe(true);
        const k = await store.getKey(prod, name);
        expect(k?.state).toBe('destroyed');
        expect(k?.versions.map((x) => x.wrappedKek)).toEqual([null, null]);
        expect(await store.transitionKeyState(prod, name, ['destroyed'], 'active', null, at(3))).toBe(false);
        await expectCode(store.transitionKeyState(prod, parseKeyName('missing'), ['active'], 'disabled', null, at(1)), 'ERR_NOT_FOUND');
      });

      it('counts blobs under a term and records root rotation progress', async () => {
        await keyWithVersions('a', 3, 1);
        expect(await store.countVersionsWrappedUnder(prod, 1)).toBe(3);
        expect(await store.countVersionsWrappedUnder(dev, 1)).toBe(0);
        expect(await store.getRootRotation(prod)).toBeNull();
        const job = { env: prod, fromTerm: 1, toTerm: 2, total: 3, done: 0, startedAt: at(1), finishedAt: null };
        await store.putRootRotation(job);
        await store.putRootRotation({ ...job, done: 3, finishedAt: at(5) });
        expect(await store.getRootRotation(prod)).toEqual({ ...job, done: 3, finishedAt: at(5) });
        await store.putRootRotation({ env: prod, fromTerm: 2, toTerm: 3, total: 0, done: 0, startedAt: at(10), finishedAt: null });
        expect((await store.getRootRotation(prod))?.fromTerm).toBe(2);
      });

      it('grants a lease to one holder at a time until it expires or is released', async () => {
        expect(await store.acquireLease('job', 'a', at(0), 10_000)).toBe(true);
        expect(await store.acquireLease('job', 'b', at(5), 10_000)).toBe(false);
        expect(await store.acquireLease('job', 'a', at(5), 10_000)).toBe(true); // renewal, until 15 s
        expect(await store.acquireLease('job', 'b', at(14), 10_000)).toBe(false);
        expect(await store.acquireLease('job', 'b', at(15), 10_000)).toBe(true); // expired: taken over
        await store.releaseLease('job', 'a'); // no longer a's: no effect
        expect(await store.acquireLease('job', 'a', at(16), 10_000)).toBe(false);
        await store.releaseLease('job', 'b');
        expect(await store.acquireLease('job', 'a', at(16), 10_000)).toBe(true);
        const racers = await Promise.all(['x', 'y', 'z'].map((h) => store.acquireLease('race', h, at(0), 1000)));
        expect(racers.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('copies', () => {
      it('returns records whose mutation does not change the store', async () => {
        const k = newKey('copy');
        const original = Buffer.from(k.firstVersion.wrappedKek);
        await store.createKey(k);
        k.firstVersion.wrappedKek.fill(0); // the caller's input buffer is not aliased either
        const got = await store.getKey(prod, k.name);
        if (!got) throw new Error('missing');
        got.versions[0]?.wrappedKek?.fill(0xff);
        (got.versions as unknown as unknown[]).push({ version: 99 });
        (got.config as { exportable: boolean }).exportable = true;
        (got as { latestVersion: number }).latestVersion = 42;
        got.createdAt.setTime(0);
        const listed = await store.listVersionsWrappedUnder(prod, 1, 10);
        listed[0]?.wrappedKek.fill(0xee);
        const again = await store.getKey(prod, k.name);
        expect(again?.versions).toHaveLength(1);
        expect(again?.versions[0]?.wrappedKek).toEqual(original);
        expect(again?.config.exportable).toBe(false);
        expect(again?.latestVersion).toBe(1);
        expect(again?.createdAt).toEqual(T0);

        const cfg = await store.updateKeyConfig(prod, k.name, { maxVersions: 3 }, at(1));
        (cfg.config as { maxVersions: number }).maxVersions = 100;
        expect((await store.getKey(prod, k.name))?.config.maxVersions).toBe(3);

        await store.putRoot(prod, 1, 'active', T0);
        const root = await store.getActiveRoot(prod);
        root?.installedAt.setTime(0);
        expect((await store.getActiveRoot(prod))?.installedAt).toEqual(T0);
      });
    });

    it('rejects calls after close()', async () => {
      await store.close();
      await expectCode(store.getKey(prod, parseKeyName('x')), 'ERR_INTERNAL');
    });
  });
}
