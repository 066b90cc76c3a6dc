/**
 * The pipeline's audit rules: a request entry is durable before a state-changing handler runs; a
 * side-effect-free route's request entry is committed with its response entry, and if that fails
 * the caller gets 503 and never sees the result.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KeywardError } from '../../../vault/src/core/errors.js';
import type { AuditEvent } from '../../../vault/src/core/ports/audit-sink.js';
import { parseEnvironment } from '../../../vault/src/core/types.js';
import { buildApp } from '../../../vault/src/http/app.js';
import { rootEvaluator } from '../../../vault/src/http/pipeline-ports.js';
import type { RouteSpec } from '../../../vault/src/http/route-spec.js';

const principal = { jti: 'j', accessor: 'a', subject: 's', authMethod: 'token', role: null, policies: ['root'], env: '*', isRoot: true, issuedAt: new Date(), expiresAt: new Date(Date.now() + 60_000) };
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function start(routes: RouteSpec[], record: (e: AuditEvent) => Promise<void>): Promise<string> {
  const app = buildApp({
    routes,
    authenticator: { authenticate: async () => principal },
    authorizer: { forPrincipal: async () => rootEvaluator },
    audit: { record },
    environments: [parseEnvironment('dev')],
    defaultEnvironment: parseEnvironment('dev'),
    logger: pino({ level: 'silent' }),
  });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const post = async (url: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(url, { method: 'POST', headers: { 'x-vault-token': 't', 'content-type': 'application/json' }, body: '{}' });
  return { status: res.status, body: await res.text() };
};

describe('audit in the request pipeline', () => {
  it('when a state-changing route runs, then its request entry was committed before the handler', async () => {
    const order: string[] = [];
    const route: RouteSpec = { method: 'POST', path: '/write', operation: 'test.write', handler: async () => (order.push('handler'), { data: { ok: true } }) };
    const base = await start([route], async (e) => void order.push(`audit:${e.type}`));
    expect((await post(`${base}/v1/write`)).status).toBe(200);
    expect(order).toEqual(['audit:request', 'handler', 'audit:response']);
  });

  it('when a side-effect-free route runs, then both entries are recorded after it and before the answer', async () => {
    const order: string[] = [];
    const route: RouteSpec = { method: 'POST', path: '/read', operation: 'test.read', sideEffectFree: true, handler: async () => (order.push('handler'), { data: { secret: 'result-123' } }) };
    const base = await start([route], async (e) => void order.push(`audit:${e.type}`));
    const res = await post(`${base}/v1/read`);
    expect(res.status).toBe(200);
    expect(order[0]).toBe('handler');
    expect(order.slice(1).sort()).toEqual(['audit:request', 'audit:response']);
  });

  it('when the audit cannot record a side-effect-free request, then the caller gets 503 and never the result', async () => {
    const route: RouteSpec = { method: 'POST', path: '/read', operation: 'test.read', sideEffectFree: true, handler: async () => ({ data: { secret: 'result-123' } }) };
    const base = await start([route], async () => {
      throw new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable', { retryAfterSeconds: 1 });
    });
    const res = await post(`${base}/v1/read`);
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('result-123');
  });

  it('when the audit cannot record a state-changing request, then the handler never runs', async () => {
    let ran = false;
    const route: RouteSpec = { method: 'POST', path: '/write', operation: 'test.write', handler: async () => ((ran = true), { data: {} }) };
    const base = await start([route], async () => {
      throw new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable', { retryAfterSeconds: 1 });
    });
    expect((await post(`${base}/v1/write`)).status).toBe(503);
    expect(ran).toBe(false);
  });
});
