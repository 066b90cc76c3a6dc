/**
 * Keyward's bulk rewrap of stored data (no Vault counterpart), per environment:
 *   POST /v1/sys/rewrap  { key?: '_kv' | '_wrap' (default '_kv'), batch_size?, rotate? }
 *        starts the background job that re-seals every stored value under an older version of the
 *        reserved key to its latest version; idempotent (a running job is returned, not restarted).
 *        `rotate: true` rotates the reserved key first — reserved keys have no transit route, so this
 *        is the only way to rotate them, and it needs sudo on sys/rewrap (plain start needs update).
 *   GET  /v1/sys/rewrap  → { state, key, target_version, total, done, failed, started_at, updated_at,
 *        finished_at, rate_per_second, eta_seconds, error }
 */
import type { Request } from 'express';
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import { internalKeyName, type Environment } from '../../../core/types.js';
import type { RewrapJob, RewrapStatus } from '../../../usecases/rewrap/rewrap-job.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vInt } from '../../schema.js';

export interface RewrapRouteDeps {
  readonly job: RewrapJob;
  readonly runInBackground: (env: Environment) => void;
}

const body = z.object({ key: z.string().max(64).optional(), batch_size: vInt.optional(), rotate: vBool.optional() });

export function rewrapStatusView(s: RewrapStatus): Record<string, unknown> {
  return {
    state: s.state,
    key: s.key,
    target_version: s.targetVersion,
    total: s.total,
    done: s.done,
    failed: s.failed,
    started_at: s.startedAt?.toISOString() ?? null,
    updated_at: s.updatedAt?.toISOString() ?? null,
    finished_at: s.finishedAt?.toISOString() ?? null,
    rate_per_second: s.ratePerSecond,
    eta_seconds: s.etaSeconds,
    error: s.error,
  };
}

/** sudo when the body asks to rotate; the capability is decided before the handler parses the body. */
function capabilityOf(req: Request): 'sudo' | 'update' {
  const b: unknown = req.body;
  const rotate = b && typeof b === 'object' ? (b as { rotate?: unknown }).rotate : undefined;
  return rotate === true || rotate === 'true' || rotate === '1' ? 'sudo' : 'update';
}

export function rewrapRoutes(deps: RewrapRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/rewrap',
      operation: 'sys.rewrap.start',
      capability: capabilityOf,
      handler: async (req, ctx) => {
        const b = parseInput(body, req.body);
        const raw = b.key ?? '_kv';
        if (!raw.startsWith('_')) throw invalidInput('only reserved keys with stored data (`_kv`, `_wrap`) are rewrapped by the server; use `keyward rewrap` for client-held ciphertexts');
        const key = internalKeyName(raw);
        ctx.audit.keyName = key;
        const r = await deps.job.start({ env: ctx.env, key, ...(b.batch_size !== undefined ? { batchSize: b.batch_size } : {}), ...(b.rotate ? { rotate: true } : {}) });
        Object.assign(ctx.audit.details, { started: r.started, target_version: r.job.targetVersion, total: r.job.total, rotate: b.rotate === true });
        ctx.audit.keyVersion = r.job.targetVersion;
        if (r.job.state === 'running') deps.runInBackground(ctx.env);
        return { data: { started: r.started, ...rewrapStatusView(await deps.job.status(ctx.env)) } };
      },
    },
    {
      method: 'GET',
      path: '/sys/rewrap',
      operation: 'sys.rewrap.status',
      handler: async (_req, ctx) => ({ data: rewrapStatusView(await deps.job.status(ctx.env)) }),
    },
  ];
}
