import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { generate } from 'otplib';
import { buildApp } from '../../../vault/src/http/app.js';
import { approleRoutes, jwtAuthRoutes, mfaRoutes } from '../../../vault/src/http/routes/auth/index.js';
import type { Environment } from '../../../vault/src/core/types.js';
import { DEFAULT_ENVIRONMENTS } from '../../../vault/src/core/types.js';
import type { PolicyEvaluator } from '../../../vault/src/http/pipeline-ports.js';
import { makeIdentityFixture, type IdentityFixture } from './approle-fixture.js';

let server: Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function start(f: IdentityFixture, evaluator?: PolicyEvaluator): Promise<string> {
  const app = buildApp({
    routes: [...approleRoutes({ approle: f.ids.approle }), ...jwtAuthRoutes({ jwtAuth: f.ids.jwtAuth }), ...mfaRoutes({ mfa: f.ids.mfa })],
    authenticator: { authenticate: (t, env) => f.service.verify(t, { env: env ?? ('prod' as Environment) }) },
    authorizer: {
      forPrincipal: async () => evaluator ?? { evaluate: () => ({ allowed: false, grantingPolicies: [], reason: 'root only', mfaMethods: [] }) },
    },
    mfa: f.ids.mfaVerifier,
    audit: { record: async () => {} },
    environments: DEFAULT_ENVIRONMENTS,
    defaultEnvironment: 'prod' as Environment,
    logger: pino({ level: 'silent' }),
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server!.once('listening', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

async function call(base: string, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', 'x-vault-namespace': 'prod', ...(token ? { 'x-vault-token': token } : {}), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null, headers: res.headers };
}

describe('AppRole over HTTP', () => {
  it('when an admin creates a role and a service logs in through the pipeline, then Vault-shaped responses come back', async () => {
    const f = await makeIdentityFixture();
    const root = (await f.service.issueRootToken()).token;
    const base = await start(f);
    expect((await call(base, 'POST', '/v1/auth/approle/role/payments', root, { token_policies: 'pay-read,pay-write', secret_id_num_uses: '1', token_ttl: '10m' })).status).toBe(204);
    const list = await call(base, 'GET', '/v1/auth/approle/role?list=true', root);
    expect(list.body?.data.keys).toEqual(['payments']);
    const role = await call(base, 'GET', '/v1/auth/approle/role/payments', root);
    expect(role.body?.data).toMatchObject({ token_policies: ['pay-read', 'pay-write'], secret_id_num_uses: 1, token_ttl: 600, bind_secret_id: true });
    const roleId = (await call(base, 'GET', '/v1/auth/approle/role/payments/role-id', root)).body?.data.role_id as string;
    const gen = await call(base, 'POST', '/v1/auth/approle/role/payments/secret-id', root, { metadata: '{"team":"pay"}' });
    expect(Object.keys(gen.body?.data).sort()).toEqual(['secret_id', 'secret_id_accessor', 'secret_id_num_uses', 'secret_id_ttl']);
    const accessors = await call(base, 'GET', '/v1/auth/approle/role/payments/secret-id?list=true', root);
    expect(accessors.body?.data.keys).toEqual([gen.body?.data.secret_id_accessor]);
    const lookup = await call(base, 'POST', '/v1/auth/approle/role/payments/secret-id-accessor/lookup', root, { secret_id_accessor: gen.body?.data.secret_id_accessor });
    expect(lookup.body?.data).toMatchObject({ metadata: { team: 'pay' }, secret_id_num_uses: 1 });
    expect(JSON.stringify(lookup.body)).not.toContain(gen.body?.data.secret_id);

    const login = await call(base, 'POST', '/v1/auth/approle/login', null, { role_id: roleId, secret_id: gen.body?.data.secret_id });
    expect(login.status).toBe(200);
    expect(login.body?.auth).toMatchObject({
      policies: ['default', 'pay-read', 'pay-write'],
      token_policies: ['default', 'pay-read', 'pay-write'],
      metadata: { role_name: 'payments', team: 'pay' },
      lease_duration: 600,
      renewable: false,
      token_type: 'service',
      orphan: true,
    });
    const again = await call(base, 'POST', '/v1/auth/approle/login', null, { role_id: roleId, secret_id: gen.body?.data.secret_id });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ errors: ['invalid role or secret ID'] });

    // a non-root token is refused by the (root-only) authorizer
    const svc = login.body?.auth.client_token as string;
    expect((await call(base, 'GET', '/v1/auth/approle/role/payments', svc)).status).toBe(403);
    expect((await call(base, 'DELETE', '/v1/auth/approle/role/payments', root)).status).toBe(204);
    expect((await call(base, 'GET', '/v1/auth/approle/role/payments', root)).status).toBe(404);
    expect((await call(base, 'GET', '/v1/auth/approle/role/payments', svc)).status).toBe(403);
  });

  it('when a policy path needs MFA, then the pipeline asks for X-Vault-MFA and accepts a fresh TOTP code once', async () => {
    const f = await makeIdentityFixture();
    const root = (await f.service.issueRootToken()).token;
    await f.ids.approle.writeRole('prod' as Environment, 'ops', { tokenPolicies: ['ops'] });
    const g = await f.ids.approle.generateSecretId('prod' as Environment, 'ops');
    const evaluator: PolicyEvaluator = {
      evaluate: (path) => ({ allowed: true, grantingPolicies: ['ops'], reason: 'ops', mfaMethods: path.startsWith('auth/approle/role/') && !path.endsWith('/generate') ? ['totp'] : [] }),
    };
    const base = await start(f, evaluator);
    expect((await call(base, 'POST', '/v1/sys/mfa/method/totp/totp', root, { issuer: 'Keyward', period: 30 })).body?.data.method_id).toMatch(/^[0-9a-f-]{36}$/);
    const login = await call(base, 'POST', '/v1/auth/approle/login', null, { role_id: (await f.ids.approle.readRoleId('prod' as Environment, 'ops'))!, secret_id: g.secretId });
    const token = login.body?.auth.client_token as string;
    const enrol = await call(base, 'POST', '/v1/sys/mfa/method/totp/totp/generate', token);
    const url = enrol.body?.data.url as string;
    expect(url).toMatch(/^otpauth:\/\/totp\/Keyward:/);
    const secret = new URL(url).searchParams.get('secret')!;

    const noMfa = await call(base, 'GET', '/v1/auth/approle/role/ops', token);
    expect(noMfa.status).toBe(403);
    expect(noMfa.body?.errors).toEqual(['MFA required: totp']);
    const code = await generate({ secret, epoch: Math.floor(f.clock.now().getTime() / 1000) });
    expect((await call(base, 'GET', '/v1/auth/approle/role/ops', token, undefined, { 'x-vault-mfa': `totp:${code}` })).status).toBe(200);
    expect((await call(base, 'GET', '/v1/auth/approle/role/ops', token, undefined, { 'x-vault-mfa': `totp:${code}` })).status).toBe(403);
  });
});
