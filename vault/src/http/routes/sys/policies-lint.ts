/**
 * Keyward's `GET sys/policies/lint`: `lintPolicies` over the environment's policies and the roles
 * bound in it. Findings come back sorted high → low; `high` counts them so callers (the CLI) can
 * fail a pipeline without re-reading severities.
 */
import { lintPolicies } from '../../../authz/lint.js';
import type { PolicyAdmin } from '../../../usecases/policy-admin.js';
import type { RoleSource } from '../../../usecases/role-source.js';
import type { RouteSpec } from '../../route-spec.js';

export function policyLintRoutes(deps: { readonly admin: PolicyAdmin; readonly roles: RoleSource }): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/sys/policies/lint',
      operation: 'sys.policies.lint',
      handler: async (_req, ctx) => {
        const [policies, roles] = await Promise.all([deps.admin.loadAll(ctx.env), deps.roles.listRoles(ctx.env)]);
        const findings = lintPolicies(
          policies.map((p) => ({ ...p, environment: ctx.env })),
          roles.map((r) => ({ ...r, environment: ctx.env })),
          { environments: [{ name: ctx.env }] },
        );
        return { data: { environment: ctx.env, high: findings.filter((f) => f.severity === 'high').length, findings } };
      },
    },
  ];
}
