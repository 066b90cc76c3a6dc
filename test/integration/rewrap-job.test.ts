/**
 * The bulk rewrap job through a real dev server (SoftHSM2 token, SQLite file, HTTPS): reserved keys are
 * rotated through POST sys/rewrap { rotate: true } and every stored value moves to the new version,
 * reading back unchanged; pending wrapping tokens follow `_wrap`; the API is idempotent and sudo-gated.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;

async function call(method: 'GET' | 'POST', p: string, body?: unknown, opts: { token?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any }> {
  const r = await server.http.request({ method, path: `/v1${p}`, token: opts.token ?? server.rootToken, ...(body !== undefined ? { body } : {}), ...(opts.headers ? { headers: opts.headers } : {}) });
  return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
}

async function waitDone(): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = (await call('GET', '/sys/rewrap')).json.data;
    if (s.state !== 'running') return s;
    if (Date.now() > deadline) throw new Error(`rewrap did not finish: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function storedKeyVersions(table: 'kv_versions' | 'wrapping_tokens'): number[] {
  const db = new Database(path.join(server.dataDir, 'keyward.db'), { readonly: true });
  try {
    const col = table === 'kv_versions' ? 'sealed_value' : 'sealed_payload';
    return (db.prepare(`SELECT DISTINCT key_version AS v FROM ${table} WHERE env = 'dev' AND ${col} IS NOT NULL ORDER BY v`).all() as Array<{ v: number }>).map((r) => r.v);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  server = await startDevServer();
}, 120_000);

afterAll(async () => {
  await server?.destroy();
});

describe('bulk rewrap of stored data', () => {
  it('when the job runs before any rotation, then it is done at once with nothing to do', async () => {
    await call('POST', '/secret/data/first', { data: { v: 'first' } });
    const r = await call('POST', '/sys/rewrap', { key: '_kv' });
    expect(r.status).toBe(200);
    const s = await waitDone();
    expect(s).toMatchObject({ state: 'done', key: '_kv', target_version: 1, total: 0 });
  });

  it('when _kv is rotated and rewrapped in small batches, then every secret version moves to the new version and reads back unchanged', async () => {
    for (let i = 0; i < 40; i++) await call('POST', `/secret/data/app/s${i}`, { data: { value: `v-${i}` } });
    await call('POST', '/secret/data/app/s0', { data: { value: 'v-0-second' } });
    expect(storedKeyVersions('kv_versions')).toEqual([1]);
    const started = await call('POST', '/sys/rewrap', { key: '_kv', rotate: true, batch_size: 7 });
    expect(started.status).toBe(200);
    expect(started.json.data).toMatchObject({ key: '_kv', target_version: 2, total: 42 });
    const s = await waitDone();
    expect(s).toMatchObject({ state: 'done', total: 42, done: 42, failed: 0, target_version: 2 });
    expect(typeof s.rate_per_second).toBe('number');
    expect(storedKeyVersions('kv_versions')).toEqual([2]);
    for (let i = 1; i < 40; i++) expect((await call('GET', `/secret/data/app/s${i}`)).json.data.data).toEqual({ value: `v-${i}` });
    expect((await call('GET', '/secret/data/app/s0?version=1')).json.data.data).toEqual({ value: 'v-0' });
    expect((await call('GET', '/secret/data/app/s0')).json.data.data).toEqual({ value: 'v-0-second' });
  });

  it('when a start is repeated while nothing new is below the latest version, then no rotation happens without rotate', async () => {
    const r = await call('POST', '/sys/rewrap', { key: '_kv' });
    expect(r.json.data.target_version).toBe(2);
    expect((await waitDone()).total).toBe(0);
  });

  it('when _wrap is rotated and rewrapped, then a pending wrapping token still unwraps its response', async () => {
    const w = await call('GET', '/secret/data/app/s5', undefined, { headers: { 'X-Vault-Wrap-TTL': '5m' } });
    const wrapToken = w.json.wrap_info.token as string;
    const r = await call('POST', '/sys/rewrap', { key: '_wrap', rotate: true });
    expect(r.json.data).toMatchObject({ key: '_wrap', target_version: 2, total: 1 });
    expect(await waitDone()).toMatchObject({ state: 'done', done: 1 });
    expect(storedKeyVersions('wrapping_tokens')).toEqual([2]);
    const u = await call('POST', '/sys/wrapping/unwrap', undefined, { token: wrapToken });
    expect(u.status).toBe(200);
    expect(u.json.data.data).toEqual({ value: 'v-5' });
  });

  it('when a caller names a customer key or lacks sudo for rotate, then the server refuses', async () => {
    expect((await call('POST', '/sys/rewrap', { key: 'payments' })).status).toBe(400);
    await call('POST', '/sys/policies/acl/rewrap-only', { policy: 'path "sys/rewrap" { capabilities = ["update", "read"] }' });
    const t = await call('POST', '/auth/token/create', { policies: ['rewrap-only'] });
    const token = t.json.auth.client_token as string;
    expect((await call('POST', '/sys/rewrap', { key: '_kv', rotate: true }, { token })).status).toBe(403);
    expect((await call('POST', '/sys/rewrap', { key: '_kv' }, { token })).status).toBe(200);
  });
});
