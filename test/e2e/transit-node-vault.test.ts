/**
 * The `node-vault` npm client, unmodified, against a listening Keyward dev server (real HTTPS,
 * real SoftHSM2 token, real SQLite file): create a key, encrypt, rotate, decrypt, rewrap and
 * generate data keys, as a Vault Transit user would.
 */
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
let vault: nodeVault.client;

const b64 = (s: string): string => Buffer.from(s).toString('base64');

beforeAll(async () => {
  server = await startDevServer();
  vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: server.rootToken, requestOptions: { ca: server.caPem } });
});

afterAll(async () => {
  await server?.destroy();
});

describe('node-vault against Keyward transit', () => {
  it('when node-vault creates a key, encrypts, rotates, decrypts, rewraps and makes data keys, then every step answers as Vault does', async () => {
    await vault.write('transit/keys/orders', {});
    const first = await vault.write('transit/encrypt/orders', { plaintext: b64('order #1') });
    expect(first.data.ciphertext).toMatch(/^vault:v1:/);

    await vault.write('transit/keys/orders/rotate', {});
    const key = await vault.read('transit/keys/orders');
    expect(key.data.latest_version).toBe(2);
    expect(Object.keys(key.data.keys)).toEqual(['1', '2']);
    expect(typeof key.data.keys['1']).toBe('number');

    const decrypted = await vault.write('transit/decrypt/orders', { ciphertext: first.data.ciphertext });
    expect(Buffer.from(decrypted.data.plaintext, 'base64').toString()).toBe('order #1');

    const rewrapped = await vault.write('transit/rewrap/orders', { ciphertext: first.data.ciphertext });
    expect(rewrapped.data.ciphertext).toMatch(/^vault:v2:/);
    const again = await vault.write('transit/decrypt/orders', { ciphertext: rewrapped.data.ciphertext });
    expect(Buffer.from(again.data.plaintext, 'base64').toString()).toBe('order #1');

    const dk = await vault.write('transit/datakey/plaintext/orders', { bits: 256 });
    expect(Buffer.from(dk.data.plaintext, 'base64')).toHaveLength(32);
    const dkBack = await vault.write('transit/decrypt/orders', { ciphertext: dk.data.ciphertext });
    expect(dkBack.data.plaintext).toBe(dk.data.plaintext);

    const wrapped = await vault.write('transit/datakey/wrapped/orders', { bits: 512 });
    expect(wrapped.data.plaintext).toBeUndefined();
    expect(wrapped.data.ciphertext).toMatch(/^vault:v2:/);
  });

  it('when node-vault lists keys with the LIST verb and with ?list=1, then both return the key names', async () => {
    await vault.write('transit/keys/listed', {});
    const viaVerb = await vault.list('transit/keys');
    expect(viaVerb.data.keys).toContain('listed');
    const plain = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: server.rootToken, requestOptions: { ca: server.caPem }, noCustomHTTPVerbs: true });
    const viaQuery = await plain.list('transit/keys');
    expect(viaQuery.data.keys).toContain('listed');
  });

  it('when node-vault sends a batch, then results come back per item with references echoed', async () => {
    const res = await vault.write('transit/encrypt/orders', {
      plaintext: null,
      batch_input: [
        { plaintext: b64('a'), reference: 'r1' },
        { plaintext: 'not base64!', reference: 'r2' },
      ],
      partial_failure_response_code: 200,
    });
    expect(res.data.batch_results[0].reference).toBe('r1');
    expect(res.data.batch_results[0].ciphertext).toMatch(/^vault:v\d+:/);
    expect(res.data.batch_results[1].reference).toBe('r2');
    expect(typeof res.data.batch_results[1].error).toBe('string');
  });

  it('when the token is wrong, then node-vault gets 403 permission denied and nothing else', async () => {
    const bad = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: 'not-a-token', requestOptions: { ca: server.caPem } });
    const err = (await bad.read('transit/keys/orders').catch((e: unknown) => e)) as { response?: { statusCode: number; body: unknown } };
    expect(err.response?.statusCode).toBe(403);
    expect(err.response?.body).toEqual({ errors: ['permission denied'] });
  });
});
