/**
 * Response wrapping through the real request pipeline (buildApp) over SoftHSM2 (throwaway token) and a
 * real SQLite file. The harness applies `wrapReply` after each handler when X-Vault-Wrap-TTL is present,
 * which is the one call the pipeline makes; reuse reports go to a recorded onWrappingReuse hook.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSecretStore } from '../../vault/src/adapters/sqlite/sqlite-secret-store.js';
import type { Clock } from '../../vault/src/core/ports/clock.js';
import { kvRoutes } from '../../vault/src/http/routes/secret/index.js';
import { makeWrapReply, parseWrapTtlHeader, wrappingRoutes } from '../../vault/src/http/routes/sys/wrapping.js';
import { makeKvUseCases } from '../../vault/src/usecases/kv/index.js';
import { makeWrappingUseCases, type WrappingReuseInfo } from '../../vault/src/usecases/wrapping/index.js';
import { startAppHarness, type AppHarness } from '../helpers/app-harness.js';

let h: AppHarness;
let now = Date.now();
const clock: Clock = { now: () => new Date(now) };
const reuses: WrappingReuseInfo[] = [];

beforeAll(async () => {
  h = await startAppHarness({
    clock,
    routes: (b) => {
      const store = new SqliteSecretStore(b.db);
      return [
        ...kvRoutes(makeKvUseCases({ hsm: b.hsm, keys: b.keys, secrets: store, clock: b.clock })),
        ...wrappingRoutes({ ...makeWrappingUseCases({ hsm: b.hsm, keys: b.keys, store, clock: b.clock }), onWrappingReuse: (i) => reuses.push(i) }),
      ];
    },
    wrapReply: (b) => makeWrapReply(makeWrappingUseCases({ hsm: b.hsm, keys: b.keys, store: new SqliteSecretStore(b.db), clock: b.clock })),
    parseWrapTtl: parseWrapTtlHeader,
  });
  await h.call('POST', '/secret/data/wrapped/app', { data: { api_key: 'wrapped-value-123' } });
});

afterAll(async () => {
  await h?.close();
});

const wrappedRead = async (ttl = '5m') => h.call('GET', '/secret/data/wrapped/app', undefined, { headers: { 'X-Vault-Wrap-TTL': ttl } });

describe('response wrapping', () => {
  it('when a read carries X-Vault-Wrap-TTL, then only wrap_info comes back and unwrap returns the original data once', async () => {
    const w = await wrappedRead();
    expect(w.status).toBe(200);
    expect(w.json.data).toBeNull();
    expect(w.json.wrap_info).toMatchObject({ ttl: 300, creation_path: 'secret/data/wrapped/app' });
    expect(w.json.wrap_info.token).toMatch(/^kww_[0-9A-Za-z]{49}$/);
    expect(w.json.wrap_info.accessor).toMatch(/^kwa_/);
    expect(Date.parse(w.json.wrap_info.creation_time)).not.toBeNaN();

    const u = await h.call('POST', '/sys/wrapping/unwrap', undefined, { token: w.json.wrap_info.token });
    expect(u.status).toBe(200);
    expect(u.json.data.data).toEqual({ api_key: 'wrapped-value-123' });
    expect(u.json.data.metadata.version).toBe(1);
    expect(u.json.wrap_info).toBeNull();

    const again = await h.call('POST', '/sys/wrapping/unwrap', { token: w.json.wrap_info.token }, { token: null });
    expect(again).toEqual({ status: 400, json: { errors: ['wrapping token is not valid or does not exist'] } });
  });

  it('when a consumed token is used again, then the audit entry says wrapping_reuse and the anomaly hook hears of it', async () => {
    const w = await wrappedRead();
    const token = w.json.wrap_info.token as string;
    await h.call('POST', '/sys/wrapping/unwrap', { token }, { token: null });
    const before = reuses.length;
    const r = await h.call('POST', '/sys/wrapping/unwrap', { token }, { token: null });
    expect(r.status).toBe(400);
    expect(reuses.length).toBe(before + 1);
    expect(reuses.at(-1)).toMatchObject({ accessor: w.json.wrap_info.accessor, creationPath: 'secret/data/wrapped/app', env: 'dev' });
    const entry = h.audit.filter((e) => e.type === 'response' && e.operation === 'sys.wrapping.unwrap').at(-1);
    expect(entry?.details?.['wrapping_reuse']).toBe(true);
    // The token reaches the sink only as a `sensitive` value (the sink HMACs those), never in details.
    expect(entry?.sensitive?.['wrapping_token']).toBe(token);
    expect(JSON.stringify(h.audit.map((e) => e.details ?? {}))).not.toContain(token);
  });

  it('when two unwraps race, then exactly one gets the payload', async () => {
    const w = await wrappedRead();
    const token = w.json.wrap_info.token as string;
    const results = await Promise.all(Array.from({ length: 4 }, () => h.call('POST', '/sys/wrapping/unwrap', { token }, { token: null })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(3);
  });

  it('when the TTL has passed, then lookup and unwrap refuse the token', async () => {
    const w = await wrappedRead('30s');
    const token = w.json.wrap_info.token as string;
    const l = await h.call('POST', '/sys/wrapping/lookup', { token }, { token: null });
    expect(l.status).toBe(200);
    expect(l.json.data).toMatchObject({ creation_path: 'secret/data/wrapped/app', creation_ttl: 30 });
    expect(Date.parse(l.json.data.creation_time)).not.toBeNaN();
    now += 31_000;
    expect((await h.call('POST', '/sys/wrapping/lookup', { token }, { token: null })).status).toBe(400);
    expect(await h.call('POST', '/sys/wrapping/unwrap', { token }, { token: null })).toEqual({ status: 400, json: { errors: ['wrapping token is not valid or does not exist'] } });
  });

  it('when sys/wrapping/wrap is called, then the body is wrapped; rewrap moves it to a new token', async () => {
    const noTtl = await h.call('POST', '/sys/wrapping/wrap', { a: 'b' });
    expect(noTtl.status).toBe(400);
    const w = await h.call('POST', '/sys/wrapping/wrap', { a: 'b' }, { headers: { 'X-Vault-Wrap-TTL': '120' } });
    expect(w.json.wrap_info).toMatchObject({ ttl: 120, creation_path: 'sys/wrapping/wrap' });
    const rw = await h.call('POST', '/sys/wrapping/rewrap', { token: w.json.wrap_info.token });
    expect(rw.status).toBe(200);
    expect(rw.json.wrap_info.ttl).toBe(120);
    expect(rw.json.wrap_info.token).not.toBe(w.json.wrap_info.token);
    expect((await h.call('POST', '/sys/wrapping/unwrap', { token: w.json.wrap_info.token }, { token: null })).status).toBe(400);
    const u = await h.call('POST', '/sys/wrapping/unwrap', { token: rw.json.wrap_info.token }, { token: null });
    expect(u.json.data).toEqual({ a: 'b' });
  });

  it('when a malformed token or a bad TTL header is sent, then the answer is 400', async () => {
    expect((await h.call('POST', '/sys/wrapping/unwrap', { token: 'kww_nope' }, { token: null })).status).toBe(400);
    expect((await h.call('POST', '/sys/wrapping/unwrap', {}, { token: null })).status).toBe(400);
    expect((await wrappedRead('soon')).status).toBe(400);
  });

  it('when responses are wrapped, then neither the payload nor the token is in the db or WAL bytes', async () => {
    const w = await wrappedRead();
    const token = w.json.wrap_info.token as string;
    for (const file of [h.dbFile, `${h.dbFile}-wal`]) {
      if (!fs.existsSync(file)) continue;
      const bytes = fs.readFileSync(file);
      expect(bytes.includes(Buffer.from('wrapped-value-123'))).toBe(false);
      expect(bytes.includes(Buffer.from(token))).toBe(false);
    }
  });
});
