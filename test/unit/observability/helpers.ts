/** Shared test fixtures: a SQLite store with migration 008 only, a settable clock, a listening app. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Database from 'better-sqlite3';
import pino from 'pino';
import { migration } from '../../../vault/src/adapters/sqlite/migrations/008-quotas.js';
import { SqliteObservabilityStore } from '../../../vault/src/adapters/sqlite/sqlite-observability-store.js';
import type { AuditEvent, AuditSink } from '../../../vault/src/core/ports/audit-sink.js';
import type { Clock } from '../../../vault/src/core/ports/clock.js';
import { parseEnvironment, type Environment } from '../../../vault/src/core/types.js';
import { buildApp } from '../../../vault/src/http/app.js';
import type { PipelineHook } from '../../../vault/src/http/pipeline-ports.js';
import { rootEvaluator } from '../../../vault/src/http/pipeline-ports.js';
import type { RequestPrincipal, RouteSpec } from '../../../vault/src/http/route-spec.js';
import { permissionDenied } from '../../../vault/src/core/errors.js';

export function memoryStore(): { db: Database.Database; store: SqliteObservabilityStore } {
  const db = new Database(':memory:');
  db.exec(migration.up);
  return { db, store: new SqliteObservabilityStore(db) };
}

export class FakeClock implements Clock {
  constructor(public ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function principal(subject: string, role: string | null = null, isRoot = false): RequestPrincipal {
  const now = new Date();
  return { jti: `jti-${subject}`, accessor: `acc-${subject}`, subject, authMethod: 'approle', role, policies: ['p'], env: '*', isRoot, issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000) };
}

export class RecordingAudit implements AuditSink {
  readonly events: AuditEvent[] = [];
  failing = false;
  async record(e: AuditEvent): Promise<void> {
    if (this.failing) throw new Error('audit down');
    this.events.push(e);
  }
}

export const ENVS: Environment[] = ['dev', 'prod'].map(parseEnvironment);

/** Tokens: "tok-<subject>[:<role>]" authenticate as that subject; anything else is refused. */
export async function startApp(routes: RouteSpec[], hooks: PipelineHook[], audit: AuditSink = { record: async () => {} }): Promise<{ base: string; close: () => Promise<void> }> {
  const app = buildApp({
    routes,
    authenticator: {
      authenticate: async (t) => {
        const m = /^tok-([a-z0-9-]+)(?::([a-z0-9-]+))?$/.exec(t);
        if (!m?.[1]) throw permissionDenied();
        return principal(m[1], m[2] ?? null);
      },
    },
    authorizer: { forPrincipal: async () => rootEvaluator },
    audit,
    hooks,
    environments: ENVS,
    defaultEnvironment: ENVS[0] as Environment,
    logger: pino({ level: 'silent' }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(url: string, options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        headers: {
          ...(options.token ? { 'X-Vault-Token': options.token } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** A trivial authenticated route for traffic: GET/POST /v1/transit/encrypt/:name. */
export const echoRoutes: RouteSpec[] = [
  {
    method: ['GET', 'POST'],
    path: '/transit/encrypt/:name',
    operation: 'transit.encrypt',
    handler: async (req, ctx) => {
      ctx.audit.keyName = String(req.params['name']);
      return { data: { ok: true } };
    },
  },
  { method: 'GET', path: '/sys/health', auth: 'none', operation: 'sys.health', handler: async () => ({ data: { ok: true } }) },
];
