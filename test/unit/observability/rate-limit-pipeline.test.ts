/**
 * Rate-limit quotas through the real request pipeline (buildApp): quotas created with Vault's API,
 * refusals as 429 + Retry-After, audit of refusals at both stages.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createObservability } from '../../../vault/src/observability/index.js';
import { FakeClock, RecordingAudit, echoRoutes, memoryStore, request, startApp } from './helpers.js';

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()?.();
});

async function setup() {
  const { db, store } = memoryStore();
  const clock = new FakeClock(Date.UTC(2025, 0, 6, 10, 0, 0));
  const audit = new RecordingAudit();
  const obs = createObservability({ db, audit, clock, logger: pino({ level: 'silent' }), processMetrics: false, environments: ['dev', 'prod'] });
  const app = await startApp([...echoRoutes, ...obs.routes], obs.hooks, audit);
  running.push(app.close);
  return { ...app, obs, clock, audit };
}

describe('rate-limit quotas through the pipeline', () => {
  it('when a global per-address quota of 3/s is exceeded, then the 4th request gets 429 with Retry-After and is audited', async () => {
    const { base, audit, obs } = await setup();
    expect((await request(`${base}/sys/quotas/rate-limit/global`, { method: 'POST', token: 'tok-admin', body: { path: '', rate: 3, interval: '1s' } })).status).toBe(204);
    // The quota write itself is not charged: the quota did not exist when it arrived.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toEqual({ errors: ['request rate limit exceeded'] });
    const entries = audit.events.filter((e) => e.operation === 'rate_limited');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ type: 'lifecycle', status: 429, errorCode: 'ERR_RATE_LIMITED', path: 'transit/encrypt/k', details: { quota: 'global', stage: 'source' } });
    const exposition = (await obs.metrics.exposition()).body;
    expect(exposition).toMatch(/keyward_rate_limited_total\{quota="global"\} 2/);
  });

  it('when bad tokens flood, then they are limited before authentication too', async () => {
    const { base } = await setup();
    await request(`${base}/sys/quotas/rate-limit/global`, { method: 'POST', token: 'tok-admin', body: { rate: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'garbage', body: {} })).status);
    expect(statuses).toEqual([403, 403, 429]);
  });

  it('when the audit write for a source-stage refusal fails, then the request is still refused with 429', async () => {
    const { base, audit } = await setup();
    await request(`${base}/sys/quotas/rate-limit/global`, { method: 'POST', token: 'tok-admin', body: { rate: 1 } });
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status).toBe(200);
    audit.failing = true;
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status).toBe(429);
  });

  it('when a prod-only per-identity quota is set, then prod requests of one identity are limited and dev and other identities are not', async () => {
    const { base, audit } = await setup();
    await request(`${base}/sys/quotas/rate-limit/prod-ids`, { method: 'POST', token: 'tok-admin', body: { path: 'prod/transit/encrypt/', rate: 2, interval: '1m', group_by: 'entity_then_ip' } });
    const prod = { 'X-Vault-Namespace': 'prod' };
    const a: number[] = [];
    for (let i = 0; i < 3; i++) a.push((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-alice', body: {}, headers: prod })).status);
    expect(a).toEqual([200, 200, 429]);
    const refused = await request(`${base}/prod/transit/encrypt/k`, { method: 'POST', token: 'tok-alice', body: {} });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-bob', body: {}, headers: prod })).status).toBe(200);
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-alice', body: {} })).status).toBe(200);
    // Identity-stage refusals are audited by the pipeline's own response entry.
    expect(audit.events.some((e) => e.type === 'response' && e.errorCode === 'ERR_RATE_LIMITED' && e.identity?.subject === 'alice')).toBe(true);
  });

  it('when block_interval is set, then the client stays blocked and Retry-After counts the block down', async () => {
    const { base, clock } = await setup();
    await request(`${base}/sys/quotas/rate-limit/blocky`, { method: 'POST', token: 'tok-admin', body: { path: 'transit/', rate: 1, block_interval: '60s' } });
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status).toBe(200);
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).headers['retry-after']).toBe('60');
    clock.advance(45_000);
    const r = await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} });
    expect([r.status, r.headers['retry-after']]).toEqual([429, '15']);
    clock.advance(15_000);
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status).toBe(200);
  });

  it('when a role quota exists, then only principals of that role are charged', async () => {
    const { base } = await setup();
    await request(`${base}/sys/quotas/rate-limit/batch`, { method: 'POST', token: 'tok-admin', body: { path: 'transit/', rate: 1, interval: '1h', role: 'batch', group_by: 'entity_then_ip' } });
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-job:batch', body: {} })).status).toBe(200);
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-job:batch', body: {} })).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-web:web', body: {} })).status).toBe(200);
  });

  it('Vault quota API: read, list, update keeps unsent fields, delete; exempt sys/health', async () => {
    const { base } = await setup();
    await request(`${base}/sys/quotas/rate-limit/q1`, { method: 'POST', token: 'tok-admin', body: { path: 'prod/', rate: 897.3, interval: '2m', block_interval: '5m' } });
    await request(`${base}/sys/quotas/rate-limit/q1`, { method: 'POST', token: 'tok-admin', body: { rate: 100 } });
    const read = JSON.parse((await request(`${base}/sys/quotas/rate-limit/q1`, { token: 'tok-admin' })).body) as { data: Record<string, unknown> };
    expect(read.data).toMatchObject({ name: 'q1', type: 'rate-limit', path: 'prod/', rate: 100, interval: 120, block_interval: 300, role: '', inheritable: false, group_by: 'ip' });
    const list = JSON.parse((await request(`${base}/sys/quotas/rate-limit?list=true`, { token: 'tok-admin' })).body) as { data: { keys: string[] } };
    expect(list.data.keys).toEqual(['q1']);
    expect((await request(`${base}/sys/quotas/rate-limit/q1`, { method: 'POST', token: 'tok-admin', body: { path: 'nowhere/' } })).status).toBe(400);
    expect((await request(`${base}/sys/quotas/rate-limit/q2`, { method: 'POST', token: 'tok-admin', body: { rate: -1 } })).status).toBe(400);
    expect((await request(`${base}/sys/quotas/rate-limit/q1`, { method: 'DELETE', token: 'tok-admin' })).status).toBe(204);
    expect((await request(`${base}/sys/quotas/rate-limit/q1`, { token: 'tok-admin' })).status).toBe(404);
    const cfg = JSON.parse((await request(`${base}/sys/quotas/config`, { token: 'tok-admin' })).body) as { data: Record<string, unknown> };
    expect(cfg.data).toEqual({ rate_limit_exempt_paths: ['sys/health'], enable_rate_limit_audit_logging: true, enable_rate_limit_response_headers: false });
    await request(`${base}/sys/quotas/rate-limit/tiny`, { method: 'POST', token: 'tok-admin', body: { rate: 1, interval: '1h' } });
    for (let i = 0; i < 3; i++) expect((await request(`${base}/sys/health`)).status).toBe(200);
    // sys/health took no token: the bucket of 1 is still full for one request, then empty.
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status).toBe(200);
    expect((await request(`${base}/transit/encrypt/k`, { method: 'POST', token: 'tok-app', body: {} })).status).toBe(429);
  });
});
