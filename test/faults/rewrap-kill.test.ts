/**
 * kill -9 during the bulk rewrap of stored data (DESIGN.md §6). The real server runs as a child
 * process on a dev data dir; 300 secrets (some with two versions) are written, `_kv` is rotated and
 * the rewrap job started with tiny batches and a per-batch delay (KEYWARD_TEST_REWRAP_BATCH_DELAY_MS),
 * then the server is SIGKILLed at a seeded point mid-job. After a restart on the same data dir the job
 * must resume from its persisted cursor and finish, every secret version must read back with its
 * value, and no version may be lost or duplicated (checked in the SQLite file itself).
 *
 * Seed: KEYWARD_FAULT_SEED (printed); the default is a fixed constant, so runs repeat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { mulberry32 } from '../../hsm-sim/seeded-random.js';
import { restartableChildServer } from '../soak/child-server.js';

const SEED = Number(process.env['KEYWARD_FAULT_SEED'] ?? 20261105);
const SECRETS = 300;
const TWICE = 30; // the first 30 secrets get a second version
const BATCH = 5;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-rewrap-kill-'));
/** The server on one data dir and port across kills; the KEYWARD_* knobs slow the job enough to hit. */
const server = restartableChildServer({
  dataDir,
  logFile: path.join(dataDir, 'server.log'),
  env: { KEYWARD_TEST_REWRAP_BATCH_DELAY_MS: '30' },
});

async function startServer(): Promise<{ http: HttpTransport; token: string }> {
  const s = await server.start();
  return { http: new HttpTransport({ address: s.url, caPem: s.caPem, timeoutMs: 10_000 }), token: s.rootToken };
}

afterAll(async () => {
  await server.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const valueOf = (i: number, v: number): string => `secret-${i}-v${v}`;

describe('bulk rewrap survives kill -9', () => {
  it(`when the server is SIGKILLed at a seeded point of the _kv rewrap, then the job resumes after restart, finishes, and no secret version is lost or duplicated (seed ${SEED})`, async () => {
    process.stdout.write(`rewrap-kill seed=${SEED} dataDir=${dataDir}\n`);
    const rand = mulberry32(SEED);
    let { http, token } = await startServer();
    const call = async (method: 'GET' | 'POST', p: string, body?: unknown): Promise<any> => {
      const r = await http.request({ method, path: `/v1${p}`, token, ...(body !== undefined ? { body } : {}) });
      if (r.status >= 300) throw new Error(`${method} ${p} → ${r.status} ${r.body}`);
      return r.body ? JSON.parse(r.body) : undefined;
    };

    for (let start = 0; start < SECRETS; start += 20) {
      await Promise.all(Array.from({ length: Math.min(20, SECRETS - start) }, (_, k) => call('POST', `/secret/data/kill/s${start + k}`, { data: { value: valueOf(start + k, 1) } })));
    }
    for (let i = 0; i < TWICE; i++) await call('POST', `/secret/data/kill/s${i}`, { data: { value: valueOf(i, 2) } });
    const total = SECRETS + TWICE;

    const started = await call('POST', '/sys/rewrap', { key: '_kv', rotate: true, batch_size: BATCH });
    expect(started.data).toMatchObject({ state: 'running', key: '_kv', target_version: 2, total });
    const killAt = Math.floor(total * (0.2 + 0.6 * rand()));
    for (;;) {
      const s = (await call('GET', '/sys/rewrap')).data;
      if (s.done >= killAt) break;
      if (s.state !== 'running') throw new Error(`job finished before the kill point ${killAt}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    http.close();
    await server.kill();
    process.stdout.write(`  killed after ≥${killAt}/${total} re-seals\n`);

    ({ http, token } = await startServer());
    let status: any;
    const deadline = Date.now() + 90_000;
    for (;;) {
      status = (await call('GET', '/sys/rewrap')).data;
      if (status.state !== 'running') break;
      if (Date.now() > deadline) throw new Error(`job did not finish after restart: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({ state: 'done', key: '_kv', target_version: 2, total, done: total, failed: 0 });

    for (let i = 0; i < SECRETS; i++) {
      const latest = (await call('GET', `/secret/data/kill/s${i}`)).data;
      expect(latest.data.value).toBe(valueOf(i, i < TWICE ? 2 : 1));
      if (i < TWICE) expect((await call('GET', `/secret/data/kill/s${i}?version=1`)).data.data.value).toBe(valueOf(i, 1));
    }

    http.close();
    await server.kill();
    const db = new Database(path.join(dataDir, 'keyward.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT path, version, key_version FROM kv_versions WHERE env = 'dev' AND path LIKE 'kill/%' ORDER BY path, version").all() as Array<{ path: string; version: number; key_version: number }>;
      expect(rows).toHaveLength(total);
      const perPath = new Map<string, number[]>();
      for (const r of rows) perPath.set(r.path, [...(perPath.get(r.path) ?? []), r.version]);
      expect(perPath.size).toBe(SECRETS);
      for (const [p, versions] of perPath) expect(versions).toEqual(Number(p.slice('kill/s'.length)) < TWICE ? [1, 2] : [1]);
      expect(new Set(rows.map((r) => r.key_version))).toEqual(new Set([2]));
    } finally {
      db.close();
    }
  }, 300_000);
});
