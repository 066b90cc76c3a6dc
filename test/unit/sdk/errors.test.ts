import { afterEach, describe, expect, it } from 'vitest';
import { createClient, KeywardApiError, type RequestLogEntry } from '../../../clients/sdk/index.js';
import { authReply, err, ok, startFakeVault, type FakeVault } from './fake-vault.js';

let vault: FakeVault | undefined;
afterEach(async () => {
  await vault?.close();
  vault = undefined;
});

describe('SDK errors and logging', () => {
  it('when the server rejects a call, then KeywardApiError carries code, status, errors and request id but not the token', async () => {
    vault = await startFakeVault(() => err(404, 'no such key'));
    const client = createClient({ address: vault.address, auth: { token: 'super-secret-token' } });
    const e = (await client.transit.decrypt('k', 'vault:v1:x').catch((x: unknown) => x)) as KeywardApiError;
    expect(e).toBeInstanceOf(KeywardApiError);
    expect(e.code).toBe('not_found');
    expect(e.status).toBe(404);
    expect(e.kind).toBe('http');
    expect(e.errors).toEqual(['no such key']);
    expect(e.requestId).toMatch(/^req-\d+$/);
    expect(`${e.message} ${e.stack ?? ''}`).not.toContain('super-secret-token');
    client.close();
  });

  it('when a logger is given, then it receives method, path, status and duration only - never tokens, plaintext or secret values', async () => {
    vault = await startFakeVault((req) => {
      if (req.path.endsWith('/login')) return authReply('tok-abc', 3600);
      if (req.path.startsWith('/v1/secret/')) return ok({ data: { password: 'hunter2' }, metadata: { version: 1 } });
      return ok({ plaintext: Buffer.from('top secret').toString('base64') });
    });
    const entries: RequestLogEntry[] = [];
    const client = createClient({ address: vault.address, auth: { appRole: { roleId: 'rid', secretId: 'sid-secret' } }, logger: { debug: (e) => entries.push(e) } });
    await client.secrets.read('app/db');
    await client.transit.decrypt('k', 'vault:v1:x');
    expect(entries.map((e) => [e.method, e.path, e.status])).toEqual([
      ['POST', '/v1/auth/approle/login', 200],
      ['GET', '/v1/secret/data/app/db', 200],
      ['POST', '/v1/transit/decrypt/k', 200],
    ]);
    for (const e of entries) expect(Object.keys(e).sort()).toEqual(['attempt', 'durationMs', 'method', 'path', 'status']);
    const logged = JSON.stringify(entries);
    for (const secret of ['tok-abc', 'sid-secret', 'hunter2', 'top secret']) expect(logged).not.toContain(secret);
    client.close();
  });

  it('when transit returns plaintext, then decrypt returns the bytes as a Buffer', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    vault = await startFakeVault((req) => (req.path.startsWith('/v1/transit/datakey/') ? ok({ plaintext: bytes.toString('base64'), ciphertext: 'vault:v3:dk' }) : ok({ plaintext: bytes.toString('base64') })));
    const client = createClient({ address: vault.address, auth: { token: 't' } });
    expect(await client.transit.decrypt('k', 'vault:v1:x', { context: Buffer.from('tenant') })).toEqual(bytes);
    expect(vault.requests[0]!.body).toEqual({ ciphertext: 'vault:v1:x', context: Buffer.from('tenant').toString('base64') });
    const dk = await client.transit.datakey('k', { type: 'plaintext', bits: 256 });
    expect(dk).toEqual({ ciphertext: 'vault:v3:dk', plaintext: bytes, keyVersion: 3 });
    expect(vault.requests[1]!.path).toBe('/v1/transit/datakey/plaintext/k');
    client.close();
  });

  it('when a batch has a failing item, then the other items still return results', async () => {
    vault = await startFakeVault(() => ok({ batch_results: [{ ciphertext: 'vault:v1:a', key_version: 1 }, { error: 'invalid context' }] }));
    const client = createClient({ address: vault.address, auth: { token: 't' } });
    const res = await client.transit.encryptBatch('k', [{ plaintext: 'a' }, { plaintext: 'b', context: 'Y3R4' }]);
    expect(res).toEqual([{ ciphertext: 'vault:v1:a', keyVersion: 1 }, { error: 'invalid context' }]);
    expect(vault.requests[0]!.body).toEqual({ batch_input: [{ plaintext: 'YQ==' }, { plaintext: 'Yg==', context: 'Y3R4' }] });
    client.close();
  });
});
