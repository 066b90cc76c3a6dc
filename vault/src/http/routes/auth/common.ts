/**
 * Pieces shared by the login-method routes: Vault's `auth` block for a freshly issued token, lenient
 * list inputs (Vault takes a JSON list or one comma-separated string), and the audit note for a
 * failed login (the reason only — never the credential).
 */
import { z } from 'zod';
import type { IssuedToken } from '../../../auth/token-service.js';
import { loginFailureReason } from '../../../auth/approle/login-failure.js';
import type { AuthBlock, RequestContext } from '../../route-spec.js';

export const vStringList = z.union([z.array(z.string()), z.string()]);

export function authBlock(token: IssuedToken, policies: readonly string[], metadata: Record<string, string>, entityId: string): AuthBlock {
  return {
    client_token: token.token,
    accessor: token.accessor,
    policies: [...policies],
    token_policies: [...policies],
    metadata,
    lease_duration: token.ttlSeconds,
    // Keyward tokens are not renewable: a new login replaces them.
    renewable: false,
    entity_id: entityId,
    token_type: 'service',
    orphan: true,
  };
}

/** Runs a login and records why it failed (fixed, non-secret reason strings) in the audit entry. */
export async function auditedLogin<T>(ctx: RequestContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const reason = loginFailureReason(e);
    if (reason !== undefined) ctx.audit.details['login_failure'] = reason;
    throw e;
  }
}

/** Vault's zero time, shown for "never expires". */
export const VAULT_ZERO_TIME = '0001-01-01T00:00:00Z';
