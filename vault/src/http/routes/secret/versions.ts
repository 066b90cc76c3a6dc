/** `secret/delete/*path`, `secret/undelete/*path`, `secret/destroy/*path`: act on listed versions (`{ versions: [..] }`), 204 on success. */
import { z } from 'zod';
import type { DeleteVersions, DestroyVersions, UndeleteVersions } from '../../../usecases/kv/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput } from '../../schema.js';
import { secretPathOf, vVersions } from './common.js';

const body = z.object({ versions: vVersions.optional() });

export function versionRoutes(deps: { deleteVersions: DeleteVersions; undeleteVersions: UndeleteVersions; destroyVersions: DestroyVersions }): RouteSpec[] {
  const one = (verb: 'delete' | 'undelete' | 'destroy', run: DeleteVersions): RouteSpec => ({
    method: ['POST', 'PUT'],
    path: `/secret/${verb}/*path`,
    operation: `secret.${verb}`,
    handler: async (req, ctx) => {
      const path = secretPathOf(req, ctx);
      const versions = parseInput(body, req.body).versions ?? [];
      ctx.audit.details['secret_versions'] = versions;
      await run({ env: ctx.env, path, versions });
      return { status: 204 };
    },
  });
  return [one('delete', deps.deleteVersions), one('undelete', deps.undeleteVersions), one('destroy', deps.destroyVersions)];
}
