/**
 * Vault's token views: the `data` of auth/token/lookup* and the `auth` block of auth/token/create,
 * from a TokenRecord. Keyward tokens are JWTs: never renewable, always `service` tokens; every
 * non-root token carries `default` (attached at evaluation, usecases/authorize.ts), so it is listed.
 * `id` is the token itself only when the caller presented it (lookup-self); otherwise ''.
 */
import type { IssuedToken } from '../../../auth/token-service.js';
import type { TokenRecord } from '../../../core/ports/token-store.js';
import type { AuthBlock } from '../../route-spec.js';

const ROOT = 'root';
const secs = (ms: number): number => Math.floor(ms / 1000);

export function displayPolicies(policies: readonly string[]): string[] {
  return policies.includes(ROOT) ? [ROOT] : [...new Set([...policies, 'default'])].sort();
}

export function tokenLookupData(record: TokenRecord, id: string, now: Date): Record<string, unknown> {
  const meta = Object.keys(record.meta).length > 0 ? { ...record.meta } : null;
  return {
    accessor: record.accessor,
    creation_time: secs(record.issuedAt.getTime()),
    creation_ttl: secs(record.expiresAt.getTime() - record.issuedAt.getTime()),
    display_name: record.subject,
    entity_id: '',
    expire_time: record.expiresAt.toISOString(),
    explicit_max_ttl: 0,
    id,
    issue_time: record.issuedAt.toISOString(),
    meta,
    num_uses: record.numUses ?? 0,
    orphan: record.parentJti === null,
    path: record.authMethod === 'token' ? 'auth/token/create' : `auth/${record.authMethod}/login`,
    policies: displayPolicies(record.policies),
    renewable: false,
    ttl: Math.max(0, secs(record.expiresAt.getTime() - now.getTime())),
    type: 'service',
  };
}

export function authBlock(issued: IssuedToken, meta: Record<string, string>, orphan: boolean): AuthBlock {
  const policies = displayPolicies(issued.policies);
  return {
    client_token: issued.token,
    accessor: issued.accessor,
    policies,
    token_policies: policies,
    metadata: Object.keys(meta).length > 0 ? meta : null,
    lease_duration: issued.ttlSeconds,
    renewable: false,
    entity_id: '',
    token_type: 'service',
    orphan,
  };
}
