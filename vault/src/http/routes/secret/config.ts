/** `secret/config`: the engine-wide max_versions, cas_required and delete_version_after (GET, POST|PUT → 204). */
import { z } from 'zod';
import type { ReadKvConfig, WriteKvConfig } from '../../../usecases/kv/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration, vInt } from '../../schema.js';
import { goDuration } from './common.js';

const body = z.object({ max_versions: vInt.optional(), cas_required: vBool.optional(), delete_version_after: vDuration.optional() });

export function configRoutes(deps: { readKvConfig: ReadKvConfig; writeKvConfig: WriteKvConfig }): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/secret/config',
      operation: 'secret.config.read',
      handler: async (_req, ctx) => {
        const c = await deps.readKvConfig({ env: ctx.env });
        return { data: { cas_required: c.casRequired, delete_version_after: goDuration(c.deleteVersionAfterSeconds), max_versions: c.maxVersions } };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/secret/config',
      operation: 'secret.config.write',
      handler: async (req, ctx) => {
        const b = parseInput(body, req.body);
        await deps.writeKvConfig({
          env: ctx.env,
          ...(b.max_versions !== undefined ? { maxVersions: b.max_versions } : {}),
          ...(b.cas_required !== undefined ? { casRequired: b.cas_required } : {}),
          ...(b.delete_version_after !== undefined ? { deleteVersionAfterSeconds: b.delete_version_after } : {}),
        });
        return { status: 204 };
      },
    },
  ];
}
