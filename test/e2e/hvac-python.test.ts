/**
 * Compatibility with a second third-party Vault client, in another language: Debian's
 * python3-hvac drives transit, KV v2, policies and AppRole against a listening Keyward server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.resolve(import.meta.dirname, 'clients', 'hvac_flow.py');
let server: DevServer;

beforeAll(async () => {
  server = await startDevServer();
});

afterAll(async () => {
  await server?.destroy();
});

describe('python3-hvac against Keyward', () => {
  it('when hvac runs transit, KV v2, policy and AppRole calls, then each answers as Vault does', async () => {
    // Async: the server runs in this process, so a synchronous spawn would starve it.
    const res = await promisify(execFile)(PYTHON, [SCRIPT], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken, VAULT_CACERT: server.caFile },
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      authenticated: true,
      ciphertext_prefix: 'vault:v1:',
      latest_version: 2,
      decrypted: 'hello from python',
      rewrapped_prefix: 'vault:v2:',
      datakey_bytes: 32,
      batch_count: 2,
      kv_version: 2,
      kv_password: 's3cret-py-2',
      kv_list: ['app'],
      login_policies: ['default', 'py-svc'],
      svc_encrypt_ok: 'vault:',
      svc_decrypt: 'forbidden',
      tampered_error: ['decryption failed'],
    });
    expect(out['listed_keys']).toContain('py-orders');
  });
});
