/**
 * Vault-compatible JWT/OIDC auth endpoints below /v1/auth/jwt/: `config`, `role/:name`, `role`
 * (LIST) and `login` (no token needed). Handlers decode Vault's fields, call JwtAuthService and
 * encode Vault's responses; the presented JWT is never echoed or audited in clear.
 */
import type { Request } from 'express';
import { z } from 'zod';
import type { JwtAuthService } from '../../../auth/jwt-method/jwt-auth-service.js';
import type { JwtRole } from '../../../auth/jwt-method/jwt-config.js';
import { notFound } from '../../../core/errors.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration } from '../../schema.js';
import { auditedLogin, authBlock, vStringList } from './common.js';

export interface JwtAuthRouteDeps {
  readonly jwtAuth: JwtAuthService;
}

const configBody = z.object({
  oidc_discovery_url: z.string().optional(),
  jwks_url: z.string().optional(),
  jwt_validation_pubkeys: vStringList.optional(),
  bound_issuer: z.string().optional(),
  jwt_supported_algs: vStringList.optional(),
  default_role: z.string().optional(),
});

const roleBody = z.object({
  role_type: z.string().optional(),
  bound_audiences: vStringList.optional(),
  bound_subject: z.string().optional(),
  bound_claims: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  bound_claims_type: z.string().optional(),
  user_claim: z.string().optional(),
  groups_claim: z.string().optional(),
  claim_mappings: z.record(z.string(), z.string()).optional(),
  token_policies: vStringList.optional(),
  policies: vStringList.optional(),
  token_no_default_policy: vBool.optional(),
  token_ttl: vDuration.optional(),
  token_max_ttl: vDuration.optional(),
  clock_skew_leeway: vDuration.optional(),
});

const loginBody = z.object({ role: z.string().optional(), jwt: z.string().min(1) });

const nameOf = (req: Request): string => String(req.params['name'] ?? '');

function roleData(r: JwtRole): Record<string, unknown> {
  return { ...r, policies: [...r.token_policies], expiration_leeway: r.clock_skew_leeway, not_before_leeway: r.clock_skew_leeway };
}

const WRITE = ['POST', 'PUT'] as const;

export function jwtAuthRoutes(deps: JwtAuthRouteDeps): RouteSpec[] {
  const svc = deps.jwtAuth;
  return [
    {
      method: WRITE,
      path: '/auth/jwt/config',
      operation: 'auth.jwt.config.write',
      handler: async (req, ctx) => {
        await svc.writeConfig(ctx.env, parseInput(configBody, req.body));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/auth/jwt/config',
      operation: 'auth.jwt.config.read',
      handler: async (_req, ctx) => {
        const c = await svc.readConfig(ctx.env);
        if (!c) throw notFound('');
        return { data: { ...c } };
      },
    },
    {
      method: 'LIST',
      path: '/auth/jwt/role',
      operation: 'auth.jwt.role.list',
      handler: async (_req, ctx) => ({ data: { keys: await svc.listRoles(ctx.env) } }),
    },
    {
      method: WRITE,
      path: '/auth/jwt/role/:name',
      operation: 'auth.jwt.role.write',
      handler: async (req, ctx) => {
        const b = parseInput(roleBody, req.body);
        const { policies, ...rest } = b;
        await svc.writeRole(ctx.env, nameOf(req), { ...rest, token_policies: b.token_policies ?? policies });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/auth/jwt/role/:name',
      operation: 'auth.jwt.role.read',
      handler: async (req, ctx) => {
        const role = await svc.readRole(ctx.env, nameOf(req));
        if (!role) throw notFound('');
        return { data: roleData(role) };
      },
    },
    {
      method: 'DELETE',
      path: '/auth/jwt/role/:name',
      operation: 'auth.jwt.role.delete',
      handler: async (req, ctx) => {
        await svc.deleteRole(ctx.env, nameOf(req));
        return { status: 204 };
      },
    },
    {
      method: WRITE,
      path: '/auth/jwt/login',
      auth: 'none',
      operation: 'auth.jwt.login',
      handler: async (req, ctx) => {
        const b = parseInput(loginBody, req.body);
        if (b.role !== undefined) ctx.audit.details['role'] = b.role;
        const r = await auditedLogin(ctx, () => svc.login(ctx.env, { role: b.role, jwt: b.jwt }));
        return { auth: authBlock(r.token, r.policies, r.metadata, r.entityId) };
      },
    },
  ];
}
