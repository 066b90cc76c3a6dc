/**
 * SecretStore / WrappingTokenStore rewrap methods (SQLite adapter over ':memory:', the only adapter):
 * listing by key version with a cursor, compare-and-set re-seal, and the versions still in use.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteSecretStore } from '../../../vault/src/adapters/sqlite/sqlite-secret-store.js';
import { parseEnvironment, parseSecretPath } from '../../../vault/src/core/types.js';

const env = parseEnvironment('dev');
const other = parseEnvironment('prod');
let store: SqliteSecretStore;

async function put(path: string, version: number, keyVersion: number, e = env): Promise<void> {
  const r = await store.putVersion({ env: e, path: parseSecretPath(path), version, sealedValue: Buffer.from(`sealed-${path}-${version}`), keyVersion, rootTerm: 1, createdAt: new Date() });
  expect(r.ok).toBe(true);
}

beforeEach(async () => {
  store = new SqliteSecretStore(await openDatabase({ file: ':memory:' }));
  await put('a', 1, 1);
  await put('a', 2, 2);
  await put('b', 1, 1);
  await put('c', 1, 1);
  await put('a', 1, 1, other);
});

describe('SecretStore rewrap methods', () => {
  it('lists sealed versions below a key version in (path, version) order, after a cursor, per environment', async () => {
    expect(await store.countSealedVersions(env, 2)).toBe(3);
    const first = await store.listSealedVersions(env, 2, null, 2);
    expect(first.map((r) => `${r.path}@${r.version}`)).toEqual(['a@1', 'b@1']);
    const rest = await store.listSealedVersions(env, 2, { path: 'b', version: 1 }, 10);
    expect(rest.map((r) => `${r.path}@${r.version}`)).toEqual(['c@1']);
    expect(await store.listSealedVersions(env, 3, { path: 'a', version: 1 }, 10)).toHaveLength(3);
  });

  it('replaces a sealed value only while it is still under the expected key version, and never a destroyed one', async () => {
    const p = parseSecretPath('b');
    expect(await store.replaceSealedValue(env, p, 1, 2, Buffer.from('x'), 3)).toBe(false);
    expect(await store.replaceSealedValue(env, p, 1, 1, Buffer.from('new'), 2, 5)).toBe(true);
    expect(await store.replaceSealedValue(env, p, 1, 1, Buffer.from('again'), 2)).toBe(false);
    const v = await store.getVersion(env, p, 1);
    expect(v?.version).toMatchObject({ keyVersion: 2, rootTerm: 5 });
    expect(v?.version?.sealedValue?.toString()).toBe('new');
    await store.destroyVersions(env, parseSecretPath('c'), [1], new Date());
    expect(await store.replaceSealedValue(env, parseSecretPath('c'), 1, 1, Buffer.from('y'), 2)).toBe(false);
    expect((await store.getVersion(env, parseSecretPath('c'), 1))?.version?.sealedValue).toBeNull();
  });

  it('reports the key versions stored values still use, ignoring destroyed ones', async () => {
    expect(await store.usedKeyVersions(env)).toEqual(new Set([1, 2]));
    await store.destroyVersions(env, parseSecretPath('a'), [1], new Date());
    await store.destroyVersions(env, parseSecretPath('b'), [1], new Date());
    await store.destroyVersions(env, parseSecretPath('c'), [1], new Date());
    expect(await store.usedKeyVersions(env)).toEqual(new Set([2]));
  });

  it('handles pending wrapping tokens the same way, and leaves consumed ones alone', async () => {
    const mk = (accessor: string, keyVersion: number) => ({
      idHash: Buffer.from(accessor.padEnd(32, '0')),
      accessor,
      env,
      creationPath: 'secret/data/a',
      ttlSeconds: 300,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 300_000),
      sealedPayload: Buffer.from(`p-${accessor}`),
      keyVersion,
      rootTerm: 1,
    });
    await store.putWrappingToken(mk('kwa_a', 1));
    await store.putWrappingToken(mk('kwa_b', 1));
    await store.putWrappingToken(mk('kwa_c', 2));
    await store.consumeWrappingToken(Buffer.from('kwa_b'.padEnd(32, '0')), new Date());
    expect(await store.countSealedWrappingTokens(env, 2)).toBe(1);
    expect((await store.listSealedWrappingTokens(env, 3, null, 10)).map((r) => r.accessor)).toEqual(['kwa_a', 'kwa_c']);
    expect((await store.listSealedWrappingTokens(env, 3, 'kwa_a', 10)).map((r) => r.accessor)).toEqual(['kwa_c']);
    expect(await store.replaceWrappingPayload('kwa_b', 1, Buffer.from('z'), 2, 1)).toBe(false);
    expect(await store.replaceWrappingPayload('kwa_a', 1, Buffer.from('z'), 2, 1)).toBe(true);
    expect(await store.usedWrappingKeyVersions(env)).toEqual(new Set([2]));
  });
});
