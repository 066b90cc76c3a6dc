import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, KeywardApiError, type KeywardClient } from '../../../clients/sdk/index.js';
import { authReply, err, ok, startFakeVault, type FakeRequest, type FakeVault } from './fake-vault.js';

let vault: FakeVault | undefined;
let client: KeywardClient | undefined;
afterEach(async () => {
  client?.close();
  await vault?.close();
  vault = client = undefined;
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const logins = (v: FakeVault): FakeRequest[] => v.requests.filter((r) => r.path.endsWith('/login'));

describe('AppRole auth', () => {
  it('when the client logs in with AppRole, then it sends role_id/secret_id and uses the issued token', async () => {
    vault = await startFakeVault((req) => (req.path === '/v1/auth/approle/login' ? authReply('tok-1', 3600, ['payments']) : ok({ ciphertext: 'vault:v1:x' })));
    client = createClient({ address: vault.address, auth: { appRole: { roleId: 'rid', secretId: 'sid' } } });
    const info = await client.login();
    expect(info).toMatchObject({ method: 'approle', accessor: 'acc-tok-1', policies: ['payments'], leaseDurationSeconds: 3600 });
    expect(vault.requests[0]!.body).toEqual({ role_id: 'rid', secret_id: 'sid' });
    expect(vault.requests[0]!.headers['x-vault-token']).toBeUndefined();
    await client.transit.encrypt('k', 'x');
    expect(vault.requests[1]!.headers['x-vault-token']).toBe('tok-1');
    expect(client.token()).toBe('tok-1');
  });

  it('when the first call is made without login(), then the client logs in lazily, once for concurrent calls', async () => {
    vault = await startFakeVault((req) => (req.path.endsWith('/login') ? { delayMs: 50, ...authReply('tok-1', 3600) } : ok({ ciphertext: 'vault:v1:x' })));
    client = createClient({ address: vault.address, auth: { appRole: { roleId: 'r', secretId: 's', mount: 'svc-approle' } } });
    await Promise.all([client.transit.encrypt('k', 'a'), client.transit.encrypt('k', 'b'), client.transit.encrypt('k', 'c')]);
    expect(logins(vault)).toHaveLength(1);
    expect(logins(vault)[0]!.path).toBe('/v1/auth/svc-approle/login');
  });

  it('when 2/3 of the lease has passed, then the client logs in again before expiry and uses the new token', async () => {
    let n = 0;
    vault = await startFakeVault((req) => (req.path.endsWith('/login') ? authReply(`tok-${++n}`, 1) : ok({ ciphertext: 'vault:v1:x' })));
    client = createClient({ address: vault.address, auth: { appRole: { roleId: 'r', secretId: 's' } } });
    await client.login();
    const firstLoginAt = logins(vault)[0]!.at;
    await sleep(900); // lease 1 s -> re-login due at ~667 ms
    expect(logins(vault).length).toBeGreaterThanOrEqual(2);
    const gap = logins(vault)[1]!.at - firstLoginAt;
    expect(gap).toBeGreaterThanOrEqual(600);
    expect(gap).toBeLessThan(1000); // before the lease expired
    await client.transit.encrypt('k', 'x');
    const used = vault.requests.filter((r) => r.path.startsWith('/v1/transit/')).at(-1)!;
    expect(used.headers['x-vault-token']).toBe(client.token());
    expect(client.token()).not.toBe('tok-1');
  });

  it('when a call gets 403, then an AppRole client logs in again once and repeats the call', async () => {
    let n = 0;
    vault = await startFakeVault((req) => {
      if (req.path.endsWith('/login')) return authReply(`tok-${++n}`, 3600);
      return req.headers['x-vault-token'] === 'tok-1' ? err(403, 'permission denied') : ok({ ciphertext: 'vault:v1:x' });
    });
    client = createClient({ address: vault.address, auth: { appRole: { roleId: 'r', secretId: 's' } } });
    const res = await client.transit.encrypt('k', 'x');
    expect(res.ciphertext).toBe('vault:v1:x');
    expect(logins(vault)).toHaveLength(2);
  });

  it('when the repeated call also gets 403, then the error surfaces without a login loop', async () => {
    vault = await startFakeVault((req) => (req.path.endsWith('/login') ? authReply('tok', 3600) : err(403, 'permission denied')));
    client = createClient({ address: vault.address, auth: { appRole: { roleId: 'r', secretId: 's' } } });
    const e = await client.transit.encrypt('k', 'x').catch((x: unknown) => x);
    expect((e as KeywardApiError).code).toBe('permission_denied');
    expect(logins(vault)).toHaveLength(2);
    expect(vault.requests.filter((r) => r.path.startsWith('/v1/transit/'))).toHaveLength(2);
  });

  it('when a plain-token client gets 403, then it does not try to log in', async () => {
    vault = await startFakeVault(() => err(403, 'permission denied'));
    client = createClient({ address: vault.address, auth: { token: 't' } });
    await expect(client.transit.encrypt('k', 'x')).rejects.toBeInstanceOf(KeywardApiError);
    expect(vault.requests).toHaveLength(1);
  });
});

describe('JWT auth', () => {
  it('when the JWT comes from a file, then the file is re-read on every login', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-jwt-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'jwt-one\n');
    vault = await startFakeVault((req) => (req.path === '/v1/auth/jwt/login' ? authReply('t', 3600) : ok({})));
    client = createClient({ address: vault.address, auth: { jwt: { role: 'ci', jwtFile: file } }, mfa: ['totp:123456'] });
    await client.login();
    fs.writeFileSync(file, 'jwt-two\n');
    await client.login();
    expect(logins(vault).map((r) => r.body)).toEqual([
      { role: 'ci', jwt: 'jwt-one' },
      { role: 'ci', jwt: 'jwt-two' },
    ]);
    expect(logins(vault)[0]!.headers['x-vault-mfa']).toBe('totp:123456');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('wrapping-token auth', () => {
  it('when the wrapped payload is an auth block, then its token is used and unwrap happens once', async () => {
    vault = await startFakeVault((req) => (req.path === '/v1/sys/wrapping/unwrap' ? authReply('inner', 3600) : ok({ ciphertext: 'vault:v1:x' })));
    client = createClient({ address: vault.address, auth: { wrappingToken: 'wrap-1' } });
    await client.transit.encrypt('k', 'a');
    await client.transit.encrypt('k', 'b');
    const unwraps = vault.requests.filter((r) => r.path === '/v1/sys/wrapping/unwrap');
    expect(unwraps).toHaveLength(1);
    expect(unwraps[0]!.method).toBe('POST');
    expect(unwraps[0]!.headers['x-vault-token']).toBe('wrap-1');
    expect(vault.requests.filter((r) => r.path.startsWith('/v1/transit/')).map((r) => r.headers['x-vault-token'])).toEqual(['inner', 'inner']);
  });

  it('when the wrapped payload holds role_id/secret_id, then the client logs in with AppRole and can log in again', async () => {
    let n = 0;
    vault = await startFakeVault((req) => {
      if (req.path === '/v1/sys/wrapping/unwrap') return ok({ role_id: 'r-from-wrap', secret_id: 's-from-wrap' });
      if (req.path === '/v1/auth/approle/login') return authReply(`tok-${++n}`, 3600);
      return ok({});
    });
    client = createClient({ address: vault.address, auth: { wrappingToken: 'wrap-2' } });
    await client.login();
    await client.login();
    expect(vault.requests.filter((r) => r.path === '/v1/sys/wrapping/unwrap')).toHaveLength(1);
    expect(logins(vault).map((r) => r.body)).toEqual([
      { role_id: 'r-from-wrap', secret_id: 's-from-wrap' },
      { role_id: 'r-from-wrap', secret_id: 's-from-wrap' },
    ]);
    expect(client.token()).toBe('tok-2');
  });

  it('when the wrapped payload is data.token, then that token is used', async () => {
    vault = await startFakeVault((req) => {
      if (req.path === '/v1/sys/wrapping/unwrap') return ok({ token: 'plain-inner' });
      if (req.path === '/v1/auth/token/lookup-self') return ok({ accessor: 'acc-plain', policies: ['p1'], ttl: 100 });
      return ok({ ciphertext: 'vault:v1:x' });
    });
    client = createClient({ address: vault.address, auth: { wrappingToken: 'wrap-3' } });
    const info = await client.login();
    expect(info).toMatchObject({ method: 'token', accessor: 'acc-plain', policies: ['p1'] });
    await client.transit.encrypt('k', 'x');
    expect(vault.requests.at(-1)!.headers['x-vault-token']).toBe('plain-inner');
  });

  it('when unwrap fails with 503, then it is not retried (the wrapping token is single-use)', async () => {
    vault = await startFakeVault(() => err(503, 'unavailable'));
    client = createClient({ address: vault.address, auth: { wrappingToken: 'wrap-4' }, retries: { max: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await expect(client.login()).rejects.toBeInstanceOf(KeywardApiError);
    expect(vault.requests).toHaveLength(1);
  });
});
