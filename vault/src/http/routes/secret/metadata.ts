/**
 * `secret/metadata/*path`: GET (metadata + versions), POST|PUT (set max_versions, cas_required,
 * delete_version_after, custom_metadata; creates the metadata), PATCH (merge), DELETE (metadata and
 * every version), LIST (children: `keys: ["a", "b/"]`). `secret/metadata` LIST lists the root.
 */
import { z } from 'zod';
import { parseSecretPath } from '../../../core/types.js';
import type { DeleteMetadataAndAll, ListSecrets, ReadMetadata, WriteMetadata } from '../../../usecases/kv/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration, vInt } from '../../schema.js';
import { metadataData, rawPathOf, secretPathOf } from './common.js';

const writeBody = z.object({
  max_versions: vInt.optional(),
  cas_required: vBool.optional(),
  delete_version_after: vDuration.optional(),
  custom_metadata: z.record(z.string(), z.string()).nullish(),
});

const patchBody = writeBody.extend({ custom_metadata: z.record(z.string(), z.string().nullable()).nullish() });

export function metadataRoutes(deps: { readMetadata: ReadMetadata; writeMetadata: WriteMetadata; deleteMetadataAndAll: DeleteMetadataAndAll; listSecrets: ListSecrets }): RouteSpec[] {
  const list: RouteSpec['handler'] = async (req, ctx) => {
    const raw = rawPathOf(req);
    const folder = raw.replace(/^\/+|\/+$/g, '') === '' ? null : parseSecretPath(raw);
    ctx.audit.details['secret_path'] = folder ?? '';
    return { data: { keys: await deps.listSecrets({ env: ctx.env, folder }) } };
  };
  return [
    { method: 'LIST', path: '/secret/metadata', operation: 'secret.metadata.list', handler: list },
    { method: 'LIST', path: '/secret/metadata/*path', operation: 'secret.metadata.list', handler: list },
    {
      method: 'GET',
      path: '/secret/metadata/*path',
      operation: 'secret.metadata.read',
      handler: async (req, ctx) => ({ data: metadataData(await deps.readMetadata({ env: ctx.env, path: secretPathOf(req, ctx) })) }),
    },
    {
      method: ['POST', 'PUT'],
      path: '/secret/metadata/*path',
      operation: 'secret.metadata.write',
      upsert: true,
      handler: async (req, ctx) => {
        const path = secretPathOf(req, ctx);
        const b = parseInput(writeBody, req.body);
        await deps.writeMetadata({
          env: ctx.env,
          path,
          maxVersions: b.max_versions,
          casRequired: b.cas_required,
          deleteVersionAfterSeconds: b.delete_version_after,
          ...(b.custom_metadata !== undefined ? { customMetadata: b.custom_metadata } : {}),
        });
        return { status: 204 };
      },
    },
    {
      method: 'PATCH',
      path: '/secret/metadata/*path',
      operation: 'secret.metadata.patch',
      handler: async (req, ctx) => {
        const path = secretPathOf(req, ctx);
        const b = parseInput(patchBody, req.body);
        await deps.writeMetadata({
          env: ctx.env,
          path,
          patch: true,
          maxVersions: b.max_versions,
          casRequired: b.cas_required,
          deleteVersionAfterSeconds: b.delete_version_after,
          ...(b.custom_metadata !== undefined && b.custom_metadata !== null ? { customMetadata: b.custom_metadata } : {}),
        });
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/secret/metadata/*path',
      operation: 'secret.metadata.delete',
      handler: async (req, ctx) => {
        await deps.deleteMetadataAndAll({ env: ctx.env, path: secretPathOf(req, ctx) });
        return { status: 204 };
      },
    },
  ];
}
