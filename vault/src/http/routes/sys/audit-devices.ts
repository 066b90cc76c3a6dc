/**
 * Vault's audit device API: GET /v1/sys/audit (list), POST|PUT /v1/sys/audit/:path (enable),
 * DELETE /v1/sys/audit/:path (disable). Like Vault these are root-protected: they need `sudo`.
 */
import { z } from 'zod';
import { parseInput, vBool } from '../../schema.js';
import type { RouteSpec } from '../../route-spec.js';
import type { AuditRouteDeps } from './audit-deps.js';

const optionValue = z.union([z.string().max(4096), z.number(), z.boolean()]).transform((v) => String(v));

const enableSchema = z.object({
  type: z.enum(['file', 'socket', 'webhook']),
  description: z.string().max(1024).optional(),
  options: z.record(z.string().max(64), optionValue).optional(),
  local: vBool.optional(),
});

export function auditDeviceRoutes(deps: AuditRouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/sys/audit',
      operation: 'sys.audit.list',
      capability: 'sudo',
      handler: async () => ({ data: await deps.audit.listDevices() }),
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/audit/:path',
      operation: 'sys.audit.enable',
      capability: 'sudo',
      handler: async (req, ctx) => {
        const body = parseInput(enableSchema, req.body);
        const path = String(req.params['path']);
        ctx.audit.details['device_path'] = path;
        ctx.audit.details['device_type'] = body.type;
        await deps.audit.enableDevice(path, {
          type: body.type,
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.options !== undefined ? { options: body.options } : {}),
          ...(body.local !== undefined ? { local: body.local } : {}),
        });
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/sys/audit/:path',
      operation: 'sys.audit.disable',
      capability: 'sudo',
      handler: async (req, ctx) => {
        const path = String(req.params['path']);
        ctx.audit.details['device_path'] = path;
        await deps.audit.disableDevice(path);
        return { status: 204 };
      },
    },
  ];
}
