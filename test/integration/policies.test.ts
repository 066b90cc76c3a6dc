/**
 * Policy management and authorisation wiring through the real pipeline (buildApp): SQLite ':memory:'
 * policy + token stores, TokenService over MemoryHsm, the store-backed authorizer, audit no-op.
 * A stand-in transit route answers 404 for every key, to show authorisation runs before lookup.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../hsm-sim/memory-hsm.js';
import { jsHclDecoder } from '../../vault/src/adapters/hcl/js-hcl-decoder.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import { SqlitePolicyStore } from '../../vault/src/adapters/sqlite/sqlite-policy-store.js';
import { SqliteTokenStore } from '../../vault/src/adapters/sqlite/sqlite-token-store.js';
import { tokenAuthenticator } from '../../vault/src/auth/token-authenticator.js';
import { TokenService } from '../../vault/src/auth/token-service.js';
import { notFound } from '../../vault/src/core/errors.js';
import { parseEnvironment } from '../../vault/src/core/types.js';
import { buildApp } from '../../vault/src/http/app.js';
import type { RouteSpec } from '../../vault/src/http/route-spec.js';
import { tokenRoutes } from '../../vault/src/http/routes/auth/token.js';
import { oidcRoutes } from '../../vault/src/http/routes/identity/oidc.js';
import { accessReviewRoutes } from '../../vault/src/http/routes/sys/access-review.js';
import { capabilityRoutes } from '../../vault/src/http/routes/sys/capabilities.js';
import { policyRoutes } from '../../vault/src/http/routes/sys/policies.js';
import { makeStoreAuthorizer } from '../../vault/src/usecases/authorize.js';
import { makePolicyAdmin } from '../../vault/src/usecases/policy-admin.js';
import type { RoleSource } from '../../vault/src/usecases/role-source.js';

const DEV = parseEnvironment('dev');
const PROD = parseEnvironment('prod');
const ISSUER = 'https://keyward.test:8200';
let db: SqliteConnection;
let server: Server;
let base: string;
let tokens: TokenService;
let root: string;

const roles: RoleSource = {
  listRoles: async (env) =>
    env === 'prod'
      ? [
          { kind: 'approle', name: 'billing-svc', policies: ['payments-decrypt'], tokenTtl: 3600, tokenMaxTtl: 86400, secretIdTtl: 86400 },
          { kind: 'jwt', name: 'sre', policies: ['ops'], tokenTtl: 3600, tokenMaxTtl: 28800 },
          { kind: 'approle', name: 'web', policies: ['web-encrypt'], tokenTtl: 3600, tokenMaxTtl: 0 },
        ]
      : [],
};

// Stand-in for the transit routes: every key is unknown here, so an authorised caller gets 404.
const fakeTransit: RouteSpec[] = [
  { method: 'GET', path: '/transit/keys/:name', operation: 'transit.keys.read', handler: async () => { throw notFound(); } },
  { method: 'POST', path: '/transit/encrypt/:name', operation: 'transit.encrypt', handler: async (req) => ({ data: { ciphertext: `vault:v1:${String(req.params['name'])}` } }) },
];

beforeAll(async () => {
  db = await openDatabase({ file: ':memory:' });
  const hsm = new MemoryHsm();
  tokens = new TokenService({ hsm, store: new SqliteTokenStore(db) }, { issuer: ISSUER });
  await tokens.ensureActiveKey();
  const store = new SqlitePolicyStore(db);
  const authorizer = makeStoreAuthorizer({ store });
  const admin = makePolicyAdmin({ store, decoder: jsHclDecoder, onChange: (env) => authorizer.invalidate(env) });
  const app = buildApp({
    routes: [
      ...policyRoutes({ admin, roles }),
      ...capabilityRoutes({ tokens, acls: authorizer }),
      ...accessReviewRoutes({ admin, roles, listKeys: async () => ['payments', 'web'], listSecretPaths: async () => ['billing/db'] }),
      ...tokenRoutes({ tokens }),
      ...oidcRoutes({ tokens, issuer: ISSUER }),
      ...fakeTransit,
    ],
    authenticator: tokenAuthenticator(tokens, DEV),
    authorizer,
    audit: { record: async () => {} },
    environments: [DEV, parseEnvironment('staging'), PROD],
    defaultEnvironment: DEV,
    logger: pino({ level: 'silent' }),
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  root = (await tokens.issueRootToken()).token;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (db) closeDatabase(db);
});

async function call(method: string, p: string, opts: { token?: string; env?: string; body?: unknown } = {}): Promise<{ status: number; json: Record<string, any>; text: string; type: string | null }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== undefined) headers['X-Vault-Token'] = opts.token;
  if (opts.env !== undefined) headers['X-Vault-Namespace'] = opts.env;
  const res = await fetch(`${base}${p}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, any>);
  } catch {
    json = {};
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') };
}

async function tokenFor(env: typeof DEV, policies: string[]): Promise<string> {
  return (await tokens.issue({ subject: `t-${policies.join('-')}`, authMethod: 'token', policies, env })).token;
}

const HCL_V1 = `path "transit/encrypt/orders" {\n  capabilities = ["update"]\n}\n`;
const HCL_V2 = `path "transit/encrypt/orders" {\n  capabilities = ["update"]\n}\npath "transit/keys/orders" {\n  capabilities = ["read"]\n}\n`;

describe('policy CRUD, history and diff', () => {
  it('when an HCL policy is written, read, rewritten and deleted, then Vault answers and the history and diff follow', async () => {
    expect((await call('PUT', '/sys/policies/acl/orders', { token: root, env: 'dev', body: { policy: HCL_V1 } })).status).toBe(204);
    const read = await call('GET', '/sys/policies/acl/orders', { token: root, env: 'dev' });
    expect(read.status).toBe(200);
    expect(read.json.data).toEqual({ name: 'orders', policy: HCL_V1 });
    expect((await call('POST', '/sys/policies/acl/orders', { token: root, env: 'dev', body: { policy: HCL_V2 } })).status).toBe(204);
    const list = await call('GET', '/sys/policies/acl?list=true', { token: root, env: 'dev' });
    expect(list.json.data.keys).toEqual(['default', 'orders', 'root']);
    const hist = await call('GET', '/sys/policies/acl/orders/history', { token: root, env: 'dev' });
    expect(hist.json.data.versions.map((v: any) => [v.version, v.author, v.deleted])).toEqual([[1, 'root', false], [2, 'root', false]]);
    expect(typeof hist.json.data.versions[0].created_time).toBe('string');
    const diff = await call('GET', '/sys/policies/acl/orders/diff?from=1&to=2', { token: root, env: 'dev' });
    expect(diff.status).toBe(200);
    expect(diff.json.data.changed).toBe(true);
    expect(diff.json.data.paths).toEqual([expect.objectContaining({ path: 'transit/keys/orders', change: 'added', capabilities: { added: ['read'], removed: [] } })]);
    expect((await call('DELETE', '/sys/policies/acl/orders', { token: root, env: 'dev' })).status).toBe(204);
    expect((await call('GET', '/sys/policies/acl/orders', { token: root, env: 'dev' })).status).toBe(404);
    const after = await call('GET', '/sys/policies/acl/orders/history', { token: root, env: 'dev' });
    expect(after.json.data.versions.at(-1)).toMatchObject({ version: 3, deleted: true });
  });

  it('when root or default are written/deleted, then Vault\'s rules apply (400), and default reads as the built-in', async () => {
    expect((await call('PUT', '/sys/policies/acl/root', { token: root, env: 'dev', body: { policy: HCL_V1 } })).status).toBe(400);
    expect((await call('DELETE', '/sys/policies/acl/root', { token: root, env: 'dev' })).status).toBe(400);
    expect((await call('DELETE', '/sys/policies/acl/default', { token: root, env: 'dev' })).status).toBe(400);
    const def = await call('GET', '/sys/policies/acl/default', { token: root, env: 'staging' });
    expect(def.status).toBe(200);
    expect(JSON.parse(def.json.data.policy).path['auth/token/lookup-self']).toEqual({ capabilities: ['read'] });
    expect((await call('PUT', '/sys/policies/acl/bad', { token: root, env: 'dev', body: { policy: 'path "x" { capabilities = [' } })).status).toBe(400);
  });

  it('when the older sys/policy API is used, then fields come at the top level and in data', async () => {
    expect((await call('PUT', '/sys/policy/legacy', { token: root, env: 'dev', body: { rules: HCL_V1 } })).status).toBe(204);
    const list = await call('GET', '/sys/policy', { token: root, env: 'dev' });
    expect(list.json.policies).toContain('legacy');
    expect(list.json.data.keys).toContain('legacy');
    const read = await call('GET', '/sys/policy/legacy', { token: root, env: 'dev' });
    expect(read.json).toMatchObject({ name: 'legacy', rules: HCL_V1, data: { name: 'legacy', rules: HCL_V1 } });
  });
});

describe('enforcement', () => {
  it('when a token has a narrow policy, then it gets exactly that and 403 elsewhere, even on a key that does not exist', async () => {
    await call('PUT', '/sys/policies/acl/narrow', { token: root, env: 'dev', body: { policy: JSON.stringify({ path: { 'transit/encrypt/orders': { capabilities: ['update'] }, 'transit/keys/orders': { capabilities: ['read'] } } }) } });
    const t = await tokenFor(DEV, ['narrow']);
    expect((await call('POST', '/transit/encrypt/orders', { token: t, env: 'dev', body: { plaintext: 'aGk=' } })).status).toBe(200);
    expect((await call('POST', '/transit/encrypt/other', { token: t, env: 'dev', body: { plaintext: 'aGk=' } })).status).toBe(403);
    // Authorised read of a missing key: 404; unauthorised read of a missing key: 403 (no existence oracle).
    expect((await call('GET', '/transit/keys/orders', { token: t, env: 'dev' })).status).toBe(404);
    expect((await call('GET', '/transit/keys/ghost', { token: t, env: 'dev' })).status).toBe(403);
    expect((await call('GET', '/sys/policies/acl/narrow', { token: t, env: 'dev' })).status).toBe(403);
  });

  it('when a policy is changed, then the next request sees it', async () => {
    const t = await tokenFor(DEV, ['narrow']);
    expect((await call('POST', '/transit/encrypt/later', { token: t, env: 'dev', body: {} })).status).toBe(403);
    await call('PUT', '/sys/policies/acl/narrow', { token: root, env: 'dev', body: { policy: JSON.stringify({ path: { 'transit/encrypt/*': { capabilities: ['update'] } } }) } });
    expect((await call('POST', '/transit/encrypt/later', { token: t, env: 'dev', body: {} })).status).toBe(200);
  });

  it('when a dev token is used against prod, then it is refused even though prod has a matching policy of the same name', async () => {
    await call('PUT', '/sys/policies/acl/narrow', { token: root, env: 'prod', body: { policy: JSON.stringify({ path: { 'transit/encrypt/*': { capabilities: ['update'] } } }) } });
    const t = await tokenFor(DEV, ['narrow']);
    expect((await call('POST', '/transit/encrypt/x', { token: t, env: 'prod', body: {} })).status).toBe(403);
    expect((await call('POST', '/prod/transit/encrypt/x', { token: t, body: {} })).status).toBe(403);
    // No namespace given: the token's own environment applies.
    expect((await call('POST', '/transit/encrypt/x', { token: t, body: {} })).status).toBe(200);
  });

  it('when a token asks capabilities-self, then the answer matches its policy (top level and data)', async () => {
    await call('PUT', '/sys/policies/acl/caps', { token: root, env: 'dev', body: { policy: JSON.stringify({ path: { 'secret/data/app/*': { capabilities: ['read', 'list'] } } }) } });
    const t = await tokenFor(DEV, ['caps']);
    const r = await call('POST', '/sys/capabilities-self', { token: t, env: 'dev', body: { paths: ['secret/data/app/db'] } });
    expect(r.status).toBe(200);
    expect(r.json.capabilities).toEqual(['list', 'read']);
    expect(r.json.data['secret/data/app/db']).toEqual(['list', 'read']);
    const two = await call('POST', '/sys/capabilities-self', { token: t, env: 'dev', body: { paths: ['secret/data/app/db', 'transit/keys/x'] } });
    expect(two.json.data).toEqual({ 'secret/data/app/db': ['list', 'read'], 'transit/keys/x': ['deny'] });
    const other = await call('POST', '/sys/capabilities', { token: root, env: 'dev', body: { token: t, paths: ['secret/data/app/db'] } });
    expect(other.json.capabilities).toEqual(['list', 'read']);
    const wrongEnv = await call('POST', '/sys/capabilities', { token: root, env: 'prod', body: { token: t, paths: ['secret/data/app/db'] } });
    expect(wrongEnv.status).toBe(400);
    expect((await call('POST', '/sys/capabilities', { token: t, env: 'dev', body: { token: t, paths: ['x'] } })).status).toBe(403);
  });
});

describe('tokens', () => {
  it('when a child token asks for policies its parent lacks, then 403; within them, then an auth block', async () => {
    await call('PUT', '/sys/policies/acl/creator', { token: root, env: 'dev', body: { policy: JSON.stringify({ path: { 'auth/token/create': { capabilities: ['update'] } } }) } });
    const parent = await tokenFor(DEV, ['creator', 'caps']);
    expect((await call('POST', '/auth/token/create', { token: parent, env: 'dev', body: { policies: ['narrow'] } })).status).toBe(403);
    const ok = await call('POST', '/auth/token/create', { token: parent, env: 'dev', body: { policies: ['caps'], ttl: '10m' } });
    expect(ok.status).toBe(200);
    expect(ok.json.auth).toMatchObject({ policies: ['caps', 'default'], token_policies: ['caps', 'default'], renewable: false, token_type: 'service', orphan: false, lease_duration: 600 });
    // An orphan needs sudo.
    expect((await call('POST', '/auth/token/create', { token: parent, env: 'dev', body: { policies: ['caps'], no_parent: true } })).status).toBe(403);
    const self = await call('GET', '/auth/token/lookup-self', { token: ok.json.auth.client_token, env: 'dev' });
    expect(self.status).toBe(200);
    expect(self.json.data).toMatchObject({ id: ok.json.auth.client_token, accessor: ok.json.auth.accessor, type: 'service', renewable: false, orphan: false, policies: ['caps', 'default'], path: 'auth/token/create', explicit_max_ttl: 0 });
    expect(self.json.data.ttl).toBeGreaterThan(590);
    expect(self.json.data.ttl).toBeLessThanOrEqual(600);
    expect(self.json.data.expire_time).toMatch(/^\d{4}-\d\d-\d\dT/);
    const byAcc = await call('POST', '/auth/token/lookup-accessor', { token: root, env: 'dev', body: { accessor: ok.json.auth.accessor } });
    expect(byAcc.json.data.id).toBe('');
    expect((await call('POST', '/auth/token/renew-self', { token: ok.json.auth.client_token, env: 'dev' })).status).toBe(400);
  });

  it('when a token revokes itself, then it is refused at once', async () => {
    const t = await tokenFor(DEV, ['caps']);
    expect((await call('GET', '/auth/token/lookup-self', { token: t, env: 'dev' })).status).toBe(200);
    expect((await call('POST', '/auth/token/revoke-self', { token: t, env: 'dev' })).status).toBe(204);
    expect((await call('GET', '/auth/token/lookup-self', { token: t, env: 'dev' })).status).toBe(403);
  });

  it('when JWKS and discovery are fetched without a token, then they describe the signing key', async () => {
    const keys = await call('GET', '/identity/oidc/.well-known/keys');
    expect(keys.status).toBe(200);
    expect(keys.json.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256' });
    const conf = await call('GET', '/identity/oidc/.well-known/openid-configuration');
    expect(conf.json).toMatchObject({ issuer: ISSUER, jwks_uri: `${ISSUER}/v1/identity/oidc/.well-known/keys`, id_token_signing_alg_values_supported: ['ES256'] });
  });
});

describe('access review', () => {
  it('when asked who can decrypt with prod/payments, then JSON and CSV name exactly the granting roles', async () => {
    await call('PUT', '/sys/policies/acl/payments-decrypt', { token: root, env: 'prod', body: { policy: JSON.stringify({ path: { 'transit/decrypt/payments': { capabilities: ['update'] } } }) } });
    await call('PUT', '/sys/policies/acl/ops', { token: root, env: 'prod', body: { policy: JSON.stringify({ path: { 'transit/keys/*': { capabilities: ['read'] }, 'transit/decrypt/*': { capabilities: ['deny'] } } }) } });
    await call('PUT', '/sys/policies/acl/web-encrypt', { token: root, env: 'prod', body: { policy: JSON.stringify({ path: { 'transit/encrypt/payments': { capabilities: ['update'] } } }) } });
    const r = await call('GET', '/sys/access-review?path=transit/decrypt/payments&capability=update', { token: root, env: 'prod' });
    expect(r.status).toBe(200);
    expect(r.json.data.rows.map((x: any) => [x.role, x.granting_policies])).toEqual([['billing-svc', ['payments-decrypt']]]);
    const csv = await call('GET', '/sys/access-review?path=transit/decrypt/payments&capability=update&format=csv', { token: root, env: 'prod' });
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^kind,role,path,capability,allowed,granting_policies/);
    expect(lines.slice(1)).toEqual(['approle,billing-svc,transit/decrypt/payments,update,true,payments-decrypt,transit/decrypt/payments,false,,']);
    const all = await call('GET', '/sys/access-review', { token: root, env: 'prod' });
    const paths = new Set(all.json.data.rows.map((x: any) => x.path));
    expect(paths.has('transit/decrypt/payments')).toBe(true);
    expect(paths.has('transit/keys/web')).toBe(true);
    expect(all.json.data.paths).toBe(13);
  });

  it('when the environment is linted, then high findings are counted', async () => {
    const r = await call('GET', '/sys/policies/lint', { token: root, env: 'prod' });
    expect(r.status).toBe(200);
    expect(r.json.data.findings.some((f: any) => f.rule === 'unbounded-token-ttl' && f.role === 'web' && f.severity === 'high')).toBe(true);
    expect(r.json.data.high).toBeGreaterThan(0);
  });
});
