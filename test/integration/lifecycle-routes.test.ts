/**
 * Key lifecycle through a real dev server (HTTPS, SoftHSM2 token, SQLite) in this process: key and
 * version transitions, Vault's DELETE as pending deletion, root KEK rotation with key-status, health
 * warnings, and backup → destroy the store → restore → restart → every ciphertext decrypts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownSchemaVersion, restoreDatabase } from '../../vault/src/lifecycle/backup.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;

process.env['KEYWARD_ROOT_RETIRE_GRACE_SECONDS'] = '0';
process.env['KEYWARD_LIFECYCLE_TICK_SECONDS'] = '3600'; // the test drives the job itself

async function call(method: 'GET' | 'POST' | 'DELETE', p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await server.http.request({ method, path: `/v1${p}`, token: server.rootToken, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, json: res.body ? JSON.parse(res.body) : undefined };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
// ERR_CONFLICT answers 400, as Vault does for state refusals (vault/src/http/error-handler.ts).
const REFUSED = 400;

async function encrypt(name: string, text: string): Promise<string> {
  const r = await call('POST', `/transit/encrypt/${name}`, { plaintext: b64(text) });
  expect(r.status).toBe(200);
  return r.json.data.ciphertext as string;
}

async function decrypt(name: string, ciphertext: string): Promise<{ status: number; text?: string }> {
  const r = await call('POST', `/transit/decrypt/${name}`, { ciphertext });
  return { status: r.status, ...(r.status === 200 ? { text: Buffer.from(r.json.data.plaintext, 'base64').toString() } : {}) };
}

beforeAll(async () => {
  server = await startDevServer();
}, 60_000);

afterAll(async () => {
  await server?.destroy();
});

describe('key lifecycle over HTTP', () => {
  it('when a key is disabled, then it neither encrypts nor decrypts until enabled; enabling a destroyed key is refused', async () => {
    const ct = await encrypt('life', 'hello');
    expect((await call('POST', '/transit/keys/life/disable')).json.data.state).toBe('disabled');
    expect((await call('POST', '/transit/encrypt/life', { plaintext: b64('x') })).status).toBe(REFUSED);
    expect((await decrypt('life', ct)).status).toBe(REFUSED);
    expect((await call('POST', '/transit/keys/life/enable')).json.data.state).toBe('active');
    expect((await decrypt('life', ct)).text).toBe('hello');
    await call('POST', '/transit/keys/life/config', { deletion_allowed: true });
    expect((await call('DELETE', '/transit/keys/life?immediate=true')).status).toBe(204);
    const again = await call('POST', '/transit/keys/life/enable');
    expect(again.status).toBe(REFUSED);
    expect(again.json.errors).toEqual(['cannot enable a key that is destroyed']);
    expect((await call('GET', '/transit/keys/life/lifecycle')).json.data.state).toBe('destroyed');
  });

  it('when a key is compromised, then encrypt and decrypt are refused but rewrap moves data to a new version', async () => {
    const ct = await encrypt('comp', 'secret');
    expect((await call('POST', '/transit/keys/comp/compromise', {})).status).toBe(REFUSED); // reason required
    expect((await call('POST', '/transit/keys/comp/compromise', { reason: 'leaked in a log' })).json.data.state).toBe('compromised');
    expect((await call('POST', '/transit/encrypt/comp', { plaintext: b64('x') })).status).toBe(REFUSED);
    expect((await decrypt('comp', ct)).status).toBe(REFUSED);
    await call('POST', '/transit/keys/comp/rotate');
    const rw = await call('POST', '/transit/rewrap/comp', { ciphertext: ct });
    expect(rw.status).toBe(200);
    expect(rw.json.data.ciphertext).toMatch(/^vault:v2:/);
  });

  it('when Vault\'s DELETE is used, then the key waits in pending_deletion (30 days) and can be cancelled to disabled', async () => {
    await encrypt('del', 'x');
    await call('POST', '/transit/keys/del/config', { deletion_allowed: true });
    expect((await call('DELETE', '/transit/keys/del')).status).toBe(204);
    const k = (await call('GET', '/transit/keys/del/lifecycle')).json.data;
    expect(k.state).toBe('pending_deletion');
    expect(new Date(k.deletion_deadline).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect((await call('POST', '/transit/keys/del/schedule-deletion', { pending_window_days: 3 })).status).toBe(REFUSED);
    expect((await call('POST', '/transit/keys/del/cancel-deletion')).json.data.state).toBe('disabled');
    expect((await call('POST', '/transit/keys/del/schedule-deletion', { pending_window_days: 3 })).status).toBe(REFUSED);
    expect((await call('POST', '/transit/keys/del/schedule-deletion', { pending_window_days: 7 })).json.data.state).toBe('pending_deletion');
  });

  it('when one version is disabled or destroyed, then only its ciphertexts are refused', async () => {
    const v1 = await encrypt('ver', 'one');
    await call('POST', '/transit/keys/ver/rotate');
    const v2 = await encrypt('ver', 'two');
    expect((await call('POST', '/transit/keys/ver/versions/1/disable')).status).toBe(200);
    expect((await decrypt('ver', v1)).status).toBe(REFUSED);
    expect((await decrypt('ver', v2)).text).toBe('two');
    expect((await call('POST', '/transit/keys/ver/versions/2/destroy')).status).toBe(REFUSED); // latest
    expect((await call('POST', '/transit/keys/ver/versions/1/destroy')).status).toBe(200);
    expect((await call('POST', '/transit/keys/ver/versions/1/enable')).status).toBe(REFUSED);
  });

  it('when the config asks for auto_rotate_period under an hour or a short version_ttl, then 400; valid values are stored', async () => {
    await encrypt('cfg', 'x');
    expect((await call('POST', '/transit/keys/cfg/config', { auto_rotate_period: '30m' })).status).toBe(REFUSED);
    expect((await call('POST', '/transit/keys/cfg/config', { version_ttl: '10m' })).status).toBe(REFUSED);
    const ok = await call('POST', '/transit/keys/cfg/config', { auto_rotate_period: '24h', version_ttl: '48h', max_versions: 3 });
    expect(ok.json.data).toMatchObject({ auto_rotate_period: 86400, version_ttl: 172800, max_versions: 3 });
    const health = await server.http.request({ method: 'GET', path: '/v1/sys/health' });
    expect(JSON.parse(health.body).key_lifecycle).toMatchObject({ expiring_versions: 1, expired_latest_versions: 0 });
  });
});

describe('root key rotation over HTTP', () => {
  it('when the root is rotated, then every key keeps working, key-status reports progress, the old root ends destroyed', async () => {
    const before = (await call('GET', '/sys/key-status')).json.data;
    expect(before).toMatchObject({ term: 1, rotation: { state: 'idle' } });
    expect(typeof before.install_time).toBe('string');
    const cts: Array<[string, string, string]> = [];
    for (let i = 0; i < 10; i++) cts.push([`rr${i % 3}`, `m${i}`, await encrypt(`rr${i % 3}`, `m${i}`)]);
    const r = await call('POST', '/sys/rotate');
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({ term: 2, from_term: 1 });
    // (a second rotation while one re-wraps is refused: test/unit/lifecycle/scheduler.test.ts)
    let status: any;
    for (let i = 0; i < 100; i++) {
      status = (await call('GET', '/sys/key-status')).json.data;
      // rewrapping → retired → (grace 0) completed: wait for the end, not just the end of re-wrapping.
      if (status.rotation.state === 'completed') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(status.term).toBe(2);
    expect(status.rotation.done).toBe(status.rotation.total);
    // No wait: the re-wrap writes through the process's key-record cache, which it invalidates.
    for (const [k, text, ct] of cts) expect(await decrypt(k, ct)).toEqual({ status: 200, text });
    // Grace 0: the job destroyed the retired root right after re-wrapping.
    expect(status.terms.map((t: { term: number; state: string }) => [t.term, t.state])).toEqual([[1, 'destroyed'], [2, 'active']]);
    expect(status.rotation.state).toBe('completed');
  });
});

describe('backup and restore', () => {
  it('when the store is backed up, destroyed and restored, then a restarted server decrypts everything written before', async () => {
    const cts: Array<[string, string]> = [];
    for (let i = 0; i < 5; i++) cts.push([`m${i}`, await encrypt('bk', `m${i}`)]);
    const res = await call('POST', '/sys/storage/backup');
    expect(res.status).toBe(200);
    expect(res.json.data.schema_version).toBe(knownSchemaVersion());
    const file = path.join(server.dataDir, 'backup.db');
    fs.writeFileSync(file, Buffer.from(res.json.data.snapshot, 'base64'));
    await server.stop();
    const dbFile = path.join(server.dataDir, 'keyward.db');
    fs.writeFileSync(dbFile, 'garbage');
    expect(() => restoreDatabase({ from: file, target: dbFile, knownSchemaVersion: knownSchemaVersion() })).toThrow(/--force/);
    expect(() => restoreDatabase({ from: dbFile, target: `${dbFile}.x`, knownSchemaVersion: knownSchemaVersion() })).toThrow(/not a Keyward store/);
    expect(() => restoreDatabase({ from: file, target: `${dbFile}.y`, knownSchemaVersion: 1 })).toThrow(/newer/);
    restoreDatabase({ from: file, target: dbFile, knownSchemaVersion: knownSchemaVersion(), force: true });
    server = await startDevServer({ dataDir: server.dataDir });
    for (const [text, ct] of cts) expect((await decrypt('bk', ct)).text).toBe(text);
  }, 60_000);
});
