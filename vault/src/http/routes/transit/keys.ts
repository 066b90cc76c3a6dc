/**
 * `transit/keys/:name` (POST create, GET read, DELETE delete) and `transit/keys` (LIST / GET ?list=true).
 * Creating an existing key answers the existing key with a warning, as Vault does.
 */
import { z } from 'zod';
import type { CreateKey, DeleteKey, ListKeys, ReadKey } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration } from '../../schema.js';
import { keyData, keyNameOf } from './common.js';

const createBody = z.object({
  type: z.string().optional(),
  derived: vBool.optional(),
  convergent_encryption: vBool.optional(),
  exportable: vBool.optional(),
  allow_plaintext_backup: vBool.optional(),
  auto_rotate_period: vDuration.optional(),
});

export function keyRoutes(deps: { createKey: CreateKey; readKey: ReadKey; listKeys: ListKeys; deleteKey: DeleteKey }): RouteSpec[] {
  return [
    {
      method: 'POST',
      path: '/transit/keys/:name',
      operation: 'transit.keys.create',
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const body = parseInput(createBody, req.body);
        const r = await deps.createKey({
          env: ctx.env,
          name,
          type: body.type,
          derived: body.derived,
          convergentEncryption: body.convergent_encryption,
          exportable: body.exportable,
          allowPlaintextBackup: body.allow_plaintext_backup,
          autoRotatePeriodSeconds: body.auto_rotate_period,
        });
        ctx.audit.keyVersion = r.key.latestVersion;
        return { data: keyData(r.key), ...(r.created ? {} : { warnings: [`key ${name} already existed; its configuration was not changed`] }) };
      },
    },
    {
      method: 'GET',
      path: '/transit/keys/:name',
      operation: 'transit.keys.read',
      handler: async (req, ctx) => ({ data: keyData(await deps.readKey({ env: ctx.env, name: keyNameOf(req, ctx) })) }),
    },
    {
      method: 'DELETE',
      path: '/transit/keys/:name',
      operation: 'transit.keys.delete',
      handler: async (req, ctx) => {
        await deps.deleteKey({ env: ctx.env, name: keyNameOf(req, ctx) });
        return { status: 204 };
      },
    },
    {
      method: 'LIST',
      path: '/transit/keys',
      operation: 'transit.keys.list',
      handler: async (_req, ctx) => ({ data: { keys: await deps.listKeys({ env: ctx.env }) } }),
    },
  ];
}
