/**
 * Anomaly alerts and suspension through the real pipeline: a burst of failed decryptions by an
 * identity whose role is configured to be suspended → alert stored, audited, counted, POSTed to the
 * webhook, and every later request of that identity answered 403 until an operator releases it.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptionFailed } from '../../../vault/src/core/errors.js';
import type { RouteSpec } from '../../../vault/src/http/route-spec.js';
import { createObservability } from '../../../vault/src/observability/index.js';
import { FakeClock, RecordingAudit, echoRoutes, memoryStore, request, startApp } from './helpers.js';

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()?.();
});

const decryptRoute: RouteSpec = {
  method: 'POST',
  path: '/transit/decrypt/:name',
  operation: 'transit.decrypt',
  handler: async (req, ctx) => {
    ctx.audit.keyName = String(req.params['name']);
    throw decryptionFailed();
  },
};

async function setup() {
  const { db, store } = memoryStore();
  const clock = new FakeClock(Date.UTC(2025, 0, 6, 10, 0, 0));
  const audit = new RecordingAudit();
  const posted: Array<{ url: string; body: Record<string, unknown> }> = [];
  const obs = createObservability({
    db,
    audit,
    clock,
    logger: pino({ level: 'silent' }),
    processMetrics: false,
    webhookFetch: async (url, init) => {
      posted.push({ url, body: JSON.parse(init.body) as Record<string, unknown> });
      return { ok: true, status: 200 };
    },
  });
  const app = await startApp([...echoRoutes, decryptRoute, ...obs.routes], obs.hooks, audit);
  running.push(app.close);
  return { ...app, obs, clock, audit, posted, store };
}

async function tenFailedDecrypts(base: string, token: string): Promise<void> {
  for (let i = 0; i < 10; i++) expect((await request(`${base}/transit/decrypt/k`, { method: 'POST', token, body: {} })).status).toBe(400);
}

describe('anomaly alerts and suspension', () => {
  it('when a suspend-role identity bursts failed decryptions, then it is suspended (403) until released', async () => {
    const { base, obs, audit, posted } = await setup();
    const cfg = await request(`${base}/sys/anomalies/config`, { method: 'POST', token: 'tok-admin', body: { webhook_url: 'https://hooks.example/keyward', suspend_roles: ['svc'], thresholds: { failedDecryptBurst: { count: 10 } } } });
    expect(cfg.status).toBe(200);
    expect((JSON.parse(cfg.body) as { data: { suspend_roles: string[] } }).data.suspend_roles).toEqual(['svc']);

    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-eve:svc', body: {} })).status).toBe(200);
    await tenFailedDecrypts(base, 'tok-eve:svc');
    await obs.anomalies.flush();

    const blocked = await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-eve:svc', body: {} });
    expect(blocked.status).toBe(403);
    expect(JSON.parse(blocked.body)).toEqual({ errors: ['permission denied'] });
    // Another identity of the same role is unaffected.
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-frank:svc', body: {} })).status).toBe(200);

    const alerts = JSON.parse((await request(`${base}/sys/anomalies?subject=eve&kind=failed_decrypt_burst`, { token: 'tok-admin' })).body) as { data: { alerts: Array<Record<string, unknown>> } };
    expect(alerts.data.alerts).toHaveLength(1);
    expect(alerts.data.alerts[0]).toMatchObject({ kind: 'failed_decrypt_burst', subject: 'eve', role: 'svc', suspended: true, env: 'dev' });
    const none = JSON.parse((await request(`${base}/sys/anomalies?kind=rate_spike`, { token: 'tok-admin' })).body) as { data: { alerts: unknown[] } };
    expect(none.data.alerts).toEqual([]);

    const lifecycle = audit.events.filter((e) => e.type === 'lifecycle' && e.operation === 'anomaly');
    expect(lifecycle).toHaveLength(1);
    expect(lifecycle[0]?.details).toMatchObject({ kind: 'failed_decrypt_burst', subject: 'eve', suspended: true });
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ url: 'https://hooks.example/keyward', body: { kind: 'failed_decrypt_burst', subject: 'eve' } });
    expect((await obs.metrics.exposition()).body).toMatch(/keyward_anomalies_total\{kind="failed_decrypt_burst"\} 1/);

    const susp = JSON.parse((await request(`${base}/sys/anomalies/suspensions`, { token: 'tok-admin' })).body) as { data: { suspensions: Array<{ subject: string }> } };
    expect(susp.data.suspensions.map((s) => s.subject)).toEqual(['eve']);

    const rel = await request(`${base}/sys/anomalies/release`, { method: 'POST', token: 'tok-admin', body: { subject: 'eve' } });
    expect(JSON.parse(rel.body)).toMatchObject({ data: { subject: 'eve', released: true } });
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-eve:svc', body: {} })).status).toBe(200);
  });

  it('when the role is not configured for suspension, then the alert is raised but the identity keeps working', async () => {
    const { base, obs } = await setup();
    await tenFailedDecrypts(base, 'tok-carol:human');
    await obs.anomalies.flush();
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-carol:human', body: {} })).status).toBe(200);
    const alerts = JSON.parse((await request(`${base}/sys/anomalies`, { token: 'tok-admin' })).body) as { data: { alerts: Array<Record<string, unknown>> } };
    expect(alerts.data.alerts.map((a) => [a['kind'], a['suspended']])).toEqual([['failed_decrypt_burst', false]]);
  });

  it('when another process suspends a subject in the store, then this process refuses it within the cache TTL (1 s)', async () => {
    const { base, clock, store } = await setup();
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-dan', body: {} })).status).toBe(200);
    await store.suspend({ subject: 'dan', role: null, kind: 'manual', alertId: null, suspendedAt: clock.now() });
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-dan', body: {} })).status).toBe(200);
    clock.advance(1000);
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-dan', body: {} })).status).toBe(403);
  });

  it('invalid anomaly config is refused with 400', async () => {
    const { base } = await setup();
    expect((await request(`${base}/sys/anomalies/config`, { method: 'POST', token: 'tok-admin', body: { thresholds: { denialBurst: { count: -3 } } } })).status).toBe(400);
    expect((await request(`${base}/sys/anomalies/config`, { method: 'POST', token: 'tok-admin', body: { webhook_url: 'file:///etc/passwd' } })).status).toBe(400);
    expect((await request(`${base}/sys/anomalies?since=yesterday`, { token: 'tok-admin' })).status).toBe(400);
  });
});
