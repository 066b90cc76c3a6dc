/**
 * `sys/policies/acl` (Vault's current policy API) plus Keyward's `…/:name/history` and
 * `…/:name/diff?from=N&to=M`; the older `sys/policy` API and `sys/policies/lint` come from their own
 * files and are included in `policyRoutes`. Every change annotates the audit entry (name, version,
 * diff summary); the pipeline writes it.
 */
import { z } from 'zod';
import { notFound } from '../../../core/errors.js';
import type { PolicyAdmin } from '../../../usecases/policy-admin.js';
import type { RoleSource } from '../../../usecases/role-source.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vInt } from '../../schema.js';
import { legacyPolicyRoutes } from './policies-legacy.js';
import { policyLintRoutes } from './policies-lint.js';
import { auditPolicyChange, authorOf, deletePolicyHandler, nameOf } from './policy-audit.js';

export interface PolicyRouteDeps {
  readonly admin: PolicyAdmin;
  /** For `GET sys/policies/lint` (unused-policy and TTL findings need the roles). */
  readonly roles: RoleSource;
}

const writeBody = z.object({ policy: z.string() });
const diffQuery = z.object({ from: vInt.pipe(z.number().min(0)), to: vInt.pipe(z.number().min(0)) });

export function aclPolicyRoutes(deps: Pick<PolicyRouteDeps, 'admin'>): RouteSpec[] {
  const write: RouteSpec['handler'] = async (req, ctx) => {
    const name = nameOf(req.params);
    const body = parseInput(writeBody, req.body);
    auditPolicyChange(ctx, 'write', name, await deps.admin.write(ctx.env, name, body.policy, authorOf(ctx)));
    return { status: 204 };
  };
  return [
    {
      method: 'LIST',
      path: '/sys/policies/acl',
      operation: 'sys.policies.list',
      handler: async (_req, ctx) => ({ data: { keys: await deps.admin.list(ctx.env) } }),
    },
    {
      method: 'GET',
      path: '/sys/policies/acl/:name',
      operation: 'sys.policies.read',
      handler: async (req, ctx) => {
        const view = await deps.admin.read(ctx.env, nameOf(req.params));
        if (view === null) throw notFound(''); // Vault: 404 with an empty errors list
        return { data: { name: view.name, policy: view.text } };
      },
    },
    { method: ['POST', 'PUT'], path: '/sys/policies/acl/:name', operation: 'sys.policies.write', handler: write },
    { method: 'DELETE', path: '/sys/policies/acl/:name', operation: 'sys.policies.delete', handler: deletePolicyHandler(deps.admin) },
    {
      method: 'GET',
      path: '/sys/policies/acl/:name/history',
      operation: 'sys.policies.history',
      handler: async (req, ctx) => {
        const versions = await deps.admin.history(ctx.env, nameOf(req.params));
        return {
          data: {
            name: nameOf(req.params).toLowerCase(),
            current_version: versions.at(-1)?.version ?? 0,
            versions: versions.map((v) => ({ version: v.version, created_time: v.createdAt?.toISOString() ?? null, author: v.author, deleted: v.deleted })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/sys/policies/acl/:name/diff',
      operation: 'sys.policies.diff',
      handler: async (req, ctx) => {
        const q = parseInput(diffQuery, req.query);
        return { data: { from: q.from, to: q.to, ...(await deps.admin.diff(ctx.env, nameOf(req.params), q.from, q.to)) } };
      },
    },
  ];
}

export function policyRoutes(deps: PolicyRouteDeps): RouteSpec[] {
  return [...aclPolicyRoutes(deps), ...legacyPolicyRoutes(deps), ...policyLintRoutes(deps)];
}
