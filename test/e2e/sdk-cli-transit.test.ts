/**
 * The SDK and the CLI against a listening Keyward dev server (real HTTPS with the dev CA, real
 * SoftHSM2, real SQLite): what a service and an operator do with transit keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, KeywardApiError, type KeywardClient } from '../../clients/sdk/index.js';
import { runCli } from '../helpers/cli.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
let client: KeywardClient;

beforeAll(async () => {
  server = await startDevServer();
  client = createClient({ address: server.url, caPem: server.caPem, auth: { token: server.rootToken } });
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
});

const cliEnv = (): NodeJS.ProcessEnv => ({ VAULT_ADDR: server.url, VAULT_CACERT: server.caFile, VAULT_TOKEN: server.rootToken, KEYWARD_TOKEN_FILE: `${server.dataDir}/cli-token` });

describe('SDK transit against a real server', () => {
  it('when a service encrypts through the SDK, then it decrypts to the same bytes, also after a rewrap', async () => {
    const plaintext = Buffer.from('card 4111-1111');
    const { ciphertext, keyVersion } = await client.transit.encrypt('sdk-key', plaintext);
    expect(keyVersion).toBe(1);
    expect(await client.transit.decrypt('sdk-key', ciphertext)).toEqual(plaintext);
    const rewrapped = await client.transit.rewrap('sdk-key', ciphertext);
    expect(await client.transit.decrypt('sdk-key', rewrapped.ciphertext)).toEqual(plaintext);
  });

  it('when the SDK asks for a data key, then the plaintext key decrypts from its ciphertext', async () => {
    const dk = await client.transit.datakey('sdk-key', { type: 'plaintext', bits: 256 });
    expect(dk.plaintext).toHaveLength(32);
    expect(await client.transit.decrypt('sdk-key', dk.ciphertext)).toEqual(dk.plaintext);
  });

  it('when a ciphertext is tampered with, then the SDK error carries status 400, a code and the request id', async () => {
    const { ciphertext } = await client.transit.encrypt('sdk-key', 'x');
    const tampered = ciphertext.slice(0, -4) + (ciphertext.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const err = await client.transit.decrypt('sdk-key', tampered).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeywardApiError);
    expect((err as KeywardApiError).status).toBe(400);
    expect((err as KeywardApiError).errors).toEqual(['decryption failed']);
    expect((err as KeywardApiError).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('CLI transit against a real server', () => {
  it('when an operator encrypts and decrypts with the CLI, then the plaintext round-trips', async () => {
    const enc = await runCli(['encrypt', 'cli-key', '--plaintext', 'hello from the cli'], { env: cliEnv() });
    expect(enc.stderr).toBe('');
    expect(enc.code).toBe(0);
    const ciphertext = enc.stdout.trim();
    expect(ciphertext).toMatch(/^vault:v1:/);
    const dec = await runCli(['decrypt', 'cli-key', ciphertext], { env: cliEnv() });
    expect(dec.code).toBe(0);
    expect(dec.stdout.trim()).toBe('hello from the cli');
  });

  it('when the CLI has no valid token, then it exits non-zero with permission denied', async () => {
    const res = await runCli(['encrypt', 'cli-key', '--plaintext', 'x'], { env: { ...cliEnv(), VAULT_TOKEN: 'bogus' } });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('permission denied');
  });
});
