/**
 * buildApp(deps): the express application. Owns the request pipeline, in this order:
 *   request id → source-address hooks → body (32 MiB cap) → route match → token → environment →
 *   identity hooks → authorisation (before any lookup) → MFA → audit request entry (fail closed) →
 *   handler → audit response entry → Vault envelope.
 * Routes never see a request that was not authenticated and authorised (unless `auth: 'none'`).
 */
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { KeywardError, permissionDenied } from '../core/errors.js';
import type { AuditEvent, AuditSink } from '../core/ports/audit-sink.js';
import type { Environment } from '../core/types.js';
import { sourceAllowed } from '../auth/approle/cidr.js';
import { envelope } from './envelope.js';
import { errorReply, loggableError, toKeywardError } from './error-handler.js';
import { jsonDepthGuard } from './json-body.js';
import { RouteTable, type RouteVerb } from './route-table.js';
import { sendJson } from './send-json.js';
import type { Authenticator, Authorizer, MfaVerifier, PipelineHook, PolicyEvaluator } from './pipeline-ports.js';
import { rootEvaluator } from './pipeline-ports.js';
import type { AuditAnnotations, Capability, HttpMethod, Reply, RequestContext, RequestPrincipal, RouteSpec } from './route-spec.js';

export interface AppDeps {
  readonly routes: readonly RouteSpec[];
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly mfa?: MfaVerifier;
  /**
   * MFA the deployment requires on critical paths whatever the policies say (root tokens
   * included): e.g. root-key rotation, key deletion and policy changes outside dev.
   */
  readonly requiredMfa?: (env: Environment, aclPath: string, capability: Capability) => readonly string[];
  readonly audit: AuditSink;
  readonly hooks?: readonly PipelineHook[];
  readonly environments: readonly Environment[];
  readonly defaultEnvironment: Environment;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
  /** Response wrapping (`X-Vault-Wrap-TTL`) for any route's reply, as in Vault. */
  readonly wrapping?: {
    parseTtl(raw: string | undefined): number | null;
    wrap(ctx: RequestContext, reply: Reply, ttlSeconds: number): Promise<Reply>;
  };
  /** Handlers outside /v1 (e.g. /.well-known/openid-configuration): public, read-only documents. */
  readonly rawRoutes?: ReadonlyArray<{ readonly path: string; readonly handler: (req: IncomingMessage, res: ServerResponse) => void }>;
  /** Trust X-Forwarded-For from these proxies (express 'trust proxy'); default: none. */
  readonly trustProxy?: string | false;
}

const MOUNTS = new Set(['transit', 'secret', 'sys', 'auth', 'identity']);
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;

interface Locals {
  requestId: string;
  startedAt: number;
  sourceAddress: string;
  envFromPath: string | null;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

/** X-Vault-Token, or Authorization: Bearer, as Vault accepts. */
export function extractToken(req: Request): string | null {
  const header = req.get('x-vault-token');
  if (header && header.trim() !== '') return header.trim();
  const authz = req.get('authorization');
  if (authz) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    if (m?.[1]) return m[1];
  }
  return null;
}

function methodOf(req: Request): HttpMethod {
  if (req.get('x-keyward-original-method') === 'LIST') return 'LIST';
  return req.method.toUpperCase() as HttpMethod;
}

/** Vault parses `list` like Go's strconv.ParseBool; node-vault sends `list=1`. */
const TRUE_STRINGS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

function isListRequest(req: Request): boolean {
  const list = req.query['list'];
  return methodOf(req) === 'LIST' || (typeof list === 'string' && TRUE_STRINGS.has(list));
}

function defaultCapability(req: Request): Capability {
  switch (methodOf(req)) {
    case 'GET':
      return isListRequest(req) ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
    default:
      return 'update';
  }
}

function parametersOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  return { ...(req.query as Record<string, unknown>) };
}

export function buildApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.set('query parser', 'simple');
  const hooks = deps.hooks ?? [];
  const knownEnvs = new Set<string>(deps.environments);

  // Without trusted proxies express's req.ip is the socket's address (proxy-addr trusts no hop);
  // read it directly rather than parse X-Forwarded-For only to discard it.
  const directAddress = deps.trustProxy === undefined || deps.trustProxy === false;
  const requestHooks = hooks.filter((h) => h.onRequest !== undefined);

  // Request id, source address, path namespace, then the source-address hooks, as one middleware.
  app.use((req, res, next) => {
    const requestId = crypto.randomUUID();
    const l = locals(res);
    l.requestId = requestId;
    l.startedAt = performance.now();
    l.sourceAddress = (directAddress ? req.socket.remoteAddress : req.ip) ?? req.socket.remoteAddress ?? 'unknown';
    l.envFromPath = null;
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('Cache-Control', 'no-store');
    // Vault-style namespace in the path: /v1/prod/transit/... ≡ X-Vault-Namespace: prod
    const m = /^\/v1\/([a-z][a-z0-9-]*)\/([a-z]+)(\/|$|\?)/.exec(req.url);
    if (m?.[1] && m[2] && knownEnvs.has(m[1]) && MOUNTS.has(m[2])) {
      l.envFromPath = m[1];
      req.url = req.url.replace(`/v1/${m[1]}/`, '/v1/');
    }
    if (requestHooks.length === 0) return next();
    runRequestHooks(requestHooks, 0, req, l, next);
  });

  // Bodies: JSON whatever the content type (Vault clients are inconsistent), 32 MiB cap → 413.
  app.use(express.json({ limit: deps.maxBodyBytes ?? DEFAULT_MAX_BODY, type: () => true, strict: true, verify: jsonDepthGuard() }));

  // /v1: one middleware dispatching through a precompiled route table (route-table.ts) instead of
  // one express layer per (route, method); same order, matching, params, 404/405 as the Router.
  // LIST routes first: they answer GET ?list=true and fall through otherwise.
  const ordered = [...deps.routes].sort((a, b) => Number(methods(b).includes('LIST')) - Number(methods(a).includes('LIST')));
  const entries: Array<{ path: string; verb: RouteVerb; value: V1Route }> = [];
  for (const spec of ordered) {
    const handler = makeHandler(spec, deps, knownEnvs);
    for (const method of methods(spec)) {
      const accepts: V1Route['accepts'] = method === 'LIST' ? 'list' : method === 'GET' && routeHasList(deps.routes, spec.path) ? 'non-list' : 'any';
      entries.push({ path: spec.path, verb: method === 'LIST' ? 'GET' : method, value: { handler, accepts } });
    }
  }
  app.use('/v1', v1Dispatcher(new RouteTable(entries)));
  for (const raw of deps.rawRoutes ?? []) app.get(raw.path, (req, res) => raw.handler(req, res));
  app.use((_req, _res, next) => next(new KeywardError('ERR_NOT_FOUND', '')));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const l = locals(res);
    const kerr = toKeywardError(err);
    const reply = errorReply(kerr, l.requestId);
    if (reply.status >= 500) deps.logger.error({ requestId: l.requestId, code: kerr.code, err: loggableError(kerr.cause ?? kerr) }, 'request failed');
    if (!res.headersSent) {
      if (reply.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(reply.retryAfterSeconds));
      sendJson(req, res, reply.status, reply.body);
    }
    // Failures before a route matched (404/405/413/parse) still reach the observers.
    if (!(res.locals as { observed?: boolean }).observed) {
      for (const h of hooks) {
        h.onResponse?.({ ctx: null, requestId: l.requestId, sourceAddress: l.sourceAddress, operation: 'http', status: reply.status, errorCode: kerr.code, durationMs: performance.now() - l.startedAt });
      }
    }
    deps.logger.info({ requestId: l.requestId, method: req.method, path: req.path, status: reply.status }, 'request');
  });

  return app;
}

/**
 * The hooks' onRequest, in order, each awaited only when it returns a promise (no microtask hop
 * for synchronous hooks); the first failure (thrown or rejected) goes to next.
 */
function runRequestHooks(hooks: readonly PipelineHook[], from: number, req: Request, l: Locals, next: NextFunction): void {
  for (let i = from; i < hooks.length; i++) {
    let ret: Promise<void> | void;
    try {
      ret = hooks[i]?.onRequest?.({ requestId: l.requestId, sourceAddress: l.sourceAddress, method: req.method, path: req.path });
    } catch (e) {
      return next(e);
    }
    if (isThenable(ret)) {
      ret.then(
        () => runRequestHooks(hooks, i + 1, req, l, next),
        (e: unknown) => next(e),
      );
      return;
    }
  }
  next();
}

function methods(spec: RouteSpec): readonly HttpMethod[] {
  return typeof spec.method === 'string' ? [spec.method] : spec.method;
}

type RouteHandler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

interface V1Route {
  readonly handler: RouteHandler;
  /**
   * Which GET requests the entry serves: a LIST route only list requests, a GET route whose path
   * also has a LIST route only the others (the LIST route, registered first, takes those).
   */
  readonly accepts: 'any' | 'list' | 'non-list';
}

function rejected(next: NextFunction): (err: unknown) => void {
  return (err) => next(err || new Error('Rejected promise'));
}

/**
 * The /v1 middleware: the first entry (in registration order) whose method and pattern match and
 * that accepts the request runs, with req.params set as the Router sets them; a path some route
 * has, with no entry for the method → 405; otherwise on to the next app middleware (→ 404).
 * A malformed %-escape in a matching path is the client's mistake: ERR_INVALID_INPUT (400) goes to next.
 */
function v1Dispatcher(table: RouteTable<V1Route>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    let route: V1Route | null = null;
    try {
      const pathname = req.path;
      let list: boolean | undefined;
      for (const entry of table.candidates(req.method, pathname)) {
        const m = entry.match(pathname);
        if (!m) continue;
        const accepts = entry.value.accepts;
        if (accepts !== 'any') {
          list ??= isListRequest(req);
          if (list !== (accepts === 'list')) continue;
        }
        req.params = m.params as Request['params'];
        route = entry.value;
        break;
      }
      if (route === null) {
        if (table.knownPath(pathname)) return next(new KeywardError('ERR_METHOD_NOT_ALLOWED', 'unsupported operation'));
        return next();
      }
    } catch (err) {
      return next(err);
    }
    route.handler(req, res, next).then(undefined, rejected(next));
  };
}

/**
 * The RequestContext routes and hooks see: one class (one object shape for every request) instead
 * of a literal with a getter and a closure. `capability` is what the pipeline authorised; it moves
 * from update to create on an upsert, before the handler runs.
 */
class PipelineContext implements RequestContext {
  capability: Capability;
  /** The caller's policies once authorised (root: rootEvaluator). */
  evaluator: PolicyEvaluator = rootEvaluator;

  constructor(
    readonly requestId: string,
    readonly env: Environment,
    readonly principal: RequestPrincipal | null,
    readonly sourceAddress: string,
    readonly startedAt: number,
    readonly aclPath: string,
    capability: Capability,
    readonly audit: AuditAnnotations,
  ) {
    this.capability = capability;
  }

  can(cap: Capability, path?: string): boolean {
    return this.principal ? this.evaluator.evaluate(path ?? this.aclPath, cap).allowed : false;
  }
}

type AuditIdentity = NonNullable<AuditEvent['identity']>;

/** The audit identity of a principal, fields in the audit entry's order (role only when set). */
function auditIdentity(p: RequestPrincipal): AuditIdentity {
  return p.role
    ? { subject: p.subject, authMethod: p.authMethod, role: p.role, accessor: p.accessor, policies: p.policies }
    : { subject: p.subject, authMethod: p.authMethod, accessor: p.accessor, policies: p.policies };
}

/** Fields every entry of a request shares, then the request entry's own; optional ones only when set. */
interface EventBase {
  readonly requestId: string;
  readonly env: Environment;
  readonly identity: AuditIdentity | null;
  readonly sourceAddress: string;
  readonly operation: string;
  readonly path: string;
  readonly decision: AuditEvent['decision'];
}

/**
 * One audit event with the fields in the order the pipeline has always produced them (the entry
 * builder serialises what it gets): base fields, then type, time and the response's fields.
 * Absent optional fields are left out, never set to undefined.
 */
function auditEvent(
  b: EventBase,
  annotations: AuditAnnotations,
  type: 'request' | 'response',
  response: { outcome: AuditEvent['outcome']; status: number; durationMs: number; errorCode: string | null } | null,
): AuditEvent {
  const e: { -readonly [K in keyof AuditEvent]?: AuditEvent[K] } = { requestId: b.requestId, env: b.env };
  if (b.identity !== null) e.identity = b.identity;
  e.sourceAddress = b.sourceAddress;
  e.operation = b.operation;
  e.path = b.path;
  if (annotations.keyName !== undefined) e.keyName = annotations.keyName;
  if (annotations.keyVersion !== undefined) e.keyVersion = annotations.keyVersion;
  if (b.decision) e.decision = b.decision;
  e.type = type;
  e.time = new Date();
  if (response !== null) {
    e.outcome = response.outcome;
    e.status = response.status;
    e.durationMs = response.durationMs;
    if (response.errorCode) e.errorCode = response.errorCode;
    if (hasKeys(annotations.sensitive)) e.sensitive = annotations.sensitive;
    if (hasKeys(annotations.details)) e.details = annotations.details;
  }
  return e as AuditEvent;
}

function hasKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

function isThenable(v: unknown): v is PromiseLike<void> {
  return v !== undefined && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** `/a/b/` → `a/b`: leading and trailing slashes off (the default ACL path). */
function trimSlashes(path: string): string {
  let from = 0;
  let to = path.length;
  while (from < to && path.charCodeAt(from) === 47) from++;
  while (to > from && path.charCodeAt(to - 1) === 47) to--;
  return from === 0 && to === path.length ? path : path.slice(from, to);
}

function makeHandler(spec: RouteSpec, deps: AppDeps, knownEnvs: Set<string>): RouteHandler {
  const hooks = deps.hooks ?? [];
  const authHooks = hooks.filter((h) => h.onAuthenticated !== undefined);
  const responseHooks = hooks.filter((h) => h.onResponse !== undefined);
  const operation = spec.operation;

  /**
   * Records the response entry (with the deferred request entry, if any, in the same commit) and
   * then tells the observers. Rejects when the audit cannot record.
   */
  const finish = async (
    b: EventBase,
    annotations: AuditAnnotations,
    deferred: AuditEvent | null,
    l: Locals,
    ctx: RequestContext | null,
    status: number,
    errorCode: string | null,
    outcome: AuditEvent['outcome'],
  ): Promise<void> => {
    const durationMs = performance.now() - l.startedAt;
    const requestEntry = deferred !== null ? deps.audit.record(deferred) : null;
    const responseEntry = deps.audit.record(auditEvent(b, annotations, 'response', { outcome, status, durationMs: Math.round(durationMs * 1000) / 1000, errorCode }));
    if (requestEntry !== null) await Promise.all([requestEntry, responseEntry]);
    else await responseEntry;
    for (const h of responseHooks) h.onResponse?.({ ctx, requestId: l.requestId, sourceAddress: l.sourceAddress, operation, status, errorCode, durationMs });
  };

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const l = locals(res);
    const aclPath = spec.aclPath ? spec.aclPath(req) : trimSlashes(req.path);
    const capability: Capability = typeof spec.capability === 'function' ? spec.capability(req) : (spec.capability ?? defaultCapability(req));
    let ctx: PipelineContext | null = null;
    let principal: RequestPrincipal | null = null;
    const annotations: AuditAnnotations = { sensitive: {}, details: {} };
    let decision: AuditEvent['decision'];
    let env: Environment = deps.defaultEnvironment;
    (res.locals as { observed?: boolean }).observed = true;
    // The event base as it stands at the time an entry is written (identity/env/decision are
    // filled in as the pipeline learns them).
    const eventBase = (): EventBase => ({ requestId: l.requestId, env, identity: principal ? auditIdentity(principal) : null, sourceAddress: l.sourceAddress, operation, path: aclPath, decision });

    // A side-effect-free request's entry is written with its response entry, in one commit.
    let deferredRequestEntry: AuditEvent | null = null;
    let base: EventBase | null = null;

    let stage: 'auth' | 'authz' | 'handler' = 'auth';
    try {
      const requestedEnv = l.envFromPath ?? normaliseNamespace(req.get('x-vault-namespace'));
      if (requestedEnv !== null && !knownEnvs.has(requestedEnv)) {
        throw new KeywardError('ERR_INVALID_INPUT', 'unknown namespace');
      }
      if (spec.auth !== 'none') {
        const token = extractToken(req);
        if (!token) throw permissionDenied();
        principal = await deps.authenticator.authenticate(token, requestedEnv as Environment | null);
        const envName = requestedEnv ?? (principal.env === '*' ? deps.defaultEnvironment : principal.env);
        if (!knownEnvs.has(envName)) throw permissionDenied();
        env = envName as Environment;
        if (!principal.isRoot && principal.env !== '*' && principal.env !== env) throw permissionDenied();
        // token_bound_cidrs hold on every use of the token, not only at login (as in Vault).
        if (principal.boundCidrs && principal.boundCidrs.length > 0 && !sourceAllowed(principal.boundCidrs, l.sourceAddress)) throw permissionDenied();
      } else if (requestedEnv !== null) {
        env = requestedEnv as Environment;
      }
      ctx = new PipelineContext(l.requestId, env, principal, l.sourceAddress, l.startedAt, aclPath, capability, annotations);
      // Awaited only when a hook returns a promise (no microtask hop for synchronous answers).
      for (const h of authHooks) {
        const r = h.onAuthenticated?.(ctx);
        if (isThenable(r)) await r;
      }
      stage = 'authz';
      if (principal) {
        const evaluator = principal.isRoot ? rootEvaluator : await deps.authorizer.forPrincipal(principal, env);
        ctx.evaluator = evaluator;
        const parameters = parametersOf(req);
        let d = evaluator.evaluate(aclPath, capability, parameters);
        if (!d.allowed && spec.upsert && capability === 'update') {
          const asCreate = evaluator.evaluate(aclPath, 'create', parameters);
          if (asCreate.allowed) {
            d = asCreate;
            ctx.capability = 'create';
          }
        }
        decision = { allowed: d.allowed, grantingPolicies: d.grantingPolicies, reason: d.reason };
        if (!d.allowed) throw permissionDenied();
        const required = deps.requiredMfa?.(env, aclPath, ctx.capability);
        if (d.mfaMethods.length > 0 || (required !== undefined && required.length > 0)) {
          const mfaMethods = [...new Set([...d.mfaMethods, ...(required ?? [])])];
          if (!deps.mfa) throw new KeywardError('ERR_MFA_REQUIRED', 'MFA required but no MFA verifier is configured');
          await deps.mfa.verify(principal, env, mfaMethods, req.get('x-vault-mfa'));
        }
      }
      stage = 'handler';
      // Fail closed: no durable request entry, no operation. For an operation that changes nothing
      // (decrypt, data key, …) the entry may go with the response entry in one commit instead: if
      // that commit fails the caller gets 503 and the result is never released, so the operation
      // still "did not happen" — and the request costs one durable commit instead of two.
      // From here on env, identity and decision are settled: one base for both entries.
      base = eventBase();
      const requestEvent = auditEvent(base, annotations, 'request', null);
      const sideEffectFree = typeof spec.sideEffectFree === 'function' ? spec.sideEffectFree(req, ctx) : spec.sideEffectFree === true;
      if (sideEffectFree) deferredRequestEntry = requestEvent;
      else await deps.audit.record(requestEvent);
      let reply = (await spec.handler(req, ctx)) ?? {};
      const wrapTtl = deps.wrapping?.parseTtl(req.get('x-vault-wrap-ttl')) ?? null;
      if (wrapTtl !== null && deps.wrapping) reply = await deps.wrapping.wrap(ctx, reply, wrapTtl);
      const status = reply.status ?? (reply.data !== undefined || reply.auth || reply.wrapInfo || reply.warnings || reply.raw ? 200 : 204);
      const pending = deferredRequestEntry;
      deferredRequestEntry = null;
      await finish(base, annotations, pending, l, ctx, status, null, status >= 400 ? 'error' : 'success');
      if (reply.headers) for (const k in reply.headers) res.setHeader(k, reply.headers[k] as string);
      if (status === 204) {
        res.status(204).end();
      } else if (reply.raw) {
        res.status(status).type(reply.raw.contentType).send(reply.raw.body);
      } else {
        sendJson(req, res, status, envelope(l.requestId, reply));
      }
    } catch (err) {
      const kerr = toKeywardError(err);
      const status = errorReply(kerr, l.requestId).status;
      const outcome: AuditEvent['outcome'] =
        stage === 'auth' && kerr.code === 'ERR_PERMISSION_DENIED' ? 'unauthenticated' : kerr.code === 'ERR_PERMISSION_DENIED' || kerr.code === 'ERR_MFA_REQUIRED' ? 'denied' : 'error';
      const pending = deferredRequestEntry;
      deferredRequestEntry = null;
      try {
        await finish(base ?? eventBase(), annotations, pending, l, ctx, status, kerr.code, outcome);
      } catch (auditErr) {
        // The audit trail could not record the failure: answer 503 rather than an unrecorded error.
        return next(toKeywardError(auditErr).code === 'ERR_AUDIT_UNAVAILABLE' ? auditErr : new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit unavailable', { cause: auditErr, retryAfterSeconds: 1 }));
      }
      next(kerr);
    }
  };
}

function routeHasList(routes: readonly RouteSpec[], path: string): boolean {
  return routes.some((r) => r.path === path && methods(r).includes('LIST'));
}

function normaliseNamespace(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const ns = raw.trim().replace(/^\/+|\/+$/g, '');
  return ns === '' ? null : ns;
}
