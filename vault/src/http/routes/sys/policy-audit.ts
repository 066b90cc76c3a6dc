/**
 * What a policy change adds to its audit entry: name, new version and a one-line-per-path diff summary;
 * plus the pieces both policy APIs (`sys/policies/acl` and the older `sys/policy`) share: the name
 * from the path and the audited DELETE handler.
 */
import type { PolicyAdmin, PolicyChange } from '../../../usecases/policy-admin.js';
import type { RequestContext, RouteSpec } from '../../route-spec.js';

const MAX_SUMMARY_LINES = 50;

export function auditPolicyChange(ctx: RequestContext, action: 'write' | 'delete', name: string, change: PolicyChange | null): void {
  ctx.audit.details['policy'] = name;
  ctx.audit.details['policy_action'] = action;
  if (change === null) return;
  ctx.audit.details['policy_version'] = change.version;
  ctx.audit.details['policy_diff'] = change.diff.paths
    .slice(0, MAX_SUMMARY_LINES)
    .map((p) => `${p.change === 'added' ? '+' : p.change === 'removed' ? '-' : '~'} ${p.path}${p.capabilities.added.length > 0 ? ` +[${p.capabilities.added.join(',')}]` : ''}${p.capabilities.removed.length > 0 ? ` -[${p.capabilities.removed.join(',')}]` : ''}`);
}

export const authorOf = (ctx: RequestContext): string => ctx.principal?.subject ?? 'unknown';

export const nameOf = (params: Record<string, unknown>): string => String(params['name'] ?? '');

/** DELETE of a policy by name (either API): removed as the caller, the change annotated; 204. */
export function deletePolicyHandler(admin: Pick<PolicyAdmin, 'remove'>): RouteSpec['handler'] {
  return async (req, ctx) => {
    const name = nameOf(req.params);
    auditPolicyChange(ctx, 'delete', name, await admin.remove(ctx.env, name, authorOf(ctx)));
    return { status: 204 };
  };
}
