/**
 * Metrics: the Prometheus exposition served at GET /v1/sys/metrics?format=prometheus after real
 * requests through the pipeline, parsed line by line; the HSM wrapper; the JSON summary.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import { KeywardError, permissionDenied } from '../../../vault/src/core/errors.js';
import { parseEnvironment } from '../../../vault/src/core/types.js';
import type { RouteSpec } from '../../../vault/src/http/route-spec.js';
import { createObservability } from '../../../vault/src/observability/index.js';
import { FakeClock, echoRoutes, memoryStore, request, startApp } from './helpers.js';

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()?.();
});

/** `name{a="x",b="y"} 12` → Map key `name{a="x",b="y"}` (labels as written) → 12. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`unparseable exposition line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

const forbiddenRoute: RouteSpec = { method: 'GET', path: '/transit/keys/:name', operation: 'transit.keys.read', handler: async () => { throw permissionDenied(); } };

describe('metrics', () => {
  it('when requests of each kind were answered, then the exposition holds the expected series', async () => {
    const { db, store } = memoryStore();
    const clock = new FakeClock(Date.UTC(2025, 0, 6, 10, 0, 0));
    const rotated = new Date(clock.ms - 3600_000);
    const obs = createObservability({
      db,
      store,
      audit: { record: async () => {} },
      clock,
      logger: pino({ level: 'silent' }),
      keyFacts: async () => [
        { env: 'prod', name: 'payments', lastRotatedAt: rotated, autoRotatePeriodSeconds: 86_400, latestVersionExpiresAt: new Date(rotated.getTime() + 7_200_000) },
        { env: 'dev', name: 'manual', lastRotatedAt: rotated, autoRotatePeriodSeconds: 0 },
      ],
    });
    const app = await startApp([...echoRoutes, forbiddenRoute, ...obs.routes], obs.hooks);
    running.push(app.close);

    for (let i = 0; i < 2; i++) await request(`${app.base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} });
    await request(`${app.base}/transit/encrypt/k`, { method: 'POST', token: 'not-a-token', body: {} });
    await request(`${app.base}/transit/keys/k`, { token: 'tok-app', headers: { 'X-Vault-Namespace': 'prod' } });
    await request(`${app.base}/no/such/route`, { token: 'tok-app' });
    obs.metrics.recordCacheHit('keyring');
    obs.metrics.recordCacheMiss('keyring');

    const hsm = obs.instrumentHsm(new MemoryHsm());
    const root = { env: parseEnvironment('dev'), term: 1 };
    await hsm.ensureRootKey(root);
    const wrappedKek = await hsm.generateWrappedKey(root);
    const ref = { cacheId: 'dev/k/1@t1', root, wrappedKek };
    const sealed = await hsm.seal(ref, Buffer.from('dek'), Buffer.from('aad'));
    await expect(hsm.open(ref, sealed, Buffer.from('other aad'))).rejects.toBeInstanceOf(KeywardError);

    const unauthorised = await request(`${app.base}/sys/metrics?format=prometheus`);
    expect(unauthorised.status).toBe(403);
    const res = await request(`${app.base}/sys/metrics?format=prometheus`, { token: 'tok-ops' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseExposition(res.body);

    expect(s.get('keyward_requests_total{operation="transit.encrypt",status="200",env="dev"}')).toBe(2);
    expect(s.get('keyward_requests_total{operation="transit.encrypt",status="403",env="none"}')).toBe(1);
    expect(s.get('keyward_requests_total{operation="transit.keys.read",status="403",env="prod"}')).toBe(1);
    expect(s.get('keyward_requests_total{operation="http",status="404",env="none"}')).toBe(1);
    expect(s.get('keyward_request_duration_seconds_count{operation="transit.encrypt"}')).toBe(3);
    // the bad token and the token-less metrics scrape
    expect(s.get('keyward_auth_failures_total{reason="permission_denied"}')).toBe(2);
    expect(s.get('keyward_denials_total{env="prod"}')).toBe(1);
    expect(s.get('keyward_cache_hits_total{cache="keyring"}')).toBe(1);
    expect(s.get('keyward_cache_misses_total{cache="keyring"}')).toBe(1);
    expect(s.get('keyward_hsm_operations_total{op="seal",outcome="ok"}')).toBe(1);
    expect(s.get('keyward_hsm_operations_total{op="open",outcome="error"}')).toBe(1);
    expect(s.get('keyward_hsm_errors_total{code="ERR_DECRYPTION_FAILED"}')).toBe(1);
    expect(s.get('keyward_hsm_operation_duration_seconds_count{op="generateWrappedKey"}')).toBe(1);
    expect(s.get('keyward_key_seconds_since_rotation{env="prod",key="payments"}')).toBe(3600);
    expect(s.get('keyward_key_seconds_until_rotation{env="prod",key="payments"}')).toBe(82_800);
    expect(s.get('keyward_key_seconds_since_rotation{env="dev",key="manual"}')).toBe(3600);
    expect(s.has('keyward_key_seconds_until_rotation{env="dev",key="manual"}')).toBe(false);
    expect(s.get('keyward_key_seconds_until_version_expiry{env="prod",key="payments"}')).toBe(3600);
    expect(s.has('keyward_key_seconds_until_version_expiry{env="dev",key="manual"}')).toBe(false);
    expect(s.get('keyward_mfa_failures_total')).toBe(0);
    expect([...s.keys()].some((k) => k.startsWith('process_cpu_user_seconds_total'))).toBe(true);
    // No token, subject or source address ever becomes a label value.
    expect(res.body).not.toMatch(/tok-app|not-a-token|127\.0\.0\.1/);

    const json = JSON.parse((await request(`${app.base}/sys/metrics`, { token: 'tok-ops' })).body) as { Counters: Array<{ Name: string; Count: number; Labels: Record<string, string> }> };
    expect(json.Counters.find((c) => c.Name === 'keyward_denials_total')).toMatchObject({ Count: 1, Labels: { env: 'prod' } });
  });

  it('when the key facts provider fails, then the scrape still succeeds without key series', async () => {
    const { db, store } = memoryStore();
    const obs = createObservability({ db, store, audit: { record: async () => {} }, clock: new FakeClock(0), logger: pino({ level: 'silent' }), processMetrics: false, keyFacts: async () => { throw new Error('store down'); } });
    const text = (await obs.metrics.exposition()).body;
    expect(text).toContain('# TYPE keyward_key_seconds_since_rotation gauge');
    expect(text).not.toMatch(/keyward_key_seconds_since_rotation\{/);
  });
});
