/**
 * KV v2 routes through the real request pipeline (buildApp) over SoftHSM2 (throwaway token) and a real
 * SQLite file. A settable clock drives delete_version_after. Token "root" is root; "update-only" holds
 * only `update` on secret/data/* (so it cannot create a secret, as in Vault).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSecretStore } from '../../vault/src/adapters/sqlite/sqlite-secret-store.js';
import type { Clock } from '../../vault/src/core/ports/clock.js';
import type { PolicyEvaluator } from '../../vault/src/http/pipeline-ports.js';
import { kvRoutes } from '../../vault/src/http/routes/secret/index.js';
import { transitRoutes } from '../../vault/src/http/routes/transit/index.js';
import { makeKvUseCases } from '../../vault/src/usecases/kv/index.js';
import { makeTransitUseCases } from '../../vault/src/usecases/transit/index.js';
import { startAppHarness, type AppHarness } from '../helpers/app-harness.js';

let h: AppHarness;
let now = Date.now();
const clock: Clock = { now: () => new Date(now) };

const updateOnly: PolicyEvaluator = {
  evaluate: (aclPath, capability) => {
    const allowed = aclPath.startsWith('secret/data/') && capability === 'update';
    return { allowed, grantingPolicies: allowed ? ['update-only'] : [], reason: allowed ? 'granted' : 'denied', mfaMethods: [] };
  },
};

beforeAll(async () => {
  h = await startAppHarness({
    clock,
    principals: { 'update-only': updateOnly },
    routes: (b) => [
      ...kvRoutes(makeKvUseCases({ hsm: b.hsm, keys: b.keys, secrets: new SqliteSecretStore(b.db), clock: b.clock })),
      ...transitRoutes(makeTransitUseCases({ hsm: b.hsm, keys: b.keys, clock: b.clock })),
    ],
  });
});

afterAll(async () => {
  await h?.close();
});

describe('kv routes: data', () => {
  it('when a secret is written twice, then each version reads back with Vault\'s fields', async () => {
    const w1 = await h.call('POST', '/secret/data/app/db', { data: { password: 'p1' } });
    expect(w1.status).toBe(200);
    expect(w1.json.data).toMatchObject({ custom_metadata: null, deletion_time: '', destroyed: false, version: 1 });
    expect(Date.parse(w1.json.data.created_time)).not.toBeNaN();
    const w2 = await h.call('PUT', '/secret/data/app/db', { data: { password: 'p2' }, options: {} });
    expect(w2.json.data.version).toBe(2);
    const r = await h.call('GET', '/secret/data/app/db');
    expect(r.status).toBe(200);
    expect(r.json.data.data).toEqual({ password: 'p2' });
    expect(r.json.data.metadata).toMatchObject({ version: 2, destroyed: false, deletion_time: '' });
    const old = await h.call('GET', '/secret/data/app/db?version=1');
    expect(old.json.data.data).toEqual({ password: 'p1' });
    expect(await h.call('GET', '/secret/data/app/nothing')).toEqual({ status: 404, json: { errors: [] } });
  });

  it('when cas does not match, then the write is refused with 400 and nothing is written', async () => {
    await h.call('POST', '/secret/data/cas', { data: { a: 1 }, options: { cas: 0 } });
    const bad = await h.call('POST', '/secret/data/cas', { data: { a: 2 }, options: { cas: 0 } });
    expect(bad).toEqual({ status: 400, json: { errors: ['check-and-set parameter did not match the current version'] } });
    const good = await h.call('POST', '/secret/data/cas', { data: { a: 2 }, options: { cas: 1 } });
    expect(good.json.data.version).toBe(2);
  });

  it('when cas_required is set on the metadata, then a write without cas is a 400', async () => {
    expect((await h.call('POST', '/secret/metadata/strict', { cas_required: true })).status).toBe(204);
    const r = await h.call('POST', '/secret/data/strict', { data: { a: 1 } });
    expect(r).toEqual({ status: 400, json: { errors: ['check-and-set parameter required for this call'] } });
    expect((await h.call('POST', '/secret/data/strict', { data: { a: 1 }, options: { cas: 0 } })).status).toBe(200);
  });

  it('when only update is granted, then a new secret cannot be created but an existing one can be written', async () => {
    await h.call('POST', '/secret/data/shared', { data: { a: 1 } });
    expect((await h.call('POST', '/secret/data/brand-new', { data: { a: 1 } }, { token: 'update-only' })).status).toBe(403);
    expect((await h.call('POST', '/secret/data/shared', { data: { a: 2 } }, { token: 'update-only' })).status).toBe(200);
  });

  it('when a secret is patched with merge-patch+json, then the merge becomes a new version; other content types are 415', async () => {
    await h.call('POST', '/secret/data/patchme', { data: { a: 1, b: 2 } });
    const wrongType = await h.call('PATCH', '/secret/data/patchme', { data: { a: 5 } });
    expect(wrongType.status).toBe(415);
    const p = await h.call('PATCH', '/secret/data/patchme', { data: { a: null, c: 3 } }, { headers: { 'content-type': 'application/merge-patch+json' } });
    expect(p.status).toBe(200);
    expect(p.json.data.version).toBe(2);
    expect((await h.call('GET', '/secret/data/patchme')).json.data.data).toEqual({ b: 2, c: 3 });
  });

  it('when versions are deleted, undeleted and destroyed, then reads answer as Vault (404 with metadata)', async () => {
    for (let i = 1; i <= 3; i++) await h.call('POST', '/secret/data/life', { data: { i } });
    expect((await h.call('DELETE', '/secret/data/life')).status).toBe(204);
    const deleted = await h.call('GET', '/secret/data/life');
    expect(deleted.status).toBe(404);
    expect(deleted.json.data.data).toBeNull();
    expect(deleted.json.data.metadata.version).toBe(3);
    expect(deleted.json.data.metadata.deletion_time).not.toBe('');
    expect((await h.call('POST', '/secret/undelete/life', { versions: [3] })).status).toBe(204);
    expect((await h.call('GET', '/secret/data/life')).json.data.data).toEqual({ i: 3 });
    expect((await h.call('POST', '/secret/delete/life', { versions: [1, 2] })).status).toBe(204);
    expect((await h.call('GET', '/secret/data/life?version=2')).status).toBe(404);
    expect((await h.call('PUT', '/secret/destroy/life', { versions: [1] })).status).toBe(204);
    const destroyed = await h.call('GET', '/secret/data/life?version=1');
    expect(destroyed.status).toBe(404);
    expect(destroyed.json.data.metadata.destroyed).toBe(true);
    const meta = await h.call('GET', '/secret/metadata/life');
    expect(meta.json.data.versions['1'].destroyed).toBe(true);
    expect(meta.json.data.versions['2'].deletion_time).not.toBe('');
    expect(meta.json.data.versions['3'].deletion_time).toBe('');
    expect((await h.call('POST', '/secret/delete/life', {})).status).toBe(400);
  });

  it('when delete_version_after passes, then the version reads as deleted', async () => {
    await h.call('POST', '/secret/metadata/ttl', { delete_version_after: '1h' });
    const w = await h.call('POST', '/secret/data/ttl', { data: { a: 1 } });
    expect(Date.parse(w.json.data.deletion_time) - Date.parse(w.json.data.created_time)).toBe(3600_000);
    expect((await h.call('GET', '/secret/data/ttl')).status).toBe(200);
    now += 3601_000;
    expect((await h.call('GET', '/secret/data/ttl')).status).toBe(404);
    expect((await h.call('GET', '/secret/metadata/ttl')).json.data.delete_version_after).toBe('1h0m0s');
  });
});

describe('kv routes: metadata, config and listing', () => {
  it('when max_versions is 2, then only the newest two versions remain', async () => {
    await h.call('POST', '/secret/metadata/short', { max_versions: 2, custom_metadata: { owner: 'payments' } });
    for (let i = 1; i <= 4; i++) await h.call('POST', '/secret/data/short', { data: { i } });
    const m = await h.call('GET', '/secret/metadata/short');
    expect(m.json.data).toMatchObject({ current_version: 4, oldest_version: 3, max_versions: 2, cas_required: false, custom_metadata: { owner: 'payments' } });
    expect(Object.keys(m.json.data.versions)).toEqual(['3', '4']);
    expect((await h.call('GET', '/secret/data/short?version=1')).status).toBe(404);
  });

  it('when custom_metadata is patched, then keys merge and null removes one', async () => {
    await h.call('POST', '/secret/metadata/cm', { custom_metadata: { a: '1', b: '2' } });
    const r = await h.call('PATCH', '/secret/metadata/cm', { custom_metadata: { b: null, c: '3' } }, { headers: { 'content-type': 'application/merge-patch+json' } });
    expect(r.status).toBe(204);
    expect((await h.call('GET', '/secret/metadata/cm')).json.data.custom_metadata).toEqual({ a: '1', c: '3' });
    const w = await h.call('POST', '/secret/data/cm', { data: { x: 1 } });
    expect(w.json.data.custom_metadata).toEqual({ a: '1', c: '3' });
  });

  it('when listing, then direct children come back with folders marked by a trailing slash', async () => {
    for (const p of ['team/a', 'team/b/c', 'team/b/d']) await h.call('POST', `/secret/data/${p}`, { data: { x: 1 } });
    const l = await h.call('GET', '/secret/metadata/team?list=true');
    expect(l.status).toBe(200);
    expect(l.json.data.keys).toEqual(['a', 'b/']);
    const root = await h.call('GET', '/secret/metadata/?list=true');
    expect(root.json.data.keys).toEqual(expect.arrayContaining(['team/', 'app/', 'cas']));
    expect((await h.call('GET', '/secret/metadata/nowhere?list=true')).status).toBe(404);
  });

  it('when metadata is deleted, then every version goes with it', async () => {
    await h.call('POST', '/secret/data/gone', { data: { x: 1 } });
    expect((await h.call('DELETE', '/secret/metadata/gone')).status).toBe(204);
    expect((await h.call('GET', '/secret/data/gone')).status).toBe(404);
    expect((await h.call('GET', '/secret/metadata/gone')).status).toBe(404);
    expect(h.db.prepare("SELECT count(*) AS n FROM kv_versions WHERE path = 'gone'").get()).toEqual({ n: 0 });
  });

  it('when the engine config is written, then it reads back in Vault\'s shape', async () => {
    expect((await h.call('POST', '/secret/config', { max_versions: 5, delete_version_after: '90s' })).status).toBe(204);
    expect((await h.call('GET', '/secret/config')).json.data).toEqual({ cas_required: false, delete_version_after: '1m30s', max_versions: 5 });
    await h.call('POST', '/secret/config', { max_versions: 0, delete_version_after: 0 });
  });

  it('when a path is malformed, then it is a 400', async () => {
    expect((await h.call('GET', '/secret/data/a/../b')).status).toBeGreaterThanOrEqual(400);
    expect((await h.call('GET', '/secret/data/a%00b')).status).toBe(400);
  });
});

describe('kv routes: confidentiality', () => {
  it('when a sealed row is moved to another path in the database, then reading it fails to decrypt', async () => {
    await h.call('POST', '/secret/data/moved/src', { data: { s: 'source' } });
    await h.call('POST', '/secret/data/moved/dst', { data: { s: 'destination' } });
    const src = h.db.prepare("SELECT sealed_value FROM kv_versions WHERE path = 'moved/src'").get() as { sealed_value: Buffer };
    h.db.prepare("UPDATE kv_versions SET sealed_value = ? WHERE path = 'moved/dst'").run(src.sealed_value);
    const r = await h.call('GET', '/secret/data/moved/dst');
    expect(r).toEqual({ status: 400, json: { errors: ['decryption failed'] } });
  });

  it('when known values are written, then neither the db file nor its WAL contains them', async () => {
    const marker = `kw-marker-${Date.now()}-plaintext`;
    for (let i = 0; i < 5; i++) await h.call('POST', `/secret/data/leak/${i}`, { data: { value: `${marker}-${i}` } });
    await h.call('POST', '/secret/metadata/leak/0', { custom_metadata: { note: 'not-secret' } });
    const needle = Buffer.from(marker);
    const wal = fs.existsSync(`${h.dbFile}-wal`) ? fs.readFileSync(`${h.dbFile}-wal`) : Buffer.alloc(0);
    expect(wal.length).toBeGreaterThan(0);
    expect(wal.includes(needle)).toBe(false);
    h.db.pragma('wal_checkpoint(TRUNCATE)');
    const main = fs.readFileSync(h.dbFile);
    expect(main.includes(needle)).toBe(false);
    // the check can fail: the custom metadata (not secret) is findable in clear
    expect(main.includes(Buffer.from('not-secret'))).toBe(true);
    expect((await h.call('GET', '/secret/data/leak/3')).json.data.data).toEqual({ value: `${marker}-3` });
  });

  it('when the transit API names the reserved _kv key, then it is refused', async () => {
    const r = await h.call('GET', '/transit/keys/_kv');
    expect(r.status).toBe(400);
    const e = await h.call('POST', '/transit/encrypt/_kv', { plaintext: 'aGk=' });
    expect(e.status).toBe(400);
  });
});
