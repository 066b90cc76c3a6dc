/**
 * kill -9 during root KEK rotation (DESIGN.md §6). The real server runs as a child process on a dev
 * data dir; 200 key versions (20 keys × 10) each seal one ciphertext; the root is rotated three
 * times, and each rotation is SIGKILLed at a seeded point mid-job (tiny batches with a delay make the
 * job slow enough to hit). After each restart on the same data dir the job must finish by itself,
 * every earlier ciphertext must decrypt, no version may be duplicated or lost, the old root must end
 * retired (here destroyed: grace 0).
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
const SEED = Number(process.env['KEYWARD_FAULT_SEED'] ?? 20250105);
const KEYS = 20;
const VERSIONS = 10;

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

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-kill-'));
let child: ChildProcess | null = null;
let port = 0;

async function startServer(): Promise<{ http: HttpTransport; token: string }> {
  port = port || (await freePort());
  const log = fs.openSync(path.join(dataDir, 'server.log'), 'a');
  child = spawn(process.execPath, ['--import', 'tsx', 'clients/cli/main.ts', 'server', '--dev', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'], {
    cwd: ROOT,
    env: {
      ...process.env,
      KEYWARD_TEST_ROTATION_BATCH_DELAY_MS: '40',
      KEYWARD_ROTATION_BATCH_SIZE: '5',
      KEYWARD_ROTATION_LEASE_SECONDS: '2',
      KEYWARD_ROOT_RETIRE_GRACE_SECONDS: '0',
      KEYWARD_LIFECYCLE_TICK_SECONDS: '1',
    },
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`server did not start; see ${path.join(dataDir, 'server.log')}`);
    const caFile = path.join(dataDir, 'tls', 'ca.pem');
    const tokenFile = path.join(dataDir, 'root.token');
    if (fs.existsSync(caFile) && fs.existsSync(tokenFile)) {
      const http = new HttpTransport({ address: `https://127.0.0.1:${port}`, caPem: fs.readFileSync(caFile, 'utf8'), timeoutMs: 5_000 });
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

describe('root rotation survives kill -9', () => {
  it(`when the server is SIGKILLed at three seeded points of three root rotations, then each job finishes after restart and nothing is lost (seed ${SEED})`, async () => {
    process.stdout.write(`root-rotation-kill seed=${SEED} dataDir=${dataDir}\n`);
    const rand = prng(SEED);
    let { http, token } = await startServer();
    const call = async (method: 'GET' | 'POST', p: string, body?: unknown): Promise<any> => {
      const r = await http.request({ method, path: `/v1${p}`, token, ...(body !== undefined ? { body } : {}) });
      if (r.status >= 300) throw new Error(`${method} ${p} → ${r.status} ${r.body}`);
      return r.body ? JSON.parse(r.body) : undefined;
    };

    const cts: Array<{ key: string; text: string; ciphertext: string }> = [];
    for (let k = 0; k < KEYS; k++) {
      const key = `kill${k}`;
      for (let v = 1; v <= VERSIONS; v++) {
        if (v > 1) await call('POST', `/transit/keys/${key}/rotate`);
        const text = `${key}-v${v}`;
        const r = await call('POST', `/transit/encrypt/${key}`, { plaintext: Buffer.from(text).toString('base64') });
        expect(r.data.ciphertext).toMatch(new RegExp(`^vault:v${v}:`));
        cts.push({ key, text, ciphertext: r.data.ciphertext });
      }
    }
    const total = KEYS * VERSIONS;

    for (let round = 1; round <= 3; round++) {
      // Spread the kill points: early, middle, late third of the job, seeded within each.
      const killAt = Math.floor(total * ((round - 1) / 3 + rand() / 3 * 0.9) + 5);
      const started = await call('POST', '/sys/rotate');
      expect(started.data).toMatchObject({ from_term: round, term: round + 1, total });
      for (;;) {
        const s = (await call('GET', '/sys/key-status')).data;
        if (s.rotation.done >= killAt) break;
        if (s.rotation.state !== 'rewrapping') throw new Error(`job finished before the kill point ${killAt}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      http.close();
      await kill9();
      process.stdout.write(`  round ${round}: killed after ≥${killAt}/${total} re-wraps\n`);

      ({ http, token } = await startServer());
      let status: any;
      const deadline = Date.now() + 60_000;
      for (;;) {
        status = (await call('GET', '/sys/key-status')).data;
        if (status.rotation.state === 'completed') break;
        if (Date.now() > deadline) throw new Error(`job did not finish after restart: ${JSON.stringify(status.rotation)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status.term).toBe(round + 1);
      expect(status.terms.map((t: { term: number; state: string }) => `${t.term}:${t.state}`)).toEqual([
        ...Array.from({ length: round }, (_, i) => `${i + 1}:destroyed`),
        `${round + 1}:active`,
      ]);
      for (const c of cts) {
        const r = await call('POST', `/transit/decrypt/${c.key}`, { ciphertext: c.ciphertext });
        expect(Buffer.from(r.data.plaintext, 'base64').toString()).toBe(c.text);
      }
    }

    http.close();
    await kill9();
    const db = new Database(path.join(dataDir, 'keyward.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT name, version, root_term FROM transit_key_versions WHERE env = 'dev' ORDER BY name, version").all() as Array<{ name: string; version: number; root_term: number }>;
      expect(rows).toHaveLength(total);
      const perKey = new Map<string, number[]>();
      for (const r of rows) perKey.set(r.name, [...(perKey.get(r.name) ?? []), r.version]);
      for (const versions of perKey.values()) expect(versions).toEqual(Array.from({ length: VERSIONS }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.root_term))).toEqual(new Set([4]));
    } finally {
      db.close();
    }
  }, 300_000);
});
