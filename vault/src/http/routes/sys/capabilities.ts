/**
 * `sys/capabilities` (a token's capabilities, token in the body), `sys/capabilities-self` (the
 * caller's) and `sys/capabilities-accessor` (by accessor): `{ "<path>": [...], capabilities: [...] }`
 * (the latter only for a single path), top level and in `data`, as Vault answers.
 *
 * Invariants: a token or accessor is honoured only in the request's environment — a dev token asked
 * about from prod is "invalid", never evaluated against prod's policies; answers come from the same
 * compiled ACL enforcement uses (`aclFor`), so they cannot disagree with it.
 */
import { z } from 'zod';
import type { Acl } from '../../../authz/evaluate.js';
import type { Principal } from '../../../auth/principal.js';
import type { TokenService } from '../../../auth/token-service.js';
import { invalidInput, isKeywardError } from '../../../core/errors.js';
import type { Environment } from '../../../core/types.js';
import type { Reply, RequestContext, RouteSpec } from '../../route-spec.js';
import { parseInput } from '../../schema.js';
import { topLevelReply } from './vault-compat.js';

export interface CapabilityRouteDeps {
  readonly tokens: Pick<TokenService, 'verify' | 'lookupAccessor'>;
  readonly acls: { aclFor(policies: readonly string[], env: Environment): Promise<Acl> };
  readonly clock?: { now(): Date };
}

const pathsSchema = {
  paths: z.union([z.array(z.string().max(1024)).max(256), z.string().max(1024)]).optional(),
  path: z.union([z.array(z.string().max(1024)).max(256), z.string().max(1024)]).optional(),
};
const selfBody = z.object(pathsSchema);
const tokenBody = z.object({ token: z.string().min(1).max(16_384), ...pathsSchema });
const accessorBody = z.object({ accessor: z.string().min(1).max(256), ...pathsSchema });

function pathsOf(body: { paths?: string | string[] | undefined; path?: string | string[] | undefined }): string[] {
  const raw = body.paths ?? body.path;
  const list = (typeof raw === 'string' ? raw.split(',') : (raw ?? [])).map((p) => p.trim().replace(/^\/+/, '')).filter((p) => p !== '');
  if (list.length === 0) throw invalidInput("missing 'paths' parameter");
  return [...new Set(list)];
}

async function answer(ctx: RequestContext, deps: CapabilityRouteDeps, policies: readonly string[], paths: string[]): Promise<Reply> {
  const acl = await deps.acls.aclFor(policies, ctx.env);
  const data: Record<string, unknown> = {};
  for (const p of paths) Object.defineProperty(data, p, { value: acl.capabilities(p), enumerable: true, writable: true, configurable: true });
  if (paths.length === 1) data['capabilities'] = data[paths[0] ?? ''];
  return topLevelReply(ctx, data);
}

export function capabilityRoutes(deps: CapabilityRouteDeps): RouteSpec[] {
  const now = (): number => (deps.clock?.now() ?? new Date()).getTime();
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/capabilities-self',
      operation: 'sys.capabilities.self',
      handler: async (req, ctx) => answer(ctx, deps, ctx.principal?.policies ?? [], pathsOf(parseInput(selfBody, req.body))),
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/capabilities',
      operation: 'sys.capabilities',
      handler: async (req, ctx) => {
        const body = parseInput(tokenBody, req.body);
        ctx.audit.sensitive['token'] = body.token;
        let subject: Principal;
        try {
          subject = await deps.tokens.verify(body.token, { env: ctx.env, consumeUse: false });
        } catch (e) {
          if (isKeywardError(e) && e.code === 'ERR_PERMISSION_DENIED') throw invalidInput('invalid token');
          throw e;
        }
        return answer(ctx, deps, subject.policies, pathsOf(body));
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/capabilities-accessor',
      operation: 'sys.capabilities.accessor',
      handler: async (req, ctx) => {
        const body = parseInput(accessorBody, req.body);
        const record = await deps.tokens.lookupAccessor(body.accessor);
        const usable = record !== null && record.revokedAt === null && record.expiresAt.getTime() > now() && (record.env === ctx.env || record.env === '*');
        if (!usable) throw invalidInput('invalid accessor');
        return answer(ctx, deps, record.policies, pathsOf(body));
      },
    },
  ];
}
