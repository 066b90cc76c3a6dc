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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { mulberry32 } from '../../hsm-sim/seeded-random.js';
import { restartableChildServer } from '../soak/child-server.js';

const SEED = Number(process.env['KEYWARD_FAULT_SEED'] ?? 20250105);
const KEYS = 20;
const VERSIONS = 10;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-kill-'));
/** The server on one data dir and port across kills; the KEYWARD_* knobs slow the job enough to hit. */
const server = restartableChildServer({
  dataDir,
  logFile: path.join(dataDir, 'server.log'),
  env: {
    KEYWARD_TEST_ROTATION_BATCH_DELAY_MS: '40',
    KEYWARD_ROTATION_BATCH_SIZE: '5',
    KEYWARD_ROTATION_LEASE_SECONDS: '2',
    KEYWARD_ROOT_RETIRE_GRACE_SECONDS: '0',
    KEYWARD_LIFECYCLE_TICK_SECONDS: '1',
  },
});

async function startServer(): Promise<{ http: HttpTransport; token: string }> {
  const s = await server.start();
  return { http: new HttpTransport({ address: s.url, caPem: s.caPem, timeoutMs: 5_000 }), token: s.rootToken };
}

afterAll(async () => {
  await server.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('root rotation survives kill -9', () => {
  it(`when the server is SIGKILLed at three seeded points of three root rotations, then each job finishes after restart and nothing is lost (seed ${SEED})`, async () => {
    process.stdout.write(`root-rotation-kill seed=${SEED} dataDir=${dataDir}\n`);
    const rand = mulberry32(SEED);
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
      await server.kill();
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
    await server.kill();
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
