/**
 * Vault's token auth method: create (child of the caller; orphans need `sudo`), lookup-self,
 * lookup, lookup-accessor, revoke, revoke-self, revoke-accessor, renew-self; and Keyward's
 * revoke-subject / revoke-role (sudo) for revoking an identity or a role at once.
 *
 * Invariants: a child never exceeds its parent (TokenService enforces policies ⊆ parent and TTL ≤
 * parent's remaining life); an orphan made by a non-root caller is held to the same policy subset
 * here. Tokens and accessors are honoured only in the request's environment: one from another
 * environment is treated as unknown. Presented tokens are never echoed (only lookup-self's `id`).
 */
import { z } from 'zod';
import type { TokenService } from '../../../auth/token-service.js';
import { invalidInput, isKeywardError, notFound, permissionDenied } from '../../../core/errors.js';
import type { TokenRecord } from '../../../core/ports/token-store.js';
import { extractToken } from '../../app.js';
import type { RequestContext, RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration, vInt } from '../../schema.js';
import { authBlock, tokenLookupData } from './token-view.js';

export interface TokenRouteDeps {
  readonly tokens: Pick<TokenService, 'issue' | 'verify' | 'lookup' | 'lookupAccessor' | 'revokeTree' | 'revokeSubject' | 'revokeRole'>;
  readonly clock?: { now(): Date };
}

const policyList = z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p !== ''))]);
const createBody = z.object({
  policies: policyList.optional(),
  ttl: vDuration.optional(),
  explicit_max_ttl: vDuration.optional(),
  no_parent: vBool.optional(),
  no_default_policy: vBool.optional(),
  meta: z.record(z.string(), z.string()).optional(),
  display_name: z.string().max(100).optional(),
  num_uses: vInt.optional(),
  renewable: vBool.optional(),
  type: z.enum(['service', 'default']).optional(),
});
const tokenBody = z.object({ token: z.string().min(1).max(16_384) });
const accessorBody = z.object({ accessor: z.string().min(1).max(256) });

export function tokenRoutes(deps: TokenRouteDeps): RouteSpec[] {
  const now = (): Date => deps.clock?.now() ?? new Date();
  const inEnv = (r: TokenRecord | null, ctx: RequestContext): r is TokenRecord =>
    r !== null && r.revokedAt === null && r.expiresAt.getTime() > now().getTime() && (r.env === ctx.env || r.env === '*');
  const byAccessor = async (raw: unknown, ctx: RequestContext): Promise<TokenRecord> => {
    const record = await deps.tokens.lookupAccessor(parseInput(accessorBody, raw).accessor);
    if (!inEnv(record, ctx)) throw invalidInput('invalid accessor');
    return record;
  };
  const create = (forceOrphan: boolean): RouteSpec['handler'] => async (req, ctx) => {
    const caller = ctx.principal;
    if (caller === null) throw permissionDenied();
    const body = parseInput(createBody, req.body);
    const orphan = forceOrphan || body.no_parent === true;
    if (orphan && !ctx.can('sudo')) throw permissionDenied();
    const requested = (body.policies ?? caller.policies).filter((p) => p !== 'default');
    if (orphan && !caller.isRoot && !requested.every((p) => caller.policies.includes(p))) throw permissionDenied();
    const ttls = [body.ttl, body.explicit_max_ttl].filter((t): t is number => t !== undefined && t > 0);
    const meta = body.meta ?? {};
    const issued = await deps.tokens.issue({
      subject: body.display_name ? `token-${body.display_name}` : caller.subject,
      authMethod: 'token',
      policies: requested,
      env: ctx.env,
      meta,
      ...(ttls.length > 0 ? { ttlSeconds: Math.min(...ttls) } : {}),
      ...(orphan ? {} : { parent: caller }),
      ...(body.num_uses === undefined ? {} : { numUses: body.num_uses }),
    });
    ctx.audit.details['created_accessor'] = issued.accessor;
    const warnings = body.no_default_policy === true ? ['no_default_policy is not supported: every Keyward token carries the default policy'] : [];
    return { auth: authBlock(issued, meta, orphan), ...(warnings.length > 0 ? { warnings } : {}) };
  };
  const lookupSelf: RouteSpec['handler'] = async (req, ctx) => {
    const record = await deps.tokens.lookup(ctx.principal?.jti ?? '');
    if (record === null) throw permissionDenied();
    return { data: tokenLookupData(record, extractToken(req) ?? '', now()) };
  };
  const post = (path: string, operation: string, handler: RouteSpec['handler']): RouteSpec => ({ method: ['POST', 'PUT'], path, operation, handler });
  const sudoPost = (path: string, operation: string, handler: RouteSpec['handler']): RouteSpec => ({ ...post(path, operation, handler), capability: 'sudo' });

  return [
    post('/auth/token/create', 'auth.token.create', create(false)),
    post('/auth/token/create-orphan', 'auth.token.create_orphan', create(true)),
    { method: ['GET', 'POST'], path: '/auth/token/lookup-self', operation: 'auth.token.lookup_self', capability: 'read', handler: lookupSelf },
    post('/auth/token/lookup', 'auth.token.lookup', async (req, ctx) => {
      const { token } = parseInput(tokenBody, req.body);
      ctx.audit.sensitive['token'] = token;
      const p = await deps.tokens.verify(token, { env: ctx.env, consumeUse: false });
      const record = await deps.tokens.lookup(p.jti);
      if (record === null) throw permissionDenied();
      return { data: tokenLookupData(record, '', now()) };
    }),
    post('/auth/token/lookup-accessor', 'auth.token.lookup_accessor', async (req, ctx) => ({ data: tokenLookupData(await byAccessor(req.body, ctx), '', now()) })),
    post('/auth/token/revoke', 'auth.token.revoke', async (req, ctx) => {
      const { token } = parseInput(tokenBody, req.body);
      ctx.audit.sensitive['token'] = token;
      try {
        const p = await deps.tokens.verify(token, { env: ctx.env, consumeUse: false });
        ctx.audit.details['revoked'] = await deps.tokens.revokeTree(p.jti, 'auth/token/revoke');
      } catch (e) {
        // Unknown, expired, revoked or another environment's token: nothing to revoke here (no oracle).
        if (!(isKeywardError(e) && e.code === 'ERR_PERMISSION_DENIED')) throw e;
      }
      return { status: 204 };
    }),
    post('/auth/token/revoke-self', 'auth.token.revoke_self', async (_req, ctx) => {
      ctx.audit.details['revoked'] = await deps.tokens.revokeTree(ctx.principal?.jti ?? '', 'auth/token/revoke-self');
      return { status: 204 };
    }),
    post('/auth/token/revoke-accessor', 'auth.token.revoke_accessor', async (req, ctx) => {
      const record = await byAccessor(req.body, ctx);
      ctx.audit.details['revoked'] = await deps.tokens.revokeTree(record.jti, 'auth/token/revoke-accessor');
      return { status: 204 };
    }),
    // Keyward: revoke every token of an identity or of a role in this environment (sudo), e.g. when a
    // person leaves or a role's credentials are suspected (Vault reaches this through lease prefixes).
    sudoPost('/auth/token/revoke-subject', 'auth.token.revoke_subject', async (req, ctx) => {
      const { subject } = parseInput(z.object({ subject: z.string().min(1).max(256) }), req.body);
      ctx.audit.details['revoked'] = await deps.tokens.revokeSubject(subject, 'auth/token/revoke-subject', ctx.env);
      return { data: { revoked: ctx.audit.details['revoked'] } };
    }),
    sudoPost('/auth/token/revoke-role', 'auth.token.revoke_role', async (req, ctx) => {
      const b = parseInput(z.object({ auth_method: z.string().min(1).max(64), role: z.string().min(1).max(128) }), req.body);
      ctx.audit.details['revoked'] = await deps.tokens.revokeRole(b.auth_method, b.role, 'auth/token/revoke-role', ctx.env);
      return { data: { revoked: ctx.audit.details['revoked'] } };
    }),
    post('/auth/token/renew-self', 'auth.token.renew_self', async (_req, ctx) => {
      if (ctx.principal === null) throw notFound();
      // JWTs carry their expiry; like a Vault token created non-renewable, they cannot be renewed.
      throw invalidInput('token is not renewable');
    }),
  ];
}
