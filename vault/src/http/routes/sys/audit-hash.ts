/**
 * POST /v1/sys/audit-hash/:path { input } → { hash: "hmac-sha256:<hex>" } (Vault's API): lets an
 * investigator find a known value in the log. The input itself is audited only as its HMAC.
 */
import { z } from 'zod';
import { parseInput } from '../../schema.js';
import type { RouteSpec } from '../../route-spec.js';
import type { AuditRouteDeps } from './audit-deps.js';

const schema = z.object({ input: z.string().max(1024 * 1024) });

export function auditHashRoutes(deps: AuditRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/audit-hash/:path',
      operation: 'sys.audit-hash',
      capability: 'sudo',
      handler: async (req, ctx) => {
        const { input } = parseInput(schema, req.body);
        ctx.audit.sensitive['input'] = input;
        return { data: { hash: await deps.audit.auditHash(String(req.params['path']), input) } };
      },
    },
  ];
}
