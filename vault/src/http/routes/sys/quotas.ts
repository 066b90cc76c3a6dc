/**
 * Vault's rate-limit quota API:
 *   POST/PUT /v1/sys/quotas/rate-limit/:name   create or update (fields not sent keep their value)
 *   GET      /v1/sys/quotas/rate-limit/:name
 *   DELETE   /v1/sys/quotas/rate-limit/:name
 *   LIST     /v1/sys/quotas/rate-limit          (or GET ?list=true)
 *   GET/POST /v1/sys/quotas/config               exempt paths, audit logging, response headers
 * Fields: name, path, rate, interval, block_interval, role, inheritable, plus Vault's `group_by`
 * (ip | none | entity_then_ip | entity_then_none; default ip). Quotas are global (not per
 * environment), like Vault's, which are managed from the root namespace.
 * Keyward differences: `role` matches the authenticated principal's role on any request under
 * `path` (Vault: login requests of that role); `inheritable` is stored and reported but has no effect
 * (environments do not nest); `enable_rate_limit_audit_logging` is always true; response headers
 * (`enable_rate_limit_response_headers`) are stored but not emitted.
 */
import { z } from 'zod';
import { invalidInput, notFound } from '../../../core/errors.js';
import type { ObservabilityStore, QuotaGroupBy, QuotaRecord } from '../../../observability/store.js';
import { parseQuotaPath } from '../../../observability/rate-limit/quota-match.js';
import type { Clock } from '../../../core/ports/clock.js';
import { parseInput, vBool, vDuration } from '../../schema.js';
import type { RouteSpec } from '../../route-spec.js';

export interface QuotaRouteDeps {
  readonly store: ObservabilityStore;
  readonly clock: Clock;
  /** Called after every write so the limiter re-reads the quotas at once. */
  readonly onChange?: () => void;
  /** When given, an environment prefix in `path` must be one of these. */
  readonly environments?: readonly string[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const vRate = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/).transform(Number)]).refine((n) => Number.isFinite(n) && n > 0, { message: 'must be positive' });

const quotaBody = z.object({
  path: z.string().max(512).optional(),
  rate: vRate.optional(),
  interval: vDuration.optional(),
  block_interval: vDuration.optional(),
  role: z.string().max(128).optional(),
  inheritable: vBool.optional(),
  group_by: z.enum(['ip', 'none', 'entity_then_ip', 'entity_then_none']).optional(),
  name: z.string().optional(),
  type: z.string().optional(),
});

const configBody = z.object({
  rate_limit_exempt_paths: z.array(z.string().max(512)).max(256).optional(),
  enable_rate_limit_audit_logging: vBool.optional(),
  enable_rate_limit_response_headers: vBool.optional(),
});

function nameOf(raw: unknown): string {
  if (typeof raw !== 'string' || !NAME_RE.test(raw)) throw invalidInput('invalid quota name');
  return raw;
}

export function quotaView(q: QuotaRecord): Record<string, unknown> {
  return {
    name: q.name,
    type: 'rate-limit',
    path: q.path,
    rate: q.rate,
    interval: q.intervalSeconds,
    block_interval: q.blockIntervalSeconds,
    role: q.role,
    inheritable: q.inheritable,
    group_by: q.groupBy,
  };
}

export function quotaRoutes(deps: QuotaRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/quotas/rate-limit/:name',
      operation: 'sys.quotas.rate_limit.write',
      handler: async (req) => {
        const name = nameOf(req.params['name']);
        const body = parseInput(quotaBody, req.body);
        const existing = await deps.store.getQuota(name);
        const rate = body.rate ?? existing?.rate;
        if (rate === undefined) throw invalidInput('invalid request: rate: required');
        const path = (body.path ?? existing?.path ?? '').trim().replace(/^\/+/, '');
        if (path.includes('..') || /[\s?#]/.test(path)) throw invalidInput('invalid request: path: invalid');
        const parsed = parseQuotaPath(path);
        if (parsed.env !== null && deps.environments && !deps.environments.includes(parsed.env)) throw invalidInput('invalid request: path: unknown namespace');
        const intervalSeconds = body.interval ?? existing?.intervalSeconds ?? 1;
        if (intervalSeconds < 1) throw invalidInput('invalid request: interval: must be at least 1s');
        const role = body.role ?? existing?.role ?? '';
        const now = deps.clock.now();
        const quota: QuotaRecord = {
          name,
          path,
          rate,
          intervalSeconds,
          blockIntervalSeconds: body.block_interval ?? existing?.blockIntervalSeconds ?? 0,
          role,
          // Vault: global quotas default to inheritable.
          inheritable: body.inheritable ?? existing?.inheritable ?? path === '',
          groupBy: (body.group_by ?? existing?.groupBy ?? 'ip') as QuotaGroupBy,
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
        };
        await deps.store.putQuota(quota);
        deps.onChange?.();
        return null;
      },
    },
    {
      method: 'GET',
      path: '/sys/quotas/rate-limit/:name',
      operation: 'sys.quotas.rate_limit.read',
      handler: async (req) => {
        const q = await deps.store.getQuota(nameOf(req.params['name']));
        if (!q) throw notFound('');
        return { data: quotaView(q) };
      },
    },
    {
      method: 'DELETE',
      path: '/sys/quotas/rate-limit/:name',
      operation: 'sys.quotas.rate_limit.delete',
      handler: async (req) => {
        await deps.store.deleteQuota(nameOf(req.params['name']));
        deps.onChange?.();
        return null;
      },
    },
    {
      method: 'LIST',
      path: '/sys/quotas/rate-limit',
      operation: 'sys.quotas.rate_limit.list',
      handler: async () => {
        const keys = (await deps.store.listQuotas()).map((q) => q.name);
        // Vault answers an empty list with 404.
        if (keys.length === 0) throw notFound('');
        return { data: { keys } };
      },
    },
    {
      method: 'GET',
      path: '/sys/quotas/config',
      operation: 'sys.quotas.config.read',
      handler: async () => {
        const c = await deps.store.getQuotaConfig();
        return {
          data: {
            rate_limit_exempt_paths: c.exemptPaths,
            enable_rate_limit_audit_logging: true,
            enable_rate_limit_response_headers: c.enableRateLimitResponseHeaders,
          },
        };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/quotas/config',
      operation: 'sys.quotas.config.write',
      handler: async (req) => {
        const body = parseInput(configBody, req.body);
        const c = await deps.store.getQuotaConfig();
        await deps.store.putQuotaConfig({
          exemptPaths: body.rate_limit_exempt_paths ? body.rate_limit_exempt_paths.map((p) => p.trim().replace(/^\/+/, '').replace(/^v1\//, '')) : c.exemptPaths,
          enableRateLimitAuditLogging: true,
          enableRateLimitResponseHeaders: body.enable_rate_limit_response_headers ?? c.enableRateLimitResponseHeaders,
        });
        deps.onChange?.();
        return null;
      },
    },
  ];
}
