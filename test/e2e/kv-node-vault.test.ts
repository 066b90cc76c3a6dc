/**
 * The `node-vault` npm client, unmodified, against a listening Keyward dev server (startKeyward +
 * prepareDevMode via test/helpers/dev-server.ts: real HTTPS with the dev CA, real SoftHSM2 token, real
 * SQLite file): KV v2 writes, reads, versions, check-and-set, metadata, listing and deletion, as a
 * Vault KV v2 user would do them.
 */
import fs from 'node:fs';
import path from 'node:path';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
let vault: nodeVault.client;

beforeAll(async () => {
  server = await startDevServer();
  vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: server.rootToken, requestOptions: { ca: server.caPem } });
});

afterAll(async () => {
  await server?.destroy();
});

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { response?: { statusCode?: number } }).response?.statusCode ?? -1;
  }
}

describe('node-vault against Keyward KV v2', () => {
  it('when node-vault writes and reads secret/data paths, then versions, metadata and values answer as Vault', async () => {
    const w1 = await vault.write('secret/data/billing/stripe', { data: { api_key: 'sk_live_e2e_1' } });
    expect(w1.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    const w2 = await vault.write('secret/data/billing/stripe', { data: { api_key: 'sk_live_e2e_2' }, options: { cas: 1 } });
    expect(w2.data.version).toBe(2);

    const latest = await vault.read('secret/data/billing/stripe');
    expect(latest.data.data).toEqual({ api_key: 'sk_live_e2e_2' });
    expect(latest.data.metadata.version).toBe(2);
    const v1 = await vault.read('secret/data/billing/stripe?version=1');
    expect(v1.data.data).toEqual({ api_key: 'sk_live_e2e_1' });

    expect(await statusOf(vault.write('secret/data/billing/stripe', { data: { api_key: 'x' }, options: { cas: 1 } }))).toBe(400);
    expect(await statusOf(vault.read('secret/data/billing/absent'))).toBe(404);
  });

  it('when node-vault manages metadata, lists folders and deletes, then the KV v2 lifecycle holds', async () => {
    await vault.write('secret/metadata/billing/stripe', { max_versions: 5, custom_metadata: { owner: 'billing' } });
    const meta = await vault.read('secret/metadata/billing/stripe');
    expect(meta.data).toMatchObject({ current_version: 2, max_versions: 5, custom_metadata: { owner: 'billing' } });

    await vault.write('secret/data/billing/paypal/client', { data: { id: 'pp' } });
    const listed = await vault.list('secret/metadata/billing');
    expect(listed.data.keys).toEqual(['paypal/', 'stripe']);

    await vault.delete('secret/data/billing/stripe');
    expect(await statusOf(vault.read('secret/data/billing/stripe'))).toBe(404);
    await vault.write('secret/undelete/billing/stripe', { versions: [2] });
    expect((await vault.read('secret/data/billing/stripe')).data.data).toEqual({ api_key: 'sk_live_e2e_2' });
    await vault.write('secret/destroy/billing/stripe', { versions: [1] });
    expect(await statusOf(vault.read('secret/data/billing/stripe?version=1'))).toBe(404);

    await vault.delete('secret/metadata/billing/paypal/client');
    expect((await vault.list('secret/metadata/billing')).data.keys).toEqual(['stripe']);
  });

  it('when the server is stopped, then its database file holds no secret value', async () => {
    await vault.write('secret/data/leakcheck', { data: { v: 'e2e-leak-marker-7f3a' } });
    await server.stop();
    const dbFile = path.join(server.dataDir, 'keyward.db');
    const needle = Buffer.from('e2e-leak-marker-7f3a');
    for (const f of [dbFile, `${dbFile}-wal`]) if (fs.existsSync(f)) expect(fs.readFileSync(f).includes(needle)).toBe(false);
  });
});
