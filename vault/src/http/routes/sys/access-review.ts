/**
 * Keyward's `GET sys/access-review?path=P&format=json|csv[&capability=C][&all=true]`: which roles of
 * this environment can do what on P — or, without `path`, on every transit key endpoint and every KV
 * secret of the environment. Decided by `accessReview`, i.e. by the same ACL matching enforcement
 * uses. By default only granted rows are listed (the question is "who can"); `all=true` adds denials.
 * CSV is RFC 4180 with spreadsheet-formula neutralising (authz/access-review.ts).
 */
import { z } from 'zod';
import { accessReview, type AccessReviewRow, toCsv } from '../../../authz/access-review.js';
import { type OperationCapability, OPERATION_CAPABILITIES } from '../../../authz/capability.js';
import { DEFAULT_POLICY_NAME } from '../../../authz/policy.js';
import type { Environment } from '../../../core/types.js';
import type { PolicyAdmin } from '../../../usecases/policy-admin.js';
import type { RoleSource } from '../../../usecases/role-source.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool } from '../../schema.js';

export interface AccessReviewRouteDeps {
  readonly admin: Pick<PolicyAdmin, 'loadAll'>;
  readonly roles: RoleSource;
  readonly listKeys: (env: Environment) => Promise<readonly string[]>;
  readonly listSecretPaths: (env: Environment) => Promise<readonly string[]>;
}

const query = z.object({
  path: z.string().min(1).max(1024).optional(),
  format: z.enum(['json', 'csv']).default('json'),
  capability: z.enum(OPERATION_CAPABILITIES as [OperationCapability, ...OperationCapability[]]).optional(),
  all: vBool.optional(),
});

/** Every ACL path a transit key is used through. */
export const transitKeyPaths = (key: string): string[] =>
  ['encrypt', 'decrypt', 'rewrap', 'datakey/plaintext', 'datakey/wrapped', 'keys'].map((op) => `transit/${op}/${key}`);

const toJson = (r: AccessReviewRow): Record<string, unknown> => ({
  kind: r.kind,
  role: r.role,
  path: r.path,
  capability: r.capability,
  allowed: r.allowed,
  granting_policies: r.grantingPolicies,
  matched_pattern: r.matchedPattern,
  parameter_constraints: r.parameterConstraints,
  mfa_methods: r.mfaMethods,
  missing_policies: r.missingPolicies,
});

export function accessReviewRoutes(deps: AccessReviewRouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/sys/access-review',
      operation: 'sys.access_review',
      handler: async (req, ctx) => {
        const q = parseInput(query, req.query);
        const paths =
          q.path !== undefined
            ? [q.path.replace(/^\/+/, '')]
            : [...(await deps.listKeys(ctx.env)).flatMap(transitKeyPaths), ...(await deps.listSecretPaths(ctx.env)).map((p) => `secret/data/${p}`)];
        const [policies, roles] = await Promise.all([deps.admin.loadAll(ctx.env), deps.roles.listRoles(ctx.env)]);
        const rows = accessReview({
          roles,
          policies,
          paths,
          implicitPolicies: [DEFAULT_POLICY_NAME],
          onlyAllowed: q.all !== true,
          ...(q.capability === undefined ? {} : { capabilities: [q.capability] }),
        });
        if (q.format === 'csv') return { status: 200, raw: { contentType: 'text/csv; charset=utf-8', body: toCsv(rows) } };
        return { data: { environment: ctx.env, paths: paths.length, rows: rows.map(toJson) } };
      },
    },
  ];
}
