/**
 * Secrets stay secret: after a run of real traffic against a real server process (transit with known
 * plaintexts, KV writes, tokens, AppRole secret IDs, a wrapped response), none of those values
 * appears — raw or base64 — in the audit file device, the SQLite file and its WAL, or the server's
 * log (captured at debug level). The dev root token is excluded from the log check only: dev mode
 * prints it once by design.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type KeywardClient } from '../../clients/sdk/index.js';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { startChildServer, type ChildServer } from '../soak/child-server.js';

const PLAINTEXT = 'card-4111-1111-1111-1111-plain-7c3e';
const SECRET_VALUE = 'db-password-9f8e7d6c-unique';
const AAD = 'order-77aa-associated';
let server: ChildServer;
let dataDir: string;
let logFile: string;
let http: HttpTransport;
let root: KeywardClient;
const secrets: Array<{ what: string; value: string; inLogToo: boolean }> = [];

const call = async (method: 'GET' | 'POST', p: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<any> =>
  http.json({ method, path: `/v1/${p}`, ...(body !== undefined ? { body } : {}), token: token ?? server.rootToken, ...(headers ? { headers } : {}) });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-leak-'));
  logFile = path.join(dataDir, 'server-output.log');
  server = await startChildServer({ dataDir, logFile, args: ['--log-level', 'debug'], env: { KEYWARD_LIFECYCLE_TICK_SECONDS: '0' } });
  http = new HttpTransport({ address: server.url, caPem: server.caPem });
  root = createClient({ address: server.url, caPem: server.caPem, auth: { token: server.rootToken } });
  const auditFile = path.join(dataDir, 'audit.jsonl');
  await call('POST', 'sys/audit/file', { type: 'file', options: { file_path: auditFile } });

  // Transit with a known plaintext and associated data; a data key; a decryption.
  const b64 = Buffer.from(PLAINTEXT).toString('base64');
  const enc = await call('POST', 'transit/encrypt/leaky', { plaintext: b64, associated_data: Buffer.from(AAD).toString('base64') });
  await call('POST', 'transit/decrypt/leaky', { ciphertext: enc.data.ciphertext, associated_data: Buffer.from(AAD).toString('base64') });
  const dk = await call('POST', 'transit/datakey/plaintext/leaky', { bits: 256 });
  secrets.push({ what: 'data key', value: dk.data.plaintext, inLogToo: true });
  // KV.
  await root.secrets.write('app/db', { password: SECRET_VALUE });
  await root.secrets.read('app/db');
  // Tokens: a child token, an AppRole secret ID and its login token, a wrapped response.
  await call('POST', 'sys/policies/acl/leaky', { policy: 'path "transit/encrypt/leaky" { capabilities = ["update"] }' });
  const child = await call('POST', 'auth/token/create', { policies: ['leaky'], ttl: '10m' });
  await call('POST', 'transit/encrypt/leaky', { plaintext: b64 }, child.auth.client_token);
  await call('POST', 'auth/approle/role/leaky', { token_policies: ['leaky'] });
  const roleId = (await call('GET', 'auth/approle/role/leaky/role-id')).data.role_id as string;
  const secretId = (await call('POST', 'auth/approle/role/leaky/secret-id', {})).data.secret_id as string;
  const login = await http.json<any>({ method: 'POST', path: '/v1/auth/approle/login', body: { role_id: roleId, secret_id: secretId } });
  const wrapped = await call('GET', 'secret/data/app/db', undefined, undefined, { 'X-Vault-Wrap-TTL': '5m' });
  await http.json({ method: 'POST', path: '/v1/sys/wrapping/unwrap', token: wrapped.wrap_info.token });
  // A failed login with a bad secret ID and a bad token are audited too; their values must not be kept.
  await http.json({ method: 'POST', path: '/v1/auth/approle/login', body: { role_id: roleId, secret_id: `${secretId.slice(0, -3)}xyz` } }).catch(() => undefined);
  await call('GET', 'auth/token/lookup-self', undefined, `${child.auth.client_token}x`).catch(() => undefined);

  secrets.push(
    { what: 'plaintext', value: PLAINTEXT, inLogToo: true },
    { what: 'plaintext (base64)', value: b64, inLogToo: true },
    { what: 'associated data', value: AAD, inLogToo: true },
    { what: 'KV secret value', value: SECRET_VALUE, inLogToo: true },
    { what: 'child token', value: child.auth.client_token, inLogToo: true },
    { what: 'AppRole secret ID', value: secretId, inLogToo: true },
    { what: 'AppRole login token', value: login.auth.client_token, inLogToo: true },
    { what: 'wrapping token', value: wrapped.wrap_info.token, inLogToo: true },
    { what: 'root token', value: server.rootToken, inLogToo: false },
    { what: 'HSM PIN', value: fs.readFileSync(path.join(dataDir, 'hsm', 'pin'), 'utf8').trim(), inLogToo: true },
  );
  root.close();
  await server.stop(); // graceful: flushes the audit trail and checkpoints the WAL into the db file
});

afterAll(() => {
  http?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('no secret at rest or in logs', () => {
  it('when the run is over, then the audit file, the database, its WAL and the server log hold no plaintext, secret value, token, secret ID or PIN', () => {
    const auditFile = path.join(dataDir, 'audit.jsonl');
    const auditText = fs.readFileSync(auditFile, 'utf8');
    expect(auditText.split('\n').filter((l) => l !== '').length).toBeGreaterThan(20); // the device really recorded the run
    expect(auditText).toContain('hmac-sha256:');
    const stores = ['keyward.db', 'keyward.db-wal', 'keyward.db-shm'].map((f) => path.join(dataDir, f)).filter((f) => fs.existsSync(f));
    expect(stores.length).toBeGreaterThan(0);
    const found: string[] = [];
    for (const s of secrets) {
      const needle = Buffer.from(s.value);
      for (const file of [auditFile, ...stores, ...(s.inLogToo ? [logFile] : [])]) {
        if (fs.readFileSync(file).includes(needle)) found.push(`${s.what} in ${path.basename(file)}`);
      }
    }
    expect(found).toEqual([]);
  });
});
