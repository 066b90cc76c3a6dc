/**
 * `POST transit/encrypt/:name` — single (`plaintext`) or `batch_input`. A missing key is created when the
 * caller also holds `create` on the path (Vault's upsert).
 */
import { z } from 'zod';
import type { Encrypt } from '../../../usecases/transit/index.js';
import { permissionDenied } from '../../../core/errors.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vInt } from '../../schema.js';
import { batchOrSingle, ciphertextReply, keyNameOf, optString, vStatusCode } from './common.js';

const item = z.object({
  plaintext: z.string(),
  context: optString,
  associated_data: optString,
  key_version: vInt.optional(),
  reference: optString,
  nonce: optString,
});

const body = z.object({
  nonce: optString,
  plaintext: optString,
  context: optString,
  associated_data: optString,
  key_version: vInt.optional(),
  reference: optString,
  type: optString,
  convergent_encryption: vBool.optional(),
  batch_input: z.array(item).optional(),
  partial_failure_response_code: vStatusCode.optional(),
});

const toItem = (i: z.output<typeof item>) => ({
  plaintext: i.plaintext,
  context: i.context,
  associatedData: i.associated_data,
  keyVersion: i.key_version,
  reference: i.reference,
});

export function encryptRoutes(deps: { encrypt: Encrypt }): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/transit/encrypt/:name',
      operation: 'transit.encrypt',
      // Changes nothing unless the caller may create the key (Vault's upsert): then the entry goes first.
      sideEffectFree: (_req, ctx) => !ctx.can('create'),
      upsert: true,
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const b = parseInput(body, req.body);
        const single = b.plaintext === undefined ? undefined : { ...b, plaintext: b.plaintext };
        const { items, isBatch } = batchOrSingle(b.batch_input, single, 'missing plaintext to encrypt');
        const r = await deps.encrypt({
          env: ctx.env,
          name,
          items: items.map(toItem),
          mayCreate: ctx.can('create'),
          type: b.type,
          convergentEncryption: b.convergent_encryption,
        });
        // Granted `create` only: the key must have been created by this very call (Vault's existence check).
        if (ctx.capability === 'create' && !r.created) throw permissionDenied();
        return ciphertextReply(ctx, r.items, isBatch, b.partial_failure_response_code);
      },
    },
  ];
}
