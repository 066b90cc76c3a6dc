/**
 * Keyward's audit-log API (sudo): search the stored entries (newest first), verify the live chain,
 * fetch the checkpoint public key (JWK, read access: it is public), and page through the chain in
 * order for `keyward audit export`.
 *   GET /v1/sys/audit-log?from=&to=&subject=&path=&operation=&outcome=&limit=&after_seq=&before_seq=
 *   GET /v1/sys/audit-log/verify
 *   GET /v1/sys/audit-log/public-key
 *   GET /v1/sys/audit-log/export?from_seq=&limit=
 */
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import { parseInput, vInt } from '../../schema.js';
import type { RouteSpec } from '../../route-spec.js';
import type { AuditRouteDeps } from './audit-deps.js';

/** ISO-8601 or epoch milliseconds. */
function parseTime(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw invalidInput(`${name} must be an ISO-8601 time or epoch milliseconds`);
  return ms;
}

const querySchema = z.object({
  from: z.string().max(64).optional(),
  to: z.string().max(64).optional(),
  subject: z.string().max(512).optional(),
  path: z.string().max(1024).optional(),
  operation: z.string().max(128).optional(),
  outcome: z.enum(['success', 'denied', 'error', 'unauthenticated']).optional(),
  limit: vInt.optional(),
  after_seq: vInt.optional(),
  before_seq: vInt.optional(),
});

const exportSchema = z.object({ from_seq: vInt.optional(), limit: vInt.optional() });

export function auditLogRoutes(deps: AuditRouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/sys/audit-log',
      operation: 'sys.audit-log.search',
      capability: 'sudo',
      handler: async (req) => {
        const q = parseInput(querySchema, req.query);
        const fromMs = parseTime(q.from, 'from');
        const toMs = parseTime(q.to, 'to');
        const entries = await deps.audit.query({
          ...(fromMs !== undefined ? { fromMs } : {}),
          ...(toMs !== undefined ? { toMs } : {}),
          ...(q.subject !== undefined ? { subject: q.subject } : {}),
          ...(q.path !== undefined ? { path: q.path } : {}),
          ...(q.operation !== undefined ? { operation: q.operation } : {}),
          ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
          ...(q.after_seq !== undefined ? { afterSeq: q.after_seq } : {}),
          ...(q.before_seq !== undefined ? { beforeSeq: q.before_seq } : {}),
          limit: q.limit ?? 100,
        });
        return { data: { entries } };
      },
    },
    {
      method: 'GET',
      path: '/sys/audit-log/verify',
      operation: 'sys.audit-log.verify',
      capability: 'sudo',
      handler: async () => ({ data: await deps.audit.verify() }),
    },
    {
      method: 'GET',
      path: '/sys/audit-log/public-key',
      operation: 'sys.audit-log.public-key',
      handler: async () => {
        const jwk = deps.audit.publicKey();
        return { data: { keys: [jwk] } };
      },
    },
    {
      method: 'GET',
      path: '/sys/audit-log/export',
      operation: 'sys.audit-log.export',
      capability: 'sudo',
      handler: async (req) => {
        const q = parseInput(exportSchema, req.query);
        return { data: await deps.audit.exportPage(q.from_seq ?? 0, q.limit ?? 1000) };
      },
    },
  ];
}
