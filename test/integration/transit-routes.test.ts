/**
 * Transit routes through the real request pipeline (buildApp), over SoftHSM2 (throwaway token) and SQLite.
 * Authentication is a test double: token "root" is a root token, token "update-only" may `update`
 * transit/encrypt/* but not `create` (so Vault's upsert is refused).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPkcs11Hsm, type Pkcs11Hsm } from '../../vault/src/adapters/pkcs11/pkcs11-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteKeyStore } from '../../vault/src/adapters/sqlite/sqlite-key-store.js';
import { permissionDenied } from '../../vault/src/core/errors.js';
import { systemClock } from '../../vault/src/core/ports/clock.js';
import { parseEnvironment, type Environment } from '../../vault/src/core/types.js';
import { buildApp } from '../../vault/src/http/app.js';
import type { PolicyEvaluator } from '../../vault/src/http/pipeline-ports.js';
import { rootEvaluator } from '../../vault/src/http/pipeline-ports.js';
import type { RequestPrincipal } from '../../vault/src/http/route-spec.js';
import { transitRoutes } from '../../vault/src/http/routes/transit/index.js';
import { makeEnsureEnvironmentRoot } from '../../vault/src/usecases/ensure-environment-root.js';
import { makeTransitUseCases } from '../../vault/src/usecases/transit/index.js';
import { createThrowawayToken, type ThrowawayToken } from '../helpers/throwaway-token.js';

const env = parseEnvironment('dev');
let token: ThrowawayToken;
let hsm: Pkcs11Hsm;
let db: SqliteConnection;
let server: Server;
let base: string;
let tmp: string;

function principal(name: string, isRoot: boolean): RequestPrincipal {
  const now = new Date();
  return { jti: name, accessor: `acc-${name}`, subject: name, authMethod: 'token', role: null, policies: [name], env: '*', isRoot, issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000) };
}

const updateOnly: PolicyEvaluator = {
  evaluate: (aclPath, capability) => {
    const allowed = aclPath.startsWith('transit/encrypt/') && capability === 'update';
    return { allowed, grantingPolicies: allowed ? ['update-only'] : [], reason: allowed ? 'granted' : 'denied', mfaMethods: [] };
  },
};

beforeAll(async () => {
  token = await createThrowawayToken();
  hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, softhsmConf: token.confPath });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-transit-routes-'));
  db = await openDatabase({ file: path.join(tmp, 'keyward.db') });
  const keys = new SqliteKeyStore(db);
  await makeEnsureEnvironmentRoot({ hsm, keys, clock: systemClock })(env);
  const app = buildApp({
    routes: transitRoutes(makeTransitUseCases({ hsm, keys, clock: systemClock })),
    authenticator: {
      authenticate: async (t) => {
        if (t === 'root') return principal('root', true);
        if (t === 'update-only') return principal('update-only', false);
        throw permissionDenied();
      },
    },
    authorizer: { forPrincipal: async (p) => (p.isRoot ? rootEvaluator : updateOnly) },
    audit: { record: async () => {} },
    environments: [env],
    defaultEnvironment: env as Environment,
    logger: pino({ level: 'silent' }),
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await hsm?.close();
  if (db) closeDatabase(db);
  token?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function call(method: string, p: string, body?: unknown, as = 'root'): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { 'X-Vault-Token': as, 'X-Vault-Namespace': 'dev', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, any>) };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('transit routes', () => {
  it('when a key is created and read, then Vault\'s key fields come back', async () => {
    const c = await call('POST', '/transit/keys/orders', { type: 'aes256-gcm96', auto_rotate_period: '24h' });
    expect(c.status).toBe(200);
    const r = await call('GET', '/transit/keys/orders');
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({
      name: 'orders',
      type: 'aes256-gcm96',
      latest_version: 1,
      min_available_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 0,
      deletion_allowed: false,
      derived: false,
      exportable: false,
      allow_plaintext_backup: false,
      supports_encryption: true,
      supports_decryption: true,
      supports_derivation: true,
      supports_signing: false,
      auto_rotate_period: 86400,
      imported_key: false,
    });
    expect(typeof r.json.data.keys['1']).toBe('number');
    const again = await call('POST', '/transit/keys/orders', {});
    expect(again.json.warnings?.length).toBe(1);
  });

  it('when a key is missing, then read is a 404 with an empty errors list', async () => {
    const r = await call('GET', '/transit/keys/nope');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ errors: [] });
  });

  // The LIST verb itself is handled by the server's method rewriter (server.ts), not by buildApp alone.
  it('when keys exist, then GET ?list=true names them', async () => {
    const a = await call('GET', '/transit/keys?list=true');
    expect(a.status).toBe(200);
    expect(a.json.data.keys).toContain('orders');
  });

  it('when plaintext is encrypted and decrypted, then it round-trips through the HSM', async () => {
    const e = await call('POST', '/transit/encrypt/orders', { plaintext: b64('hello') });
    expect(e.status).toBe(200);
    expect(e.json.data.ciphertext).toMatch(/^vault:v1:/);
    expect(e.json.data.key_version).toBe(1);
    const d = await call('POST', '/transit/decrypt/orders', { ciphertext: e.json.data.ciphertext });
    expect(d.json.data.plaintext).toBe(b64('hello'));
  });

  it('when a ciphertext is tampered, then decrypt answers 400 decryption failed', async () => {
    const e = await call('POST', '/transit/encrypt/orders', { plaintext: b64('x') });
    const ct = String(e.json.data.ciphertext);
    const d = await call('POST', '/transit/decrypt/orders', { ciphertext: `${ct.slice(0, -6)}AAAA${ct.slice(-2)}` });
    expect(d.status).toBe(400);
    expect(d.json.errors).toEqual(['decryption failed']);
  });

  it('when a batch has a bad item, then the others succeed and partial_failure_response_code is the status', async () => {
    const e = await call('POST', '/transit/encrypt/orders', {
      plaintext: null,
      batch_input: [{ plaintext: b64('a'), reference: 'r1' }, { plaintext: '!!', reference: 'r2' }],
      partial_failure_response_code: 207,
    });
    expect(e.status).toBe(207);
    expect(e.json.data.batch_results[0]).toMatchObject({ key_version: 1, reference: 'r1' });
    expect(e.json.data.batch_results[1].error).toMatch(/base64/);
    const all = await call('POST', '/transit/encrypt/orders', { batch_input: [{ plaintext: '!!' }], partial_failure_response_code: 207 });
    expect(all.status).toBe(400);
  });

  it('when a key is rotated, then old ciphertexts decrypt, rewrap moves them to the latest, and min_decryption_version refuses the old', async () => {
    const old = (await call('POST', '/transit/encrypt/orders', { plaintext: b64('old') })).json.data.ciphertext as string;
    const rot = await call('POST', '/transit/keys/orders/rotate');
    expect(rot.json.data.latest_version).toBe(2);
    expect((await call('POST', '/transit/decrypt/orders', { ciphertext: old })).json.data.plaintext).toBe(b64('old'));
    const rw = await call('POST', '/transit/rewrap/orders', { ciphertext: old });
    expect(rw.json.data.ciphertext).toMatch(/^vault:v2:/);
    const cfg = await call('POST', '/transit/keys/orders/config', { min_decryption_version: 2 });
    expect(cfg.json.data.min_decryption_version).toBe(2);
    expect((await call('POST', '/transit/decrypt/orders', { ciphertext: old })).status).toBe(400);
    expect((await call('POST', '/transit/decrypt/orders', { ciphertext: rw.json.data.ciphertext })).json.data.plaintext).toBe(b64('old'));
    expect((await call('POST', '/transit/keys/orders/trim', { min_available_version: 2 })).status).toBe(204);
    expect(Object.keys((await call('GET', '/transit/keys/orders')).json.data.keys)).toEqual(['2']);
  });

  it('when a data key is generated, then /decrypt returns the same plaintext and wrapped has none', async () => {
    const p = await call('POST', '/transit/datakey/plaintext/orders', { bits: 512 });
    expect(Buffer.from(p.json.data.plaintext, 'base64').length).toBe(64);
    expect((await call('POST', '/transit/decrypt/orders', { ciphertext: p.json.data.ciphertext })).json.data.plaintext).toBe(p.json.data.plaintext);
    const w = await call('POST', '/transit/datakey/wrapped/orders', {});
    expect(w.json.data.plaintext).toBeUndefined();
    expect((await call('POST', '/transit/datakey/raw/orders', {})).status).toBe(400);
  });

  it('when a derived key is used, then the context is required and must match', async () => {
    await call('POST', '/transit/keys/tenants', { derived: true });
    expect((await call('POST', '/transit/encrypt/tenants', { plaintext: b64('t') })).status).toBe(400);
    const e = await call('POST', '/transit/encrypt/tenants', { plaintext: b64('t'), context: b64('c1') });
    expect((await call('POST', '/transit/decrypt/tenants', { ciphertext: e.json.data.ciphertext, context: b64('c2') })).status).toBe(400);
    expect((await call('POST', '/transit/decrypt/tenants', { ciphertext: e.json.data.ciphertext, context: b64('c1') })).json.data.plaintext).toBe(b64('t'));
  });

  it('when the caller lacks create, then encrypt on a missing key is 403 and nothing is created; with create it upserts', async () => {
    expect((await call('POST', '/transit/encrypt/fresh', { plaintext: b64('x') }, 'update-only')).status).toBe(403);
    expect((await call('GET', '/transit/keys/fresh')).status).toBe(404);
    expect((await call('POST', '/transit/encrypt/fresh', { plaintext: b64('x') })).status).toBe(200);
    expect((await call('POST', '/transit/encrypt/fresh', { plaintext: b64('x') }, 'update-only')).status).toBe(200);
  });

  it('when deletion is not allowed, then delete is 400; once allowed, 204', async () => {
    await call('POST', '/transit/keys/temp', {});
    const d = await call('DELETE', '/transit/keys/temp');
    expect(d.status).toBe(400);
    expect(d.json.errors).toEqual(['deletion is not allowed for this key']);
    await call('POST', '/transit/keys/temp/config', { deletion_allowed: true });
    expect((await call('DELETE', '/transit/keys/temp')).status).toBe(204);
    expect((await call('GET', '/transit/keys/temp')).status).toBe(404);
  });

  it('when exportable or another key type is asked for, then 400', async () => {
    expect((await call('POST', '/transit/keys/x1', { exportable: true })).status).toBe(400);
    expect((await call('POST', '/transit/keys/x2', { type: 'rsa-2048' })).status).toBe(400);
  });
});
