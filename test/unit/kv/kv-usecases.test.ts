import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotateKey } from './rotate.js';
import { closeDatabase } from '../../../vault/src/adapters/sqlite/database.js';
import { KV_KEY_NAME } from '../../../vault/src/usecases/kv/index.js';
import { codeOf, env, kvHarness, messageOf, p, type KvHarness } from './kv-harness.js';

let h: KvHarness;
beforeEach(async () => {
  h = await kvHarness();
});
afterEach(() => closeDatabase(h.db));

const read = async (path: string, version?: number) => h.kv.readSecret({ env, path: p(path), ...(version !== undefined ? { version } : {}) });

describe('kv: versions', () => {
  it('writes get consecutive versions and each version reads back its own value', async () => {
    const w1 = await h.kv.writeSecret({ env, path: p('app/db'), data: { password: 'one' } });
    const w2 = await h.kv.writeSecret({ env, path: p('app/db'), data: { password: 'two', n: 2 } });
    expect([w1.version.version, w2.version.version]).toEqual([1, 2]);
    const latest = await read('app/db');
    expect(latest.status === 'ok' && latest.data).toEqual({ password: 'two', n: 2 });
    const first = await read('app/db', 1);
    expect(first.status === 'ok' && first.data).toEqual({ password: 'one' });
    expect(await codeOf(read('app/db', 3))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(read('nope'))).toBe('ERR_NOT_FOUND');
  });

  it('creates the reserved _kv transit key on first use, derived, and keeps old versions readable after it rotates', async () => {
    expect(await h.keys.getKey(env, KV_KEY_NAME)).toBeNull();
    await h.kv.writeSecret({ env, path: p('a'), data: { v: 1 } });
    const key = await h.keys.getKey(env, KV_KEY_NAME);
    expect(key?.derived).toBe(true);
    await rotateKey(h);
    await h.kv.writeSecret({ env, path: p('a'), data: { v: 2 } });
    const v1 = await read('a', 1);
    const v2 = await read('a', 2);
    expect(v1.status === 'ok' && v1.data).toEqual({ v: 1 });
    expect(v2.status === 'ok' && v2.data).toEqual({ v: 2 });
    const rows = h.db.prepare('SELECT version, key_version FROM kv_versions ORDER BY version').all();
    expect(rows).toEqual([{ version: 1, key_version: 1 }, { version: 2, key_version: 2 }]);
  });

  it('concurrent writers get distinct, gap-free versions and every value stays readable', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => h.kv.writeSecret({ env, path: p('race'), data: { i } })));
    const meta = await h.kv.readMetadata({ env, path: p('race') });
    expect(meta.currentVersion).toBe(8);
    const seen = new Set<number>();
    for (let v = 1; v <= 8; v++) {
      const r = await read('race', v);
      if (r.status === 'ok') seen.add(r.data['i'] as number);
    }
    expect(seen.size).toBe(8);
  });
});

describe('kv: check-and-set', () => {
  it('cas must equal the current version (0 = must not exist)', async () => {
    await h.kv.writeSecret({ env, path: p('c'), data: { a: 1 }, cas: 0 });
    expect(await messageOf(h.kv.writeSecret({ env, path: p('c'), data: { a: 2 }, cas: 0 }))).toBe('check-and-set parameter did not match the current version');
    expect(await codeOf(h.kv.writeSecret({ env, path: p('c'), data: { a: 2 }, cas: 2 }))).toBe('ERR_CONFLICT');
    const ok = await h.kv.writeSecret({ env, path: p('c'), data: { a: 2 }, cas: 1 });
    expect(ok.version.version).toBe(2);
    expect((await h.kv.readMetadata({ env, path: p('c') })).currentVersion).toBe(2);
  });

  it('cas_required on the secret or on the engine refuses a write without cas', async () => {
    await h.kv.writeMetadata({ env, path: p('strict'), casRequired: true });
    expect(await messageOf(h.kv.writeSecret({ env, path: p('strict'), data: { a: 1 } }))).toBe('check-and-set parameter required for this call');
    expect((await h.kv.writeSecret({ env, path: p('strict'), data: { a: 1 }, cas: 0 })).version.version).toBe(1);
    await h.kv.writeKvConfig({ env, casRequired: true });
    expect(await codeOf(h.kv.writeSecret({ env, path: p('other'), data: { a: 1 } }))).toBe('ERR_CONFLICT');
  });

  it('a create-only caller cannot overwrite, an update-only caller cannot create', async () => {
    await h.kv.writeSecret({ env, path: p('x'), data: { a: 1 } });
    expect(await codeOf(h.kv.writeSecret({ env, path: p('x'), data: { a: 2 }, mayCreate: true, mayUpdate: false }))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.kv.writeSecret({ env, path: p('y'), data: { a: 2 }, mayCreate: false, mayUpdate: true }))).toBe('ERR_PERMISSION_DENIED');
  });
});

describe('kv: retention and lifecycle', () => {
  it('max_versions prunes the oldest versions, material included', async () => {
    await h.kv.writeMetadata({ env, path: p('m'), maxVersions: 2 });
    for (let i = 1; i <= 4; i++) await h.kv.writeSecret({ env, path: p('m'), data: { i } });
    const meta = await h.kv.readMetadata({ env, path: p('m') });
    expect(meta.versions.map((v) => v.version)).toEqual([3, 4]);
    expect(meta.oldestVersion).toBe(3);
    expect(await codeOf(read('m', 1))).toBe('ERR_NOT_FOUND');
    expect(h.db.prepare('SELECT count(*) AS n FROM kv_versions WHERE path = ?').get('m')).toEqual({ n: 2 });
  });

  it('defaults to 10 versions when neither the secret nor the engine sets max_versions', async () => {
    for (let i = 1; i <= 12; i++) await h.kv.writeSecret({ env, path: p('d'), data: { i } });
    const meta = await h.kv.readMetadata({ env, path: p('d') });
    expect(meta.versions.length).toBe(10);
    expect(meta.versions[0]?.version).toBe(3);
  });

  it('delete, undelete and destroy act on the listed versions only', async () => {
    for (let i = 1; i <= 3; i++) await h.kv.writeSecret({ env, path: p('l'), data: { i } });
    await h.kv.deleteVersions({ env, path: p('l'), versions: [1, 2] });
    expect((await read('l', 1)).status).toBe('deleted');
    expect((await read('l', 3)).status).toBe('ok');
    await h.kv.undeleteVersions({ env, path: p('l'), versions: [1] });
    expect((await read('l', 1)).status).toBe('ok');
    await h.kv.destroyVersions({ env, path: p('l'), versions: [1] });
    expect((await read('l', 1)).status).toBe('destroyed');
    await h.kv.undeleteVersions({ env, path: p('l'), versions: [1] });
    expect((await read('l', 1)).status).toBe('destroyed');
    expect(h.db.prepare('SELECT sealed_value FROM kv_versions WHERE path = ? AND version = 1').get('l')).toEqual({ sealed_value: null });
    await h.kv.deleteLatest({ env, path: p('l') });
    expect((await read('l')).status).toBe('deleted');
    expect(await codeOf(h.kv.deleteVersions({ env, path: p('l'), versions: [] }))).toBe('ERR_INVALID_INPUT');
  });

  it('delete_version_after schedules deletion; the shorter of secret and engine wins', async () => {
    await h.kv.writeMetadata({ env, path: p('t'), deleteVersionAfterSeconds: 60 });
    const w = await h.kv.writeSecret({ env, path: p('t'), data: { a: 1 } });
    expect(w.version.deletionTime?.getTime()).toBe(h.clock.now().getTime() + 60_000);
    expect((await read('t')).status).toBe('ok');
    h.advance(61);
    expect((await read('t')).status).toBe('deleted');
    await h.kv.writeKvConfig({ env, deleteVersionAfterSeconds: 10 });
    const w2 = await h.kv.writeSecret({ env, path: p('t'), data: { a: 2 } });
    expect(w2.version.deletionTime?.getTime()).toBe(h.clock.now().getTime() + 10_000);
  });

  it('patch merges into the current version (RFC 7396) and refuses a deleted one', async () => {
    await h.kv.writeSecret({ env, path: p('pt'), data: { a: 1, b: { c: 2, d: 3 } } });
    const r = await h.kv.patchSecret({ env, path: p('pt'), patch: { a: null, b: { c: 9 }, e: 'x' } });
    expect(r.version.version).toBe(2);
    const now = await read('pt');
    expect(now.status === 'ok' && now.data).toEqual({ b: { c: 9, d: 3 }, e: 'x' });
    await h.kv.deleteLatest({ env, path: p('pt') });
    expect(await codeOf(h.kv.patchSecret({ env, path: p('pt'), patch: { a: 1 } }))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(h.kv.patchSecret({ env, path: p('missing'), patch: { a: 1 } }))).toBe('ERR_NOT_FOUND');
  });

  it('custom_metadata is validated, stored and merged by patch', async () => {
    await h.kv.writeMetadata({ env, path: p('cm'), customMetadata: { owner: 'team-a', tier: '1' } });
    await h.kv.writeMetadata({ env, path: p('cm'), patch: true, customMetadata: { tier: null, region: 'eu' } });
    expect((await h.kv.readMetadata({ env, path: p('cm') })).customMetadata).toEqual({ owner: 'team-a', region: 'eu' });
    expect(await codeOf(h.kv.writeMetadata({ env, path: p('cm'), customMetadata: { k: 'x'.repeat(513) } }))).toBe('ERR_INVALID_INPUT');
  });

  it('lists direct children with folders marked by a trailing slash; deleting metadata removes everything', async () => {
    for (const path of ['app/a', 'app/b/c', 'app/b/d', 'app/e/f/g', 'other']) await h.kv.writeSecret({ env, path: p(path), data: { x: 1 } });
    expect(await h.kv.listSecrets({ env, folder: p('app') })).toEqual(['a', 'b/', 'e/']);
    expect(await h.kv.listSecrets({ env, folder: null })).toEqual(['app/', 'other']);
    expect(await codeOf(h.kv.listSecrets({ env, folder: p('none') }))).toBe('ERR_NOT_FOUND');
    await h.kv.deleteMetadataAndAll({ env, path: p('app/a') });
    expect(await h.kv.listSecrets({ env, folder: p('app') })).toEqual(['b/', 'e/']);
    expect(h.db.prepare("SELECT count(*) AS n FROM kv_versions WHERE path = 'app/a'").get()).toEqual({ n: 0 });
  });
});

describe('kv: binding', () => {
  it('a sealed row moved to another path or version does not decrypt', async () => {
    await h.kv.writeSecret({ env, path: p('src'), data: { s: 'secret-src' } });
    await h.kv.writeSecret({ env, path: p('dst'), data: { s: 'dst-1' } });
    await h.kv.writeSecret({ env, path: p('dst'), data: { s: 'dst-2' } });
    const { sealed_value } = h.db.prepare("SELECT sealed_value FROM kv_versions WHERE path = 'src' AND version = 1").get() as { sealed_value: Buffer };
    h.db.prepare("UPDATE kv_versions SET sealed_value = ? WHERE path = 'dst' AND version = 1").run(sealed_value);
    expect(await codeOf(read('dst', 1))).toBe('ERR_DECRYPTION_FAILED');
    const v2 = (h.db.prepare("SELECT sealed_value FROM kv_versions WHERE path = 'dst' AND version = 2").get() as { sealed_value: Buffer }).sealed_value;
    h.db.prepare("UPDATE kv_versions SET sealed_value = ? WHERE path = 'dst' AND version = 1").run(v2);
    expect(await codeOf(read('dst', 1))).toBe('ERR_DECRYPTION_FAILED');
  });

  it('the stored value never holds the plaintext', async () => {
    await h.kv.writeSecret({ env, path: p('plain'), data: { password: 'hunter2-very-unique' } });
    const { sealed_value } = h.db.prepare("SELECT sealed_value FROM kv_versions WHERE path = 'plain'").get() as { sealed_value: Buffer };
    expect(sealed_value.toString('utf8')).toMatch(/^vault:v1:/);
    expect(sealed_value.includes(Buffer.from('hunter2'))).toBe(false);
  });

  it('the transit API refuses reserved key names', async () => {
    const { parseKeyName } = await import('../../../vault/src/core/types.js');
    expect(() => parseKeyName('_kv')).toThrow(/reserved/);
  });
});
