import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelayMs, createClient, isRetryable, KeywardApiError } from '../../../clients/sdk/index.js';
import { err, ok, startFakeVault, type FakeVault } from './fake-vault.js';

let vault: FakeVault | undefined;
afterEach(async () => {
  await vault?.close();
  vault = undefined;
});

const policy = { max: 3, baseDelayMs: 10, maxDelayMs: 50 };

describe('SDK retries', () => {
  it('when the server answers 503 with Retry-After: 1, then the client waits at least that long and succeeds', async () => {
    let n = 0;
    vault = await startFakeVault(() => (++n < 3 ? err(503, 'sealed', { 'retry-after': '1' }) : ok({ ciphertext: 'vault:v1:abc', key_version: 1 })));
    const client = createClient({ address: vault.address, auth: { token: 't' }, retries: policy });
    const t0 = Date.now();
    const res = await client.transit.encrypt('k', 'hello');
    const elapsed = Date.now() - t0;
    expect(res.ciphertext).toBe('vault:v1:abc');
    expect(vault.requests).toHaveLength(3);
    expect(elapsed).toBeGreaterThanOrEqual(1900); // two waits of >= 1 s each
    const gaps = [vault.requests[1]!.at - vault.requests[0]!.at, vault.requests[2]!.at - vault.requests[1]!.at];
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(950);
    client.close();
  });

  it('when the server answers 429 without Retry-After, then the client backs off and retries', async () => {
    let n = 0;
    vault = await startFakeVault(() => (++n < 3 ? err(429, 'rate limited') : ok({ data: { a: 'b' }, metadata: { version: 1 } })));
    const client = createClient({ address: vault.address, auth: { token: 't' }, retries: policy });
    const s = await client.secrets.read('secret/app');
    expect(s.data).toEqual({ a: 'b' });
    expect(vault.requests).toHaveLength(3);
    client.close();
  });

  it('when 503 persists, then the client gives up after max retries with the last error', async () => {
    vault = await startFakeVault(() => err(503, 'hsm unavailable'));
    const client = createClient({ address: vault.address, auth: { token: 't' }, retries: policy });
    const e = await client.transit.decrypt('k', 'vault:v1:x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeywardApiError);
    expect((e as KeywardApiError).code).toBe('unavailable');
    expect(vault.requests).toHaveLength(policy.max + 1);
    client.close();
  });

  it.each([400, 403, 404, 409])('when the server answers %i, then the client does not retry', async (status) => {
    vault = await startFakeVault(() => err(status, 'nope'));
    const client = createClient({ address: vault.address, auth: { token: 't' }, retries: policy });
    const e = await client.transit.encrypt('k', 'x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeywardApiError);
    expect((e as KeywardApiError).status).toBe(status);
    expect(vault.requests).toHaveLength(1);
    client.close();
  });

  it('when an idempotent call times out, then it is retried; when a KV write times out, then it is not', async () => {
    vault = await startFakeVault(() => ({ delayMs: 300, ...ok({ ciphertext: 'vault:v1:x', version: 1 }) }));
    const client = createClient({ address: vault.address, auth: { token: 't' }, retries: policy, timeoutMs: 100 });
    const e1 = await client.transit.encrypt('k', 'x').catch((x: unknown) => x);
    expect((e1 as KeywardApiError).kind).toBe('timeout');
    expect(vault.requests).toHaveLength(policy.max + 1);
    vault.requests.length = 0;
    const e2 = await client.secrets.write('app', { a: '1' }).catch((x: unknown) => x);
    expect((e2 as KeywardApiError).kind).toBe('timeout');
    expect(vault.requests).toHaveLength(1);
    client.close();
  });

  it('when a KV write gets 503, then it is retried (the server did not act)', async () => {
    let n = 0;
    vault = await startFakeVault(() => (++n < 2 ? err(503, 'unavailable') : ok({ version: 4, created_time: '2024-01-01T00:00:00Z' })));
    const client = createClient({ address: vault.address, auth: { token: 't' }, retries: policy });
    const meta = await client.secrets.write('app', { a: '1' }, { cas: 3 });
    expect(meta.version).toBe(4);
    expect(vault.requests).toHaveLength(2);
    expect(vault.requests[1]!.body).toEqual({ data: { a: '1' }, options: { cas: 3 } });
    client.close();
  });

  it('when the server is not listening, then the error is a network error after retries', async () => {
    vault = await startFakeVault(() => ok({}));
    const address = vault.address;
    await vault.close();
    vault = undefined;
    const client = createClient({ address, auth: { token: 't' }, retries: policy });
    const e = await client.transit.encrypt('k', 'x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeywardApiError);
    expect((e as KeywardApiError).kind).toBe('network');
    expect((e as KeywardApiError).networkCode).toBe('ECONNREFUSED');
    expect(isRetryable(e, 'write')).toBe(true); // refused: the request was never sent
    client.close();
  });

  it('backoff uses full jitter capped by maxDelayMs, and Retry-After raises it', () => {
    const p = { max: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, p, undefined, () => 0.999)).toBeLessThan(100);
    expect(backoffDelayMs(3, p, undefined, () => 0.999)).toBeLessThan(800);
    expect(backoffDelayMs(10, p, undefined, () => 0.999)).toBeLessThan(1000);
    expect(backoffDelayMs(10, p, undefined, () => 0)).toBe(0);
    const ra = new KeywardApiError({ kind: 'http', status: 429, errors: [], retryAfterSeconds: 2 });
    expect(backoffDelayMs(0, p, ra, () => 0)).toBe(2000);
  });
});
