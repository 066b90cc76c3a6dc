/**
 * Vault-compatible AppRole endpoints below /v1/auth/approle/: roles, role IDs, secret IDs (by value
 * and by accessor) and `login` (no token needed). Each handler decodes Vault's fields, calls
 * AppRoleService, encodes Vault's response. A secret ID appears in exactly one response: the one
 * that generated it.
 */
import type { Request } from 'express';
import { z } from 'zod';
import type { AppRoleService } from '../../../auth/approle/approle-service.js';
import type { AppRoleRecord, SecretIdRecord } from '../../../core/ports/identity-store.js';
import { invalidInput, notFound } from '../../../core/errors.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration, vInt } from '../../schema.js';
import { VAULT_ZERO_TIME, auditedLogin, authBlock, vStringList } from './common.js';

export interface ApproleRouteDeps {
  readonly approle: AppRoleService;
}

const roleBody = z.object({
  role_id: z.string().optional(),
  bind_secret_id: vBool.optional(),
  secret_id_bound_cidrs: vStringList.optional(),
  bound_cidr_list: vStringList.optional(), // deprecated Vault alias
  secret_id_num_uses: vInt.optional(),
  secret_id_ttl: vDuration.optional(),
  token_ttl: vDuration.optional(),
  token_max_ttl: vDuration.optional(),
  token_policies: vStringList.optional(),
  policies: vStringList.optional(), // deprecated Vault alias
  token_bound_cidrs: vStringList.optional(),
  token_no_default_policy: vBool.optional(),
  token_num_uses: vInt.optional(),
  token_type: z.enum(['service', 'default']).optional(),
  token_period: vDuration.optional(),
  period: vDuration.optional(),
  token_explicit_max_ttl: vDuration.optional(),
  local_secret_ids: vBool.optional(),
});

const secretIdBody = z.object({
  metadata: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
  cidr_list: vStringList.optional(),
  token_bound_cidrs: vStringList.optional(),
  num_uses: vInt.optional(),
  ttl: vDuration.optional(),
});

const secretIdValue = z.object({ secret_id: z.string().min(1) });
const accessorValue = z.object({ secret_id_accessor: z.string().min(1) });
const roleIdValue = z.object({ role_id: z.string().min(1) });
const loginBody = z.object({ role_id: z.string().optional(), secret_id: z.string().optional() });

const nameOf = (req: Request): string => String(req.params['name'] ?? '');

function roleData(r: AppRoleRecord): Record<string, unknown> {
  return {
    bind_secret_id: r.bindSecretId,
    local_secret_ids: false,
    secret_id_bound_cidrs: [...r.secretIdBoundCidrs],
    secret_id_num_uses: r.secretIdNumUses,
    secret_id_ttl: r.secretIdTtlSeconds,
    token_bound_cidrs: [...r.tokenBoundCidrs],
    token_explicit_max_ttl: 0,
    token_max_ttl: r.tokenMaxTtlSeconds,
    token_no_default_policy: r.tokenNoDefaultPolicy,
    token_num_uses: r.tokenNumUses,
    token_period: 0,
    token_policies: [...r.tokenPolicies],
    policies: [...r.tokenPolicies],
    period: 0,
    token_ttl: r.tokenTtlSeconds,
    token_type: 'default',
  };
}

function secretIdData(s: SecretIdRecord, now: Date): Record<string, unknown> {
  return {
    cidr_list: [...s.cidrs],
    creation_time: s.createdAt.toISOString(),
    expiration_time: s.expiresAt === null ? VAULT_ZERO_TIME : s.expiresAt.toISOString(),
    last_updated_time: s.updatedAt.toISOString(),
    metadata: { ...s.metadata },
    secret_id_accessor: s.accessor,
    secret_id_num_uses: s.usesLeft ?? 0,
    secret_id_ttl: s.expiresAt === null ? 0 : Math.max(0, Math.floor((s.expiresAt.getTime() - now.getTime()) / 1000)),
    token_bound_cidrs: [...s.tokenBoundCidrs],
  };
}

function parseMetadata(raw: string | Record<string, string> | undefined): Record<string, string> | undefined {
  if (raw === undefined || typeof raw !== 'string') return raw;
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidInput('metadata must be a JSON object of strings');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw invalidInput('metadata must be a JSON object of strings');
  }
  return parsed as Record<string, string>;
}

const WRITE = ['POST', 'PUT'] as const;

export function approleRoutes(deps: ApproleRouteDeps): RouteSpec[] {
  const svc = deps.approle;
  return [
    {
      method: 'LIST',
      path: '/auth/approle/role',
      operation: 'auth.approle.role.list',
      handler: async (_req, ctx) => ({ data: { keys: await svc.listRoles(ctx.env) } }),
    },
    {
      method: WRITE,
      path: '/auth/approle/role/:name',
      operation: 'auth.approle.role.write',
      handler: async (req, ctx) => {
        const b = parseInput(roleBody, req.body);
        if ((b.token_period ?? 0) > 0 || (b.period ?? 0) > 0 || (b.token_explicit_max_ttl ?? 0) > 0 || b.local_secret_ids === true) {
          throw invalidInput('periodic tokens, token_explicit_max_ttl and local_secret_ids are not supported');
        }
        const policies = b.token_policies ?? b.policies;
        const secretCidrs = b.secret_id_bound_cidrs ?? b.bound_cidr_list;
        await svc.writeRole(ctx.env, nameOf(req), {
          ...(b.role_id !== undefined ? { roleId: b.role_id } : {}),
          ...(b.bind_secret_id !== undefined ? { bindSecretId: b.bind_secret_id } : {}),
          ...(policies !== undefined ? { tokenPolicies: policies } : {}),
          ...(b.token_no_default_policy !== undefined ? { tokenNoDefaultPolicy: b.token_no_default_policy } : {}),
          ...(b.token_ttl !== undefined ? { tokenTtlSeconds: b.token_ttl } : {}),
          ...(b.token_max_ttl !== undefined ? { tokenMaxTtlSeconds: b.token_max_ttl } : {}),
          ...(b.token_num_uses !== undefined ? { tokenNumUses: b.token_num_uses } : {}),
          ...(b.secret_id_ttl !== undefined ? { secretIdTtlSeconds: b.secret_id_ttl } : {}),
          ...(b.secret_id_num_uses !== undefined ? { secretIdNumUses: b.secret_id_num_uses } : {}),
          ...(secretCidrs !== undefined ? { secretIdBoundCidrs: secretCidrs } : {}),
          ...(b.token_bound_cidrs !== undefined ? { tokenBoundCidrs: b.token_bound_cidrs } : {}),
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/auth/approle/role/:name',
      operation: 'auth.approle.role.read',
      handler: async (req, ctx) => {
        const role = await svc.readRole(ctx.env, nameOf(req));
        if (!role) throw notFound('');
        return { data: roleData(role) };
      },
    },
    {
      method: 'DELETE',
      path: '/auth/approle/role/:name',
      operation: 'auth.approle.role.delete',
      handler: async (req, ctx) => {
        const r = await svc.deleteRole(ctx.env, nameOf(req));
        ctx.audit.details['revoked_tokens'] = r.revokedTokens;
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/auth/approle/role/:name/role-id',
      operation: 'auth.approle.role-id.read',
      handler: async (req, ctx) => {
        const roleId = await svc.readRoleId(ctx.env, nameOf(req));
        if (roleId === null) throw notFound('');
        return { data: { role_id: roleId } };
      },
    },
    {
      method: WRITE,
      path: '/auth/approle/role/:name/role-id',
      operation: 'auth.approle.role-id.write',
      handler: async (req, ctx) => {
        await svc.writeRoleId(ctx.env, nameOf(req), parseInput(roleIdValue, req.body).role_id);
        return { status: 204 };
      },
    },
    {
      method: WRITE,
      path: '/auth/approle/role/:name/secret-id',
      operation: 'auth.approle.secret-id.generate',
      handler: async (req, ctx) => {
        const b = parseInput(secretIdBody, req.body);
        const metadata = parseMetadata(b.metadata);
        const g = await svc.generateSecretId(ctx.env, nameOf(req), {
          ...(metadata !== undefined ? { metadata } : {}),
          ...(b.cidr_list !== undefined ? { cidrList: b.cidr_list } : {}),
          ...(b.token_bound_cidrs !== undefined ? { tokenBoundCidrs: b.token_bound_cidrs } : {}),
          ...(b.num_uses !== undefined ? { numUses: b.num_uses } : {}),
          ...(b.ttl !== undefined ? { ttlSeconds: b.ttl } : {}),
        });
        ctx.audit.details['secret_id_accessor'] = g.accessor;
        return { data: { secret_id: g.secretId, secret_id_accessor: g.accessor, secret_id_ttl: g.ttlSeconds, secret_id_num_uses: g.numUses } };
      },
    },
    {
      method: 'LIST',
      path: '/auth/approle/role/:name/secret-id',
      operation: 'auth.approle.secret-id.list',
      handler: async (req, ctx) => ({ data: { keys: await svc.listSecretIdAccessors(ctx.env, nameOf(req)) } }),
    },
    {
      method: WRITE,
      path: '/auth/approle/role/:name/secret-id/lookup',
      operation: 'auth.approle.secret-id.lookup',
      handler: async (req, ctx) => {
        const record = await svc.lookupSecretId(ctx.env, nameOf(req), parseInput(secretIdValue, req.body).secret_id);
        // Vault answers an unknown secret ID here with an empty 204.
        return record ? { data: secretIdData(record, svc.now()) } : { status: 204 };
      },
    },
    {
      method: [...WRITE, 'DELETE'],
      path: '/auth/approle/role/:name/secret-id/destroy',
      operation: 'auth.approle.secret-id.destroy',
      handler: async (req, ctx) => {
        await svc.destroySecretId(ctx.env, nameOf(req), parseInput(secretIdValue, req.body).secret_id);
        return { status: 204 };
      },
    },
    {
      method: WRITE,
      path: '/auth/approle/role/:name/secret-id-accessor/lookup',
      operation: 'auth.approle.secret-id-accessor.lookup',
      handler: async (req, ctx) => {
        const accessor = parseInput(accessorValue, req.body).secret_id_accessor;
        const record = await svc.lookupAccessor(ctx.env, nameOf(req), accessor);
        if (!record) throw notFound('failed to find accessor entry for secret_id_accessor');
        return { data: secretIdData(record, svc.now()) };
      },
    },
    {
      method: [...WRITE, 'DELETE'],
      path: '/auth/approle/role/:name/secret-id-accessor/destroy',
      operation: 'auth.approle.secret-id-accessor.destroy',
      handler: async (req, ctx) => {
        const accessor = parseInput(accessorValue, req.body).secret_id_accessor;
        await svc.destroyAccessor(ctx.env, nameOf(req), accessor);
        return { status: 204 };
      },
    },
    {
      method: WRITE,
      path: '/auth/approle/login',
      auth: 'none',
      operation: 'auth.approle.login',
      handler: async (req, ctx) => {
        const b = parseInput(loginBody, req.body);
        if (b.role_id !== undefined) ctx.audit.sensitive['role_id'] = b.role_id;
        const r = await auditedLogin(ctx, () => svc.login(ctx.env, { roleId: b.role_id, secretId: b.secret_id }, ctx.sourceAddress));
        return { auth: authBlock(r.token, r.policies, r.metadata, r.entityId) };
      },
    },
  ];
}
