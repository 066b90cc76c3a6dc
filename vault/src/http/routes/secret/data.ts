/**
 * `secret/data/*path`: GET (read, `?version=N`), POST|PUT (write, `{ data, options: { cas } }`),
 * PATCH (JSON merge patch; Content-Type application/merge-patch+json, as Vault requires), DELETE
 * (soft-delete the latest version). A deleted or destroyed version answers 404 with its metadata in
 * `data`, as Vault does.
 */
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { DeleteLatest, PatchSecret, ReadSecret, WriteSecret } from '../../../usecases/kv/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vInt } from '../../schema.js';
import { secretPathOf, versionData, versionQuery } from './common.js';

const writeBody = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  options: z.object({ cas: vInt.optional() }).partial().nullish(),
});

const PATCH_CONTENT_TYPE = 'application/merge-patch+json';

export function dataRoutes(deps: { readSecret: ReadSecret; writeSecret: WriteSecret; patchSecret: PatchSecret; deleteLatest: DeleteLatest }): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/secret/data/*path',
      operation: 'secret.data.read',
      handler: async (req, ctx) => {
        const path = secretPathOf(req, ctx);
        const r = await deps.readSecret({ env: ctx.env, path, version: versionQuery(req) });
        ctx.audit.details['secret_version'] = r.version.version;
        const metadata = versionData(r.metadata, r.version);
        if (r.status !== 'ok') return { status: 404, data: { data: null, metadata } };
        return { data: { data: r.data, metadata } };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/secret/data/*path',
      operation: 'secret.data.write',
      upsert: true,
      handler: async (req, ctx) => {
        const path = secretPathOf(req, ctx);
        const b = parseInput(writeBody, req.body);
        if (!b.data) throw invalidInput('no data provided');
        // Vault's existence check: `create` for a new secret, `update` for an existing one.
        const r = await deps.writeSecret({
          env: ctx.env,
          path,
          data: b.data,
          ...(b.options?.cas !== undefined ? { cas: b.options.cas } : {}),
          mayCreate: ctx.can('create'),
          mayUpdate: ctx.can('update'),
        });
        ctx.audit.details['secret_version'] = r.version.version;
        return { data: versionData(r.metadata, r.version) };
      },
    },
    {
      method: 'PATCH',
      path: '/secret/data/*path',
      operation: 'secret.data.patch',
      handler: async (req, ctx) => {
        const path = secretPathOf(req, ctx);
        const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
        if (type !== PATCH_CONTENT_TYPE) {
          return { status: 415, raw: { contentType: 'application/json', body: JSON.stringify({ errors: [`PATCH requires Content-Type ${PATCH_CONTENT_TYPE}`] }) } };
        }
        const b = parseInput(writeBody, req.body);
        if (!b.data) throw invalidInput('no data provided');
        const r = await deps.patchSecret({ env: ctx.env, path, patch: b.data, ...(b.options?.cas !== undefined ? { cas: b.options.cas } : {}) });
        ctx.audit.details['secret_version'] = r.version.version;
        return { data: versionData(r.metadata, r.version) };
      },
    },
    {
      method: 'DELETE',
      path: '/secret/data/*path',
      operation: 'secret.data.delete',
      handler: async (req, ctx) => {
        await deps.deleteLatest({ env: ctx.env, path: secretPathOf(req, ctx) });
        return { status: 204 };
      },
    },
  ];
}

