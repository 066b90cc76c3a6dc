/**
 * Identity and access end to end: node-vault logs in by AppRole and is allowed exactly what its
 * policy says; critical operations outside dev need TOTP step-up MFA, also for the root token.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import nodeVault from 'node-vault';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
let root: nodeVault.client;
/** The prod TOTP enrolment of the root token's subject, shared by the MFA tests (in order). */
let prodTotpSecret: string | null = null;
/** The 30 s TOTP step whose code that test used (codes work once per step). */
let prodTotpStepUsed = -1;
const stepNow = (): number => Math.floor(Date.now() / 1000 / 30);

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const client = (token?: string, namespace?: string): nodeVault.client =>
  nodeVault({ apiVersion: 'v1', endpoint: server.url, ...(token ? { token } : {}), ...(namespace ? { namespace } : {}), requestOptions: { ca: server.caPem } });
const statusOf = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { response?: { statusCode: number } }).response?.statusCode ?? -1;
  }
};

beforeAll(async () => {
  server = await startDevServer();
  root = client(server.rootToken);
});

afterAll(async () => {
  await server?.destroy();
});

describe('AppRole login through node-vault', () => {
  it('when a service logs in by AppRole, then it may encrypt and decrypt with its key and nothing else', async () => {
    await root.write('transit/keys/payments', {});
    await root.write('transit/keys/other', {});
    await root.addPolicy({
      name: 'payments-app',
      rules: `path "transit/encrypt/payments" { capabilities = ["update"] }
path "transit/decrypt/payments" { capabilities = ["update"] }`,
    });
    await root.write('auth/approle/role/payments', { token_policies: ['payments-app'], token_ttl: '1h', secret_id_ttl: '24h' });
    const roleId = (await root.getApproleRoleId({ role_name: 'payments' })).data.role_id as string;
    const secret = await root.write('auth/approle/role/payments/secret-id', {});
    const secretId = secret.data.secret_id as string;
    expect(secretId).toMatch(/^kwsid_/);

    const app = client();
    const login = await app.approleLogin({ role_id: roleId, secret_id: secretId });
    expect(login.auth.client_token).toBeTruthy();
    expect(login.auth.policies).toEqual(expect.arrayContaining(['payments-app', 'default']));

    const enc = await app.write('transit/encrypt/payments', { plaintext: b64('4111') });
    const dec = await app.write('transit/decrypt/payments', { ciphertext: enc.data.ciphertext });
    expect(Buffer.from(dec.data.plaintext, 'base64').toString()).toBe('4111');

    expect(await statusOf(app.write('transit/encrypt/other', { plaintext: b64('x') }))).toBe(403);
    expect(await statusOf(app.write('transit/keys/payments/rotate', {}))).toBe(403);
    expect(await statusOf(app.read('transit/keys/payments'))).toBe(403);
    // Authorisation happens before any lookup: a key that does not exist is also a 403.
    expect(await statusOf(app.write('transit/decrypt/no-such-key', { ciphertext: 'vault:v1:AAAA' }))).toBe(403);
    // The dev-environment token is not valid in prod, whatever its policy says.
    expect(await statusOf(client(login.auth.client_token as string, 'prod').write('transit/encrypt/payments', { plaintext: b64('x') }))).toBe(403);
  });

  it('when a secret ID is used with the wrong role ID, then login fails with 400', async () => {
    const secret = await root.write('auth/approle/role/payments/secret-id', {});
    expect(await statusOf(client().approleLogin({ role_id: 'wrong', secret_id: secret.data.secret_id }))).toBe(400);
  });
});

describe('revoking an identity or a role', () => {
  const loginAs = async (namespace: string | undefined, role: string): Promise<string> => {
    const admin = client(server.rootToken, namespace);
    await admin.write(`auth/approle/role/${role}`, { token_policies: ['default'] });
    const roleId = (await admin.read(`auth/approle/role/${role}/role-id`)).data.role_id as string;
    const secretId = (await admin.write(`auth/approle/role/${role}/secret-id`, {})).data.secret_id as string;
    const login = await client(undefined, namespace).approleLogin({ role_id: roleId, secret_id: secretId });
    return login.auth.client_token as string;
  };

  it('when a role is revoked in dev, then every dev token of that role stops working at once and the same-named prod role is untouched', async () => {
    const devA = await loginAs(undefined, 'svc-r');
    const devB = await loginAs(undefined, 'svc-r');
    const prod = await loginAs('prod', 'svc-r');
    const res = await root.write('auth/token/revoke-role', { auth_method: 'approle', role: 'svc-r' });
    expect(res.data.revoked).toBe(2);
    expect(await statusOf(client(devA).tokenLookupSelf())).toBe(403);
    expect(await statusOf(client(devB).tokenLookupSelf())).toBe(403);
    expect(await statusOf(client(prod, 'prod').tokenLookupSelf())).toBe(200);
  });

  it('when an identity (subject) is revoked, then its tokens stop working; revoking needs sudo', async () => {
    const token = await loginAs(undefined, 'svc-s');
    const subject = (await client(token).tokenLookupSelf()).data.display_name as string;
    expect(await statusOf(client(token).write('auth/token/revoke-subject', { subject }))).toBe(403);
    await root.write('auth/token/revoke-subject', { subject });
    expect(await statusOf(client(token).tokenLookupSelf())).toBe(403);
  });
});

describe('num_uses', () => {
  it('when a token is created with num_uses 2, then it works twice and is refused (revoked) the third time', async () => {
    // A plain write: node-vault's tokenCreate() would also switch this client to the new token.
    const created = await root.write('auth/token/create', { policies: ['default'], num_uses: 2 });
    const limited = client(created.auth.client_token as string);
    // Inspecting the token with lookup does not use it up.
    await root.write('auth/token/lookup', { token: created.auth.client_token });
    expect(await statusOf(limited.tokenLookupSelf())).toBe(200);
    expect(await statusOf(limited.tokenLookupSelf())).toBe(200);
    expect(await statusOf(limited.tokenLookupSelf())).toBe(403);
    expect(await statusOf(limited.tokenLookupSelf())).toBe(403);
  });
});

describe('token_bound_cidrs', () => {
  const callFrom = (localAddress: string, token: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = new URL('/v1/auth/token/lookup-self', server.url);
      const req = https.request(url, { method: 'GET', ca: server.caPem, localAddress, headers: { 'X-Vault-Token': token } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  it('when a token is bound to 127.0.0.1/32, then it works from there and is refused from 127.0.0.2 on every request', async () => {
    await root.write('auth/approle/role/bound', { token_policies: ['default'], token_bound_cidrs: ['127.0.0.1/32'] });
    const roleId = (await root.getApproleRoleId({ role_name: 'bound' })).data.role_id as string;
    const secretId = (await root.write('auth/approle/role/bound/secret-id', {})).data.secret_id as string;
    const login = await client().approleLogin({ role_id: roleId, secret_id: secretId });
    const token = login.auth.client_token as string;
    expect(await callFrom('127.0.0.1', token)).toBe(200);
    expect(await callFrom('127.0.0.2', token)).toBe(403);
  });
});

describe('MFA for critical operations outside dev', () => {
  it('when the root token changes a prod policy without MFA, then it is refused; with a fresh TOTP code it succeeds, and the code works once', async () => {
    const prod = client(server.rootToken, 'prod');
    const policy = { name: 'reader', rules: 'path "transit/keys/*" { capabilities = ["read"] }' };
    const refused = await prod.addPolicy(policy).catch((e: { response?: { statusCode: number; body: { errors: string[] } } }) => e.response);
    expect(refused?.statusCode).toBe(403);
    expect(refused?.body.errors[0]).toContain('MFA required');

    await prod.write('sys/mfa/method/totp/totp', { issuer: 'Keyward', period: 30, digits: 6, algorithm: 'SHA1' });
    const enrolment = await prod.write('sys/mfa/method/totp/totp/generate', {});
    const url = new URL(enrolment.data.url as string);
    expect(url.protocol).toBe('otpauth:');
    const secret = url.searchParams.get('secret') as string;
    prodTotpSecret = secret;
    prodTotpStepUsed = stepNow();
    const code = await generate({ secret, epoch: prodTotpStepUsed * 30 });

    await prod.addPolicy({ ...policy, requestOptions: { headers: { 'X-Vault-MFA': `totp:${code}` } } });
    const read = await prod.getPolicy({ name: 'reader' });
    expect(read.rules ?? read.data?.rules).toContain('transit/keys/*');
    const reused = await prod.addPolicy({ ...policy, requestOptions: { headers: { 'X-Vault-MFA': `totp:${code}` } } }).catch((e: { response?: { statusCode: number } }) => e.response);
    expect(reused?.statusCode).toBe(403);
  });

  it('when an operator changes a prod policy with the CLI, then it needs --mfa or --mfa-prompt, and works with a fresh code', async () => {
    // The root token's subject was enrolled in the previous test.
    const secret = prodTotpSecret;
    expect(secret).toBeTruthy();
    const file = path.join(server.dataDir, 'cli-policy.hcl');
    fs.writeFileSync(file, 'path "transit/encrypt/*" { capabilities = ["update"] }');
    const env = { VAULT_ADDR: server.url, VAULT_CACERT: server.caFile, VAULT_TOKEN: server.rootToken, VAULT_NAMESPACE: 'prod', KEYWARD_TOKEN_FILE: path.join(server.dataDir, 'none') };

    const without = await runCli(['policy', 'write', 'cli-made', file], { env });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('MFA required');

    // Codes are accepted once and only for a step after the last accepted one (skew 1): the step
    // after the one the previous test used is always valid now.
    const withFlag = await runCli(['--mfa', `totp:${await generate({ secret: secret as string, epoch: (prodTotpStepUsed + 1) * 30 })}`, 'policy', 'write', 'cli-made', file], { env });
    expect(withFlag.stderr).toBe('');
    expect(withFlag.code).toBe(0);

    // The prompt's answer is sent too: a wrong code is refused as a wrong code, not as missing MFA.
    const prompted = await runCli(['--mfa-prompt', 'totp', 'policy', 'write', 'cli-made', file], { env, input: '000000\n' });
    expect(prompted.code).not.toBe(0);
    expect(prompted.stderr).toContain('TOTP code for totp:');
    expect(prompted.stderr).toContain('permission denied');
    expect(prompted.stderr).not.toContain('MFA required');
  });

  it('when the same change is made in dev, then no MFA is needed (dev is exempt in dev mode)', async () => {
    await root.addPolicy({ name: 'dev-reader', rules: 'path "transit/keys/*" { capabilities = ["read"] }' });
    expect((await root.getPolicy({ name: 'dev-reader' })).rules).toContain('transit/keys/*');
  });
});
