/**
 * The older `sys/policy` API, which Vault keeps and node-vault still calls: `GET sys/policy` lists
 * (`policies` and `keys`), `GET sys/policy/:name` answers `rules`, writes take `policy` or `rules`.
 * Fields are returned at the top level as well as in `data` (vault-compat.ts).
 */
import { z } from 'zod';
import { invalidInput, notFound } from '../../../core/errors.js';
import type { PolicyAdmin } from '../../../usecases/policy-admin.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput } from '../../schema.js';
import { auditPolicyChange, authorOf, deletePolicyHandler, nameOf } from './policy-audit.js';
import { topLevelReply } from './vault-compat.js';

const writeBody = z.object({ policy: z.string().optional(), rules: z.string().optional() });

export function legacyPolicyRoutes(deps: { readonly admin: PolicyAdmin }): RouteSpec[] {
  return [
    {
      method: ['GET', 'LIST'],
      path: '/sys/policy',
      operation: 'sys.policy.list',
      handler: async (_req, ctx) => {
        const names = await deps.admin.list(ctx.env);
        return topLevelReply(ctx, { policies: names, keys: names });
      },
    },
    {
      method: 'GET',
      path: '/sys/policy/:name',
      operation: 'sys.policy.read',
      handler: async (req, ctx) => {
        const view = await deps.admin.read(ctx.env, nameOf(req.params));
        if (view === null) throw notFound(''); // Vault: 404 with an empty errors list
        return topLevelReply(ctx, { name: view.name, rules: view.text });
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/policy/:name',
      operation: 'sys.policy.write',
      handler: async (req, ctx) => {
        const name = nameOf(req.params);
        const body = parseInput(writeBody, req.body);
        const text = body.policy ?? body.rules;
        if (text === undefined) throw invalidInput("missing 'policy' parameter");
        auditPolicyChange(ctx, 'write', name, await deps.admin.write(ctx.env, name, text, authorOf(ctx)));
        return { status: 204 };
      },
    },
    { method: 'DELETE', path: '/sys/policy/:name', operation: 'sys.policy.delete', handler: deletePolicyHandler(deps.admin) },
  ];
}
