/**
 * `keyward server --dev --workers 2` through the real CLI: node:cluster workers share the listener,
 * each with its own PKCS#11 session and SQLite connection. The test build exposes which worker served
 * a request (X-Keyward-Worker, only with KEYWARD_EXPOSE_WORKER_ID=1), so each assertion can be made
 * against a chosen worker: round-robin means a few fresh connections reach every worker.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../soak/child-server.js';

interface Reply {
  status: number;
  worker: string;
  body: Record<string, unknown>;
}

let server: ChildServer | undefined;
let dataDir: string;
let base: string;
let ca: string;
let root: string;

function call(method: string, p: string, token: string | null, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(p, base),
      { method, ca, agent: false, headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(payload ? { 'Content-Type': 'application/json' } : {}) } },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-keyward-worker'] ?? ''), body: data ? (JSON.parse(data) as Record<string, unknown>) : {} }),
        );
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Repeat a (side-effect-free or idempotent) request on fresh connections until `worker` answers it. */
async function onWorker(worker: string, method: string, p: string, token: string | null, body?: unknown): Promise<Reply> {
  for (let i = 0; i < 40; i += 1) {
    const r = await call(method, p, token, body);
    if (r.worker === worker) return r;
  }
  throw new Error(`worker ${worker} never answered`);
}

const data = (r: Reply): Record<string, unknown> => r.body['data'] as Record<string, unknown>;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-workers-'));
  // Ready once the primary has reported both workers (not merely the first one listening).
  server = await startChildServer({ dataDir, args: ['--workers', '2'], env: { KEYWARD_EXPOSE_WORKER_ID: '1' }, readyOutput: /Workers: 2/, timeoutMs: 90_000 });
  base = server.url;
  ca = server.caPem;
  root = server.rootToken;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('keyward server --workers 2', () => {
  it('when requests arrive on fresh connections, then both workers serve them with the one root token', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i += 1) {
      const r = await call('GET', '/v1/auth/token/lookup-self', root);
      expect(r.status).toBe(200);
      seen.add(r.worker);
    }
    expect([...seen].sort()).toEqual(['1', '2']);
  });

  it('when a key is rotated through one worker, then the other worker reads, decrypts and refuses by the new state', async () => {
    expect((await onWorker('1', 'POST', '/v1/transit/keys/wk', root, {})).status).toBeLessThan(300);
    const v1 = await onWorker('2', 'POST', '/v1/transit/encrypt/wk', root, { plaintext: Buffer.from('one').toString('base64') });
    expect(String(data(v1)['ciphertext'])).toMatch(/^vault:v1:/);

    expect((await onWorker('1', 'POST', '/v1/transit/keys/wk/rotate', root, {})).status).toBeLessThan(300);
    const v2 = await onWorker('1', 'POST', '/v1/transit/encrypt/wk', root, { plaintext: Buffer.from('two').toString('base64') });
    expect(String(data(v2)['ciphertext'])).toMatch(/^vault:v2:/);

    // Worker 2 may still hold its cached record (TTL): a v2 ciphertext makes it read afresh.
    const opened = await onWorker('2', 'POST', '/v1/transit/decrypt/wk', root, { ciphertext: data(v2)['ciphertext'] });
    expect(opened.status).toBe(200);
    expect(Buffer.from(String(data(opened)['plaintext']), 'base64').toString()).toBe('two');
    const read = await onWorker('2', 'GET', '/v1/transit/keys/wk', root);
    expect(data(read)['latest_version']).toBe(2);

    // A config change through worker 1 (min_decryption_version = 2) binds worker 2 once its record is re-read.
    expect((await onWorker('1', 'POST', '/v1/transit/keys/wk/config', root, { min_decryption_version: 2 })).status).toBeLessThan(300);
    let refused = false;
    for (let i = 0; i < 200 && !refused; i += 1) {
      const r = await onWorker('2', 'POST', '/v1/transit/decrypt/wk', root, { ciphertext: data(v1)['ciphertext'] });
      refused = r.status >= 400;
      if (!refused) await new Promise((res) => setTimeout(res, 50));
    }
    expect(refused).toBe(true);
  });

  it('when a token is revoked through one worker, then neither worker accepts it', async () => {
    const created = await onWorker('1', 'POST', '/v1/auth/token/create', root, { ttl: '1h' });
    const token = String((created.body['auth'] as Record<string, unknown>)['client_token']);
    // Both workers verify (and cache) it first.
    expect((await onWorker('1', 'GET', '/v1/auth/token/lookup-self', token)).status).toBe(200);
    expect((await onWorker('2', 'GET', '/v1/auth/token/lookup-self', token)).status).toBe(200);

    // Revoking an already revoked token answers 204 too, so retrying until worker 2 answers is safe.
    expect((await onWorker('2', 'POST', '/v1/auth/token/revoke', root, { token })).status).toBeLessThan(300);
    expect((await onWorker('1', 'GET', '/v1/auth/token/lookup-self', token)).status).toBe(403);
    expect((await onWorker('2', 'GET', '/v1/auth/token/lookup-self', token)).status).toBe(403);
  });
});
