import { afterEach, describe, expect, it } from 'vitest';
import { createClient, KeywardApiError, LOAD_SECRETS_CONCURRENCY, type KeywardClient } from '../../../clients/sdk/index.js';
import { err, ok, startFakeVault, type FakeVault } from './fake-vault.js';

let vault: FakeVault | undefined;
let client: KeywardClient | undefined;
afterEach(async () => {
  client?.close();
  await vault?.close();
  vault = client = undefined;
});

describe('loadSecrets', () => {
  it('when many paths are loaded, then they are fetched concurrently but never more than the bound at once', async () => {
    let inFlight = 0;
    let peak = 0;
    vault = await startFakeVault(async (req) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      const name = req.path.replace('/v1/secret/data/', '');
      return ok({ data: { name, port: 5432, flags: { a: true } }, metadata: { version: 1 } });
    });
    client = createClient({ address: vault.address, auth: { token: 't' } });
    const paths = Array.from({ length: 20 }, (_, i) => `secret/svc/s${i}`);
    const t0 = Date.now();
    const out = await client.loadSecrets(paths);
    expect(Object.keys(out)).toEqual(paths);
    expect(out['secret/svc/s7']).toEqual({ name: 'svc/s7', port: '5432', flags: '{"a":true}' });
    expect(peak).toBe(LOAD_SECRETS_CONCURRENCY);
    expect(Date.now() - t0).toBeLessThan(20 * 40); // concurrent, not sequential
  });

  it('when one path is forbidden, then loadSecrets rejects (start-up fails closed)', async () => {
    vault = await startFakeVault((req) => (req.path.endsWith('/bad') ? err(403, 'permission denied') : ok({ data: { a: 'b' }, metadata: { version: 1 } })));
    client = createClient({ address: vault.address, auth: { token: 't' } });
    await expect(client.loadSecrets(['secret/good', 'secret/bad'])).rejects.toBeInstanceOf(KeywardApiError);
  });
});

describe('KV v2 shapes', () => {
  it('when reading a version, listing, and reading history, then the Vault paths and shapes are used', async () => {
    vault = await startFakeVault((req) => {
      if (req.url === '/v1/secret/data/payments/db?version=2') return ok({ data: { password: 'pw' }, metadata: { version: 2, created_time: 't2', deletion_time: '', destroyed: false } });
      if (req.url === '/v1/secret/metadata/payments/?list=true') return ok({ keys: ['db', 'api'] });
      if (req.url === '/v1/secret/metadata/empty/?list=true') return err(404, 'not found');
      if (req.url === '/v1/secret/metadata/payments/db')
        return ok({ current_version: 2, versions: { '1': { created_time: 't1', deletion_time: 'td', destroyed: false }, '2': { created_time: 't2', deletion_time: '', destroyed: false } } });
      if (req.method === 'DELETE' && req.url === '/v1/secret/data/payments/db') return { status: 204 };
      return err(400, `unexpected ${req.method} ${req.url}`);
    });
    client = createClient({ address: vault.address, auth: { token: 't' } });
    const s = await client.secrets.read('secret/payments/db', { version: 2 });
    expect(s).toEqual({ data: { password: 'pw' }, metadata: { version: 2, createdTime: 't2', deletionTime: undefined, destroyed: false } });
    expect(await client.secrets.list('secret/payments')).toEqual(['db', 'api']);
    expect(await client.secrets.list('empty')).toEqual([]);
    const h = await client.secrets.history('payments/db');
    expect(h.map((v) => [v.version, v.deletionTime])).toEqual([
      [2, undefined],
      [1, 'td'],
    ]);
    await client.secrets.delete('secret/payments/db');
    expect(vault.requests.at(-1)!.method).toBe('DELETE');
  });

  it('when a path has .. segments, then the SDK refuses it before any request', async () => {
    vault = await startFakeVault(() => ok({}));
    client = createClient({ address: vault.address, auth: { token: 't' } });
    await expect(client.secrets.read('secret/../sys/x')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    expect(vault.requests).toHaveLength(0);
  });
});
