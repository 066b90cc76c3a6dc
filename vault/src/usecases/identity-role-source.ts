/**
 * The RoleSource the access review and policy lint read: every AppRole and JWT role of an
 * environment with the policies its tokens receive and its TTL bounds (0 = unbounded, as
 * lintPolicies reads it).
 */
import type { IdentityStore } from '../core/ports/identity-store.js';
import type { Environment } from '../core/types.js';
import type { RoleInfo, RoleSource } from './role-source.js';

type RoleStore = Pick<IdentityStore, 'listAppRoles' | 'getAppRole' | 'listJwtRoles' | 'getJwtRole'>;

const numberField = (doc: Readonly<Record<string, unknown>>, field: string): number => {
  const v = doc[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
};

const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function makeIdentityRoleSource(store: RoleStore): RoleSource {
  return {
    async listRoles(env: Environment): Promise<RoleInfo[]> {
      const roles: RoleInfo[] = [];
      for (const name of await store.listAppRoles(env)) {
        const r = await store.getAppRole(env, name);
        if (!r) continue;
        roles.push({
          kind: 'approle',
          name,
          policies: r.tokenNoDefaultPolicy ? [...r.tokenPolicies] : [...r.tokenPolicies, 'default'],
          tokenTtl: r.tokenTtlSeconds,
          tokenMaxTtl: r.tokenMaxTtlSeconds,
          secretIdTtl: r.secretIdTtlSeconds,
        });
      }
      for (const name of await store.listJwtRoles(env)) {
        const r = await store.getJwtRole(env, name);
        if (!r) continue;
        roles.push({
          kind: 'jwt',
          name,
          policies: [...stringList(r.doc['token_policies']), ...(r.doc['token_no_default_policy'] === true ? [] : ['default'])],
          tokenTtl: numberField(r.doc, 'token_ttl'),
          tokenMaxTtl: numberField(r.doc, 'token_max_ttl'),
        });
      }
      return roles;
    },
  };
}
