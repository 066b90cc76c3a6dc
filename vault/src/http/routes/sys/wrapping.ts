/**
 * Response wrapping over HTTP (Vault semantics):
 * - `makeWrapReply(deps)` → `wrapReply(ctx, reply, ttlSeconds)`: the pipeline calls it after a handler
 *   returns when the request carried `X-Vault-Wrap-TTL` (parse it with `parseWrapTtlHeader`). The
 *   reply's `data`/`auth`/`warnings` go under a single-use wrapping token; the client gets `wrap_info`.
 *   Error replies, raw bodies, empty replies and replies already wrapped pass through unchanged.
 * - `sys/wrapping/unwrap` (auth 'none': the wrapping token is the credential, in the body `token` or in
 *   X-Vault-Token) returns the payload exactly as the wrapped response would have carried it.
 * - `sys/wrapping/lookup` (auth 'none') → creation_path, creation_time, creation_ttl; does not consume.
 * - `sys/wrapping/wrap` wraps the request body; `sys/wrapping/rewrap` moves a payload to a new token.
 *
 * Invariants: every unusable token is Vault's 400 "wrapping token is not valid or does not exist"; a
 * second use of a consumed token is refused the same way, marked `wrapping_reuse` in the audit entry
 * and reported to `onWrappingReuse` (the anomaly detector). The token is never logged in clear: it goes
 * to the audit only as a `sensitive` (HMAC-ed) value.
 */
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { WrappingTokenRecord } from '../../../core/ports/secret-store.js';
import { wrappingTokenInvalid, type WrapResult, type WrappingReuseInfo, type WrappingUseCases } from '../../../usecases/wrapping/index.js';
import { extractToken } from '../../app.js';
import type { Reply, RequestContext, RouteSpec, WrapInfo } from '../../route-spec.js';
import { parseDurationSeconds, parseInput } from '../../schema.js';

export const WRAP_TTL_HEADER = 'x-vault-wrap-ttl';

/** `X-Vault-Wrap-TTL` ("300", "5m", …) in seconds; null when absent or empty. Invalid → ERR_INVALID_INPUT. */
export function parseWrapTtlHeader(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return null;
  const seconds = parseDurationSeconds(raw);
  if (seconds < 1) throw invalidInput('invalid wrapping TTL');
  return seconds;
}

export type WrapReply = (ctx: RequestContext, reply: Reply, ttlSeconds: number) => Promise<Reply>;

function toWrapInfo(w: WrapResult): WrapInfo {
  return { token: w.token, accessor: w.accessor, ttl: w.ttlSeconds, creation_time: w.createdAt.toISOString(), creation_path: w.creationPath };
}

export function makeWrapReply(deps: Pick<WrappingUseCases, 'wrapResponse'>): WrapReply {
  return async (ctx, reply, ttlSeconds) => {
    if (reply.wrapInfo || reply.raw) return reply;
    if (reply.status !== undefined && (reply.status < 200 || reply.status >= 300)) return reply;
    if (reply.data === undefined && reply.auth === undefined) return reply;
    const wrapped = await deps.wrapResponse({
      env: ctx.env,
      creationPath: ctx.aclPath,
      ttlSeconds,
      payload: { data: reply.data, auth: reply.auth, ...(reply.warnings ? { warnings: reply.warnings } : {}) },
    });
    ctx.audit.details['wrapping_accessor'] = wrapped.accessor;
    return { status: 200, wrapInfo: toWrapInfo(wrapped), ...(reply.headers ? { headers: reply.headers } : {}) };
  };
}

export interface WrappingRouteDeps extends WrappingUseCases {
  /** Called on a refused second use of a wrapping token; connect it to the anomaly detector. Must not throw. */
  readonly onWrappingReuse?: (info: WrappingReuseInfo) => void;
}

const tokenBody = z.object({ token: z.string().max(1024).nullish() }).passthrough();

/** The body `token`, else the request's own token header (Vault allows either). */
function wrappingTokenOf(body: unknown, req: Parameters<RouteSpec['handler']>[0]): string {
  const t = parseInput(tokenBody, body).token;
  if (t) return t.trim();
  return extractToken(req) ?? '';
}

export function wrappingRoutes(deps: WrappingRouteDeps): RouteSpec[] {
  const wrapReply = makeWrapReply(deps);

  const refuseReuse = (ctx: RequestContext, record: WrappingTokenRecord): never => {
    ctx.audit.details['wrapping_reuse'] = true;
    ctx.audit.details['wrapping_accessor'] = record.accessor;
    try {
      deps.onWrappingReuse?.({
        accessor: record.accessor,
        env: record.env,
        creationPath: record.creationPath,
        firstUsedAt: record.usedAt,
        attemptedAt: new Date(),
        requestId: ctx.requestId,
        sourceAddress: ctx.sourceAddress,
      });
    } catch {
      // an observer must never change the answer
    }
    throw wrappingTokenInvalid();
  };

  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/wrapping/unwrap',
      auth: 'none',
      operation: 'sys.wrapping.unwrap',
      handler: async (req, ctx) => {
        const token = wrappingTokenOf(req.body, req);
        if (token !== '') ctx.audit.sensitive['wrapping_token'] = token;
        const r = await deps.unwrap({ token });
        if (!r.ok) {
          if (r.reason === 'reused') refuseReuse(ctx, r.record);
          throw wrappingTokenInvalid();
        }
        ctx.audit.details['wrapping_accessor'] = r.record.accessor;
        ctx.audit.details['wrapping_creation_path'] = r.record.creationPath;
        const p = r.payload;
        return {
          ...(p.data !== undefined ? { data: p.data } : {}),
          ...(p.auth !== undefined ? { auth: p.auth as NonNullable<Reply['auth']> } : {}),
          ...(p.warnings && p.warnings.length > 0 ? { warnings: p.warnings } : {}),
        };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/wrapping/lookup',
      auth: 'none',
      operation: 'sys.wrapping.lookup',
      handler: async (req, ctx) => {
        const token = wrappingTokenOf(req.body, req);
        if (token !== '') ctx.audit.sensitive['wrapping_token'] = token;
        const record = await deps.lookupWrapping({ token });
        ctx.audit.details['wrapping_accessor'] = record.accessor;
        return { data: { creation_path: record.creationPath, creation_time: record.createdAt.toISOString(), creation_ttl: record.ttlSeconds } };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/wrapping/wrap',
      operation: 'sys.wrapping.wrap',
      handler: async (req, ctx) => {
        const ttl = parseWrapTtlHeader(req.get(WRAP_TTL_HEADER));
        if (ttl === null) throw invalidInput('endpoint requires response wrapping to be used');
        const body: unknown = req.body;
        if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) throw invalidInput('no data provided');
        return wrapReply(ctx, { data: body }, ttl);
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/wrapping/rewrap',
      operation: 'sys.wrapping.rewrap',
      handler: async (req, ctx) => {
        const token = parseInput(tokenBody, req.body).token?.trim() ?? '';
        if (token !== '') ctx.audit.sensitive['wrapping_token'] = token;
        const r = await deps.rewrapWrapping({ token });
        if (!r.ok) {
          if (r.reason === 'reused') refuseReuse(ctx, r.record);
          throw wrappingTokenInvalid();
        }
        ctx.audit.details['wrapping_accessor'] = r.wrapped.accessor;
        return { wrapInfo: toWrapInfo(r.wrapped) };
      },
    },
  ];
}
