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
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../clients/sdk/http-client.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SEED = Number(process.env['KEYWARD_FAULT_SEED'] ?? 20261105);
const SECRETS = 300;
const TWICE = 30; // the first 30 secrets get a second version
const BATCH = 5;

/** mulberry32: a tiny seeded PRNG (never the clock). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-rewrap-kill-'));
let child: ChildProcess | null = null;
let port = 0;

async function startServer(): Promise<{ http: HttpTransport; token: string }> {
  port = port || (await freePort());
  const log = fs.openSync(path.join(dataDir, 'server.log'), 'a');
  child = spawn(process.execPath, ['--import', 'tsx', 'clients/cli/main.ts', 'server', '--dev', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, KEYWARD_TEST_REWRAP_BATCH_DELAY_MS: '30' },
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`server did not start; see ${path.join(dataDir, 'server.log')}`);
    const caFile = path.join(dataDir, 'tls', 'ca.pem');
    const tokenFile = path.join(dataDir, 'root.token');
    if (fs.existsSync(caFile) && fs.existsSync(tokenFile)) {
      const http = new HttpTransport({ address: `https://127.0.0.1:${port}`, caPem: fs.readFileSync(caFile, 'utf8'), timeoutMs: 10_000 });
      try {
        const r = await http.request({ method: 'GET', path: '/v1/sys/health' });
        if (r.status === 200) return { http, token: fs.readFileSync(tokenFile, 'utf8').trim() };
      } catch {
        // not listening yet
      }
      http.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function kill9(): Promise<void> {
  const c = child;
  child = null;
  if (!c || c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
}

afterAll(async () => {
  await kill9();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const valueOf = (i: number, v: number): string => `secret-${i}-v${v}`;

describe('bulk rewrap survives kill -9', () => {
  it(`when the server is SIGKILLed at a seeded point of the _kv rewrap, then the job resumes after restart, finishes, and no secret version is lost or duplicated (seed ${SEED})`, async () => {
    process.stdout.write(`rewrap-kill seed=${SEED} dataDir=${dataDir}\n`);
    const rand = prng(SEED);
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
    await kill9();
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
    await kill9();
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
