/**
 * Property-based bad input (fast-check, fixed seed printed): against a real server, arbitrary JSON
 * bodies (deep, huge, wrong types, prototype-pollution keys), arbitrary headers and arbitrary
 * paths and methods under /v1 never produce a 5xx or a crash, and every 4xx body is
 * `{"errors":[…]}`. At unit level, the envelope and policy parsers fail only with their one error.
 */
import https from 'node:https';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parsePolicyText } from '../../vault/src/authz/policy.js';
import { parseEnvelope } from '../../vault/src/core/envelope.js';
import { KeywardError } from '../../vault/src/core/errors.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

const SEED = Number(process.env['KEYWARD_FC_SEED'] ?? 20250707);
const RUNS = 150;

let server: DevServer;
let agent: https.Agent;

beforeAll(async () => {
  server = await startDevServer();
  agent = new https.Agent({ ca: server.caPem, keepAlive: true, maxSockets: 8 });
});

afterAll(async () => {
  agent?.destroy();
  await server?.destroy();
});

const seedNote = (): void => {
  onTestFailed(() => console.error(`[bad-input] fast-check seed=${SEED} (replay: KEYWARD_FC_SEED=${SEED})`));
};

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, method, path, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function expectWellFormed(a: Answer, method: string): void {
  expect(a.status, a.body).toBeLessThan(500);
  if (a.status >= 400 && method !== 'HEAD') {
    const parsed = JSON.parse(a.body) as { errors?: unknown };
    expect(Array.isArray(parsed.errors)).toBe(true);
    for (const e of parsed.errors as unknown[]) expect(typeof e).toBe('string');
  }
}

const KNOWN_PATHS = [
  '/v1/transit/encrypt/prop-key', '/v1/transit/decrypt/prop-key', '/v1/transit/rewrap/prop-key', '/v1/transit/keys/prop-key',
  '/v1/transit/keys/prop-key/config', '/v1/transit/keys/prop-key/rotate', '/v1/transit/datakey/plaintext/prop-key',
  '/v1/transit/keys', '/v1/secret/data/prop/a', '/v1/secret/metadata/prop/a', '/v1/secret/delete/prop/a', '/v1/secret/config',
  '/v1/sys/policies/acl/prop', '/v1/sys/capabilities-self', '/v1/sys/wrapping/unwrap', '/v1/auth/token/create', '/v1/auth/token/lookup-self',
  '/v1/sys/audit-log', '/v1/sys/health', '/v1/prod/transit/encrypt/prop-key',
];

const POLLUTION = [
  '{"__proto__":{"polluted":true,"isRoot":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"plaintext":"aGk=","__proto__":{"context":"x"}}',
  '{"data":{"__proto__":{"x":1},"constructor":"y"}}',
  '{"policy":"{\\"path\\":{\\"__proto__\\":{\\"capabilities\\":[\\"sudo\\"]}}}"}',
];

const segment = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%ff', '%', '%zz', '~', 'LIST', '*', '+', ':name', 'transit', 'secret', 'sys', 'prod', 'keys', 'data'),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.integer({ min: 200, max: 3000 }).map((n) => 'a'.repeat(n)),
);
const randomPath = fc.array(segment, { minLength: 0, maxLength: 6 }).map((segs) => `/v1/${segs.join('/')}`);
const pathArb = fc.oneof(fc.constantFrom(...KNOWN_PATHS), randomPath, fc.tuple(fc.constantFrom(...KNOWN_PATHS), fc.constantFrom('?list=true', '?list=1', '?version=-1', '?version=abc', '?a[b]=c', '?__proto__=1', '%2F..%2F..')).map(([p, q]) => p + q));
const methodArb = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'LIST', 'HEAD', 'OPTIONS');
const headerText = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '?'));
const bodyArb = fc.oneof(
  fc.json({ maxDepth: 6 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ plaintext: v, ciphertext: v, data: v, batch_input: [v], policy: v, key_version: v, context: v })),
  fc.constantFrom(...POLLUTION),
  fc.integer({ min: 65, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.string({ maxLength: 200 }),
  fc.constant(''),
);

describe('bad input against the real server', () => {
  it('when arbitrary methods, paths, headers and JSON bodies arrive, then the answer is never a 5xx and every 4xx is {"errors":[…]}', async () => {
    seedNote();
    await fc.assert(
      fc.asyncProperty(
        methodArb,
        pathArb,
        fc.option(bodyArb, { nil: undefined }),
        fc.record(
          {
            token: fc.oneof(fc.constant('ROOT'), headerText, fc.constant('Bearer x.y.z')),
            namespace: fc.oneof(fc.constantFrom('dev', 'prod', 'nope', '../prod', '/', 'prod/'), headerText),
            wrapTtl: fc.oneof(fc.constantFrom('60s', '-1', '0', '10y', '1e309', 'abc'), headerText),
            contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded'),
          },
          { requiredKeys: [] },
        ),
        async (method, path, body, h) => {
          const headers: Record<string, string> = {};
          if (h.token !== undefined) headers['x-vault-token'] = h.token === 'ROOT' ? server.rootToken : h.token;
          if (h.namespace !== undefined) headers['x-vault-namespace'] = h.namespace;
          if (h.wrapTtl !== undefined) headers['x-vault-wrap-ttl'] = h.wrapTtl;
          if (h.contentType !== undefined) headers['content-type'] = h.contentType;
          const sendBody = method === 'GET' || method === 'HEAD' ? undefined : body;
          const answer = await send(method, path, headers, sendBody);
          expectWellFormed(answer, method);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    const health = await send('GET', '/v1/sys/health', {});
    expect(health.status).toBe(200);
  });

  it('when a body nests 10,000 levels deep, then it is refused with 400 "JSON nesting too deep" and the server keeps serving', async () => {
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const a = await send('POST', '/v1/transit/encrypt/prop-key', { 'x-vault-token': server.rootToken, 'content-type': 'application/json' }, deep);
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body)).toEqual({ errors: ['JSON nesting too deep'] });
    // Brackets inside strings are data, not nesting.
    const ok = await send('POST', '/v1/transit/encrypt/prop-key', { 'x-vault-token': server.rootToken }, JSON.stringify({ plaintext: Buffer.from('x').toString('base64'), note: '['.repeat(5000) }));
    expect(ok.status).toBeLessThan(500);
    expect((await send('GET', '/v1/sys/health', {})).status).toBe(200);
  });

  it('when a huge string body close to the 32 MiB limit arrives, then it is a 4xx or 200, and one past the limit is 413', async () => {
    const big = JSON.stringify({ plaintext: 'A'.repeat(30 * 1024 * 1024), context: 123 });
    const a = await send('POST', '/v1/transit/encrypt/prop-key', { 'x-vault-token': server.rootToken }, big);
    expectWellFormed(a, 'POST');
    const tooBig = JSON.stringify({ plaintext: 'A'.repeat(33 * 1024 * 1024) });
    const b = await send('POST', '/v1/transit/encrypt/prop-key', { 'x-vault-token': server.rootToken }, tooBig).catch((e: unknown) => e);
    // The server may answer 413 or close the socket while we are still sending; both are refusals.
    if (!(b instanceof Error)) {
      expect((b as Answer).status).toBe(413);
      expectWellFormed(b as Answer, 'POST');
    }
    expect((await send('GET', '/v1/sys/health', {})).status).toBe(200);
  });
});

describe('parsers never throw anything but their one error', () => {
  it('parseEnvelope: any input either parses or fails with ERR_DECRYPTION_FAILED', () => {
    seedNote();
    const envelopeLike = fc.oneof(
      fc.anything(),
      fc.string(),
      fc.tuple(fc.oneof(fc.integer(), fc.string({ maxLength: 12 })), fc.base64String({ maxLength: 200 })).map(([v, b]) => `vault:v${v}:${b}`),
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.uint8Array({ maxLength: 120 })).map(([v, bytes]) => `vault:v${v}:${Buffer.from(bytes).toString('base64')}`),
    );
    fc.assert(
      fc.property(envelopeLike, (input) => {
        try {
          parseEnvelope(input);
        } catch (e) {
          expect(e).toBeInstanceOf(KeywardError);
          expect((e as KeywardError).code).toBe('ERR_DECRYPTION_FAILED');
          expect((e as KeywardError).message).toBe('decryption failed');
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('parsePolicyText: any text either parses or fails with ERR_INVALID_INPUT', () => {
    seedNote();
    const rule = fc.record(
      { capabilities: fc.oneof(fc.array(fc.constantFrom('create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny', 'root', '')), fc.jsonValue({ maxDepth: 2 })), allowed_parameters: fc.jsonValue({ maxDepth: 3 }), denied_parameters: fc.jsonValue({ maxDepth: 3 }), mfa_methods: fc.jsonValue({ maxDepth: 2 }) },
      { requiredKeys: [] },
    );
    const policyLike = fc.oneof(
      fc.string(),
      fc.json({ maxDepth: 5 }).map((s) => (s.trimStart().startsWith('{') ? s : `{${s}`)),
      fc.dictionary(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'secret/*', 'transit/+/x')), rule).map((paths) => JSON.stringify({ path: paths })),
      fc.constantFrom('{"path":{"__proto__":{"capabilities":["sudo"]}}}', '{"path":null}', '{"path":[]}', '{}', '{'),
    );
    fc.assert(
      fc.property(policyLike, (text) => {
        try {
          parsePolicyText(text);
        } catch (e) {
          expect(e).toBeInstanceOf(KeywardError);
          expect((e as KeywardError).code).toBe('ERR_INVALID_INPUT');
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
