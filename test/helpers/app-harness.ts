/**
 * A harness for integration tests through the real request pipeline (buildApp): a throwaway SoftHSM2
 * token, a Pkcs11Hsm, a real SQLite file in a temp dir, the environment root ensured, and an express
 * listener on 127.0.0.1:0. Authentication is a test double: token "root" is a root token; other
 * tokens map to evaluators given in `principals`. Audit events are collected in `audit`.
 *
 * `wrapReply`, when given, is applied after every handler whose request carries X-Vault-Wrap-TTL —
 * the one call the pipeline makes for response wrapping — so wrapping can be tested end to end.
 * One harness per test file (vitest forks pool: PKCS#11 library state is per process).
 *
 * `startRootApp` is the lighter variant for route tests that bring their own store and HSM: only the
 * given routes through the same pipeline, environments dev and prod, every caller authenticated as a
 * root principal, events to the given audit sink.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openPkcs11Hsm, type Pkcs11Hsm } from '../../vault/src/adapters/pkcs11/pkcs11-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteKeyStore } from '../../vault/src/adapters/sqlite/sqlite-key-store.js';
import { permissionDenied } from '../../vault/src/core/errors.js';
import type { AuditEvent, AuditSink } from '../../vault/src/core/ports/audit-sink.js';
import { systemClock, type Clock } from '../../vault/src/core/ports/clock.js';
import { parseEnvironment, type Environment } from '../../vault/src/core/types.js';
import { buildApp, type AppDeps } from '../../vault/src/http/app.js';
import { rootEvaluator, type PolicyEvaluator } from '../../vault/src/http/pipeline-ports.js';
import type { Reply, RequestContext, RequestPrincipal, RouteSpec } from '../../vault/src/http/route-spec.js';
import { makeEnsureEnvironmentRoot } from '../../vault/src/usecases/ensure-environment-root.js';
import { createThrowawayToken, type ThrowawayToken } from './throwaway-token.js';

export interface AppHarnessBuild {
  readonly hsm: Pkcs11Hsm;
  readonly db: SqliteConnection;
  readonly keys: SqliteKeyStore;
  readonly clock: Clock;
  readonly env: Environment;
}

export interface AppHarnessOptions {
  readonly routes: (b: AppHarnessBuild) => RouteSpec[];
  /** Non-root callers: token → evaluator. */
  readonly principals?: Record<string, PolicyEvaluator>;
  readonly clock?: Clock;
  readonly wrapReply?: (b: AppHarnessBuild) => (ctx: RequestContext, reply: Reply, ttlSeconds: number) => Promise<Reply>;
  readonly parseWrapTtl?: (raw: string | undefined) => number | null;
}

export interface CallResult {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: Record<string, any>;
}

export interface AppHarness extends AppHarnessBuild {
  readonly base: string;
  readonly dbFile: string;
  readonly audit: AuditEvent[];
  call(method: string, p: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string> }): Promise<CallResult>;
  close(): Promise<void>;
}

function principal(name: string, isRoot: boolean, policies: string[] = [name]): RequestPrincipal {
  const now = new Date();
  return { jti: name, accessor: `acc-${name}`, subject: name, authMethod: 'token', role: null, policies, env: '*', isRoot, issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000) };
}

/** buildApp (silent logger) listening on 127.0.0.1 at a free port; `base` ends in /v1. */
async function listenApp(deps: Omit<AppDeps, 'logger'>): Promise<{ base: string; close(): Promise<void> }> {
  const app = buildApp({ ...deps, logger: pino({ level: 'silent' }) });
  let server: Server | undefined;
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    base: `http://127.0.0.1:${(server?.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

export interface RootAppOptions {
  readonly routes: readonly RouteSpec[];
  readonly audit: AuditSink;
  /** Subject of the root principal every caller authenticates as (shows as the actor). Default 'root'. */
  readonly subject?: string;
}

export interface RootApp {
  /** http://127.0.0.1:<port>/v1 */
  readonly base: string;
  close(): Promise<void>;
}

export async function startRootApp(options: RootAppOptions): Promise<RootApp> {
  const dev = parseEnvironment('dev');
  return listenApp({
    routes: options.routes,
    authenticator: { authenticate: async () => principal(options.subject ?? 'root', true, ['root']) },
    authorizer: { forPrincipal: async () => rootEvaluator },
    audit: options.audit,
    environments: [dev, parseEnvironment('prod')],
    defaultEnvironment: dev,
  });
}

export async function startAppHarness(options: AppHarnessOptions): Promise<AppHarness> {
  const env = parseEnvironment('dev');
  const clock = options.clock ?? systemClock;
  const token: ThrowawayToken = await createThrowawayToken();
  const hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, softhsmConf: token.confPath });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-app-harness-'));
  const dbFile = path.join(tmp, 'keyward.db');
  const db = await openDatabase({ file: dbFile });
  const keys = new SqliteKeyStore(db);
  await makeEnsureEnvironmentRoot({ hsm, keys, clock })(env);
  const build: AppHarnessBuild = { hsm, db, keys, clock, env };

  let routes = options.routes(build);
  if (options.wrapReply && options.parseWrapTtl) {
    const wrapReply = options.wrapReply(build);
    const parse = options.parseWrapTtl;
    routes = routes.map((r) => ({
      ...r,
      handler: async (req, ctx) => {
        const reply = await r.handler(req, ctx);
        const ttl = parse(req.get('x-vault-wrap-ttl'));
        return ttl !== null && reply ? wrapReply(ctx, reply, ttl) : reply;
      },
    }));
  }
  const audit: AuditEvent[] = [];
  const principals = options.principals ?? {};
  const listener = await listenApp({
    routes,
    authenticator: {
      authenticate: async (t) => {
        if (t === 'root') return principal('root', true);
        if (principals[t]) return principal(t, false);
        throw permissionDenied();
      },
    },
    authorizer: { forPrincipal: async (p) => (p.isRoot ? rootEvaluator : (principals[p.subject] ?? rootEvaluator)) },
    audit: {
      record: async (e) => {
        audit.push(e);
      },
    },
    environments: [env],
    defaultEnvironment: env,
  });
  const base = listener.base;

  return {
    ...build,
    base,
    dbFile,
    audit,
    async call(method, p, body, callOptions = {}) {
      const tokenValue = callOptions.token === undefined ? 'root' : callOptions.token;
      const res = await fetch(`${base}${p}`, {
        method,
        headers: {
          'X-Vault-Namespace': 'dev',
          'content-type': 'application/json',
          ...(tokenValue === null ? {} : { 'X-Vault-Token': tokenValue }),
          ...(callOptions.headers ?? {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
    async close() {
      await listener.close();
      await hsm.close();
      closeDatabase(db);
      token.cleanup();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
