/**
 * The /v1 dispatcher (route-table.ts + app.ts) answers as the per-route express Router did:
 * 405 for a known path with the wrong method, 404 otherwise; express-style params (wildcards as
 * decoded segment arrays); LIST routes take list requests and GET routes the rest; a namespace
 * prefix in the path; the JSON reply headers. Also: the byte-level JSON depth scan agrees with a
 * plain character loop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../vault/src/core/types.js';
import { buildApp } from '../../../vault/src/http/app.js';
import { jsonNestingDepth } from '../../../vault/src/http/json-body.js';
import { rootEvaluator } from '../../../vault/src/http/pipeline-ports.js';
import type { RouteSpec } from '../../../vault/src/http/route-spec.js';
import { RouteTable } from '../../../vault/src/http/route-table.js';

const principal = { jti: 'j', accessor: 'a', subject: 's', authMethod: 'token', role: null, policies: ['root'], env: '*', isRoot: true, issuedAt: new Date(), expiresAt: new Date(Date.now() + 600_000) };

const echo =
  (label: string): RouteSpec['handler'] =>
  async (req, ctx) => ({ data: { label, params: { ...req.params }, env: ctx.env, acl: ctx.aclPath, cap: ctx.capability } });

const routes: RouteSpec[] = [
  { method: ['GET', 'DELETE'], path: '/transit/keys/:name', operation: 'keys.read', handler: echo('read') },
  { method: 'POST', path: '/transit/encrypt/:name', operation: 'encrypt', handler: echo('encrypt') },
  { method: 'GET', path: '/secret/metadata/*path', operation: 'meta.read', handler: echo('meta.read') },
  { method: 'LIST', path: '/secret/metadata/*path', operation: 'meta.list', handler: echo('meta.list') },
  { method: 'LIST', path: '/transit/keys', operation: 'keys.list', handler: echo('keys.list') },
  { method: 'GET', path: '/sys/health', operation: 'health', auth: 'none', handler: echo('health') },
];

let server: http.Server;
let base = '';
beforeAll(async () => {
  const app = buildApp({
    routes,
    authenticator: { authenticate: async () => principal },
    authorizer: { forPrincipal: async () => rootEvaluator },
    audit: { record: async () => {} },
    environments: [parseEnvironment('dev'), parseEnvironment('prod')],
    defaultEnvironment: parseEnvironment('dev'),
    logger: pino({ level: 'silent' }),
  });
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function call(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: { data?: Record<string, unknown>; errors?: string[] } | null }> {
  const res = await fetch(`${base}${path}`, { method, headers: { 'x-vault-token': 't', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? null : (JSON.parse(text) as { data?: Record<string, unknown>; errors?: string[] }) };
}

describe('the /v1 dispatcher', () => {
  it('when a known path is asked with a method it has no route for, then 405; an unknown path is 404 with no errors', async () => {
    const wrong = await call('POST', '/v1/transit/keys/k1');
    expect(wrong.status).toBe(405);
    expect(wrong.json).toEqual({ errors: ['unsupported operation'] });
    expect((await call('PUT', '/v1/sys/health')).status).toBe(405);
    const unknown = await call('GET', '/v1/transit/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ errors: [] });
    expect((await call('GET', '/v1/Transit/keys/k1')).status).toBe(404);
  });

  it('when a route matches, then req.params are decoded as express sets them, wildcards as segment arrays', async () => {
    const one = await call('GET', '/v1/transit/keys/a%20b/');
    expect(one.status).toBe(200);
    expect(one.json?.data).toMatchObject({ label: 'read', params: { name: 'a b' } });
    const deep = await call('GET', '/v1/secret/metadata/x/y%2Fz');
    expect(deep.json?.data).toMatchObject({ label: 'meta.read', params: { path: ['x', 'y/z'] } });
    expect((await call('DELETE', '/v1/transit/keys/k9')).json?.data).toMatchObject({ label: 'read', cap: 'delete' });
  });

  it('when a GET is a list request (?list=true or the LIST marker header), then the LIST route answers; otherwise the GET route', async () => {
    expect((await call('GET', '/v1/secret/metadata/team?list=true')).json?.data).toMatchObject({ label: 'meta.list', cap: 'list' });
    expect((await call('GET', '/v1/secret/metadata/team', { 'x-keyward-original-method': 'LIST' })).json?.data).toMatchObject({ label: 'meta.list' });
    expect((await call('GET', '/v1/secret/metadata/team?list=false')).json?.data).toMatchObject({ label: 'meta.read', cap: 'read' });
    expect((await call('GET', '/v1/transit/keys?list=1')).json?.data).toMatchObject({ label: 'keys.list' });
    // A LIST-only path asked without list falls through the LIST route to 405.
    expect((await call('GET', '/v1/transit/keys')).status).toBe(405);
  });

  it('when the path carries a known namespace before a mount, then the route runs in that environment', async () => {
    const res = await call('GET', '/v1/prod/transit/keys/k1');
    expect(res.status).toBe(200);
    expect(res.json?.data).toMatchObject({ label: 'read', env: 'prod', acl: 'transit/keys/k1', params: { name: 'k1' } });
    expect((await call('GET', '/v1/staging/transit/keys/k1')).status).toBe(404);
  });

  it('when a HEAD arrives for a GET route, then it is served by it with no body', async () => {
    const res = await call('HEAD', '/v1/sys/health');
    expect(res.status).toBe(200);
    expect(res.json).toBeNull();
  });

  it('when a JSON reply or error is sent, then it carries the express headers', async () => {
    for (const res of [await call('GET', '/v1/sys/health'), await call('GET', '/v1/nope')]) {
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    }
  });

  it('when a matching path holds a malformed %-escape, then the request fails with 400 and a Vault errors body', async () => {
    const res = await call('GET', '/v1/transit/keys/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ errors: ['invalid percent-encoding in the request path'] });
  });
});

describe('RouteTable', () => {
  it('when patterns share a first segment, then candidates keep registration order and GET entries serve HEAD', () => {
    const t = new RouteTable([
      { path: '/a/:x', verb: 'GET', value: 1 },
      { path: '/b/c', verb: 'GET', value: 2 },
      { path: '/a/fixed', verb: 'GET', value: 3 },
      { path: '/a/:x', verb: 'POST', value: 4 },
    ]);
    expect(t.candidates('GET', '/a/fixed').map((e) => e.value)).toEqual([1, 3]);
    expect(t.candidates('HEAD', '/a/q').map((e) => e.value)).toEqual([1, 3]);
    expect(t.candidates('PUT', '/a/q')).toEqual([]);
    expect(t.knownPath('/a/q/')).toBe(true);
    expect(t.knownPath('/b')).toBe(false);
  });
});

/** The reference scan: one character at a time, a backslash in a string skips the next one. */
function referenceDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') max = Math.max(max, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return max;
}

describe('jsonNestingDepth over bytes', () => {
  it('when arbitrary text of brackets, quotes and backslashes is scanned as UTF-8 bytes, then it agrees with the character scan', () => {
    const chars = fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ' ', 'é', '€');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 80 }), (parts) => {
        const text = parts.join('');
        expect(jsonNestingDepth(Buffer.from(text, 'utf8'))).toBe(referenceDepth(text));
        expect(jsonNestingDepth(text)).toBe(referenceDepth(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('when the depth passes stopAbove, then the scan reports more than stopAbove', () => {
    expect(jsonNestingDepth(Buffer.from('['.repeat(100)), 64)).toBeGreaterThan(64);
    expect(jsonNestingDepth(Buffer.from(`{"a":"${'['.repeat(100)}"}`), 64)).toBe(1);
  });
});
