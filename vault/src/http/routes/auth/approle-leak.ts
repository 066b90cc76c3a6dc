/**
 * Keyward's `POST /v1/auth/approle/secret-id/revoke-leaked { secret_id }`: destroy a leaked secret ID
 * without knowing its role. The stored keyed hash binds env + role, so each role of the request's
 * environment is tried through AppRoleService.lookupSecretId (HMAC in the HSM, constant-time
 * compare) and the matching one is destroyed by accessor. A malformed secret ID is rejected before
 * any lookup (checksum: secret-id-format.ts). Answers { revoked, role_name?, secret_id_accessor? };
 * the secret ID itself goes only into the audit entry's HMAC-ed `sensitive` map.
 * Authorisation: update on auth/approle/secret-id/revoke-leaked (the pipeline's default).
 */
import { z } from 'zod';
import type { AppRoleService } from '../../../auth/approle/approle-service.js';
import { isValidSecretIdFormat } from '../../../auth/approle/secret-id-format.js';
import { invalidInput } from '../../../core/errors.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput } from '../../schema.js';

export interface ApproleLeakRouteDeps {
  readonly approle: Pick<AppRoleService, 'listRoles' | 'lookupSecretId' | 'destroyAccessor'>;
}

const body = z.object({ secret_id: z.string().min(1).max(256) });

export function approleLeakRoutes(deps: ApproleLeakRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/auth/approle/secret-id/revoke-leaked',
      operation: 'auth.approle.secret-id.revoke-leaked',
      handler: async (req, ctx) => {
        const { secret_id: secretId } = parseInput(body, req.body);
        ctx.audit.sensitive['secret_id'] = secretId;
        if (!isValidSecretIdFormat(secretId)) throw invalidInput('secret_id is not a Keyward secret ID');
        for (const role of await deps.approle.listRoles(ctx.env)) {
          const record = await deps.approle.lookupSecretId(ctx.env, role, secretId);
          if (!record) continue;
          const revoked = await deps.approle.destroyAccessor(ctx.env, role, record.accessor);
          ctx.audit.details['role_name'] = role;
          ctx.audit.details['secret_id_accessor'] = record.accessor;
          return { data: { revoked, role_name: role, secret_id_accessor: record.accessor } };
        }
        return { data: { revoked: false } };
      },
    },
  ];
}
