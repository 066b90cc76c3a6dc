/** `POST transit/rewrap/:name` — re-seal ciphertexts under the latest (or `key_version`) version. */
import { z } from 'zod';
import type { Rewrap } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vInt } from '../../schema.js';
import { batchOrSingle, ciphertextReply, keyNameOf, optString, vStatusCode } from './common.js';

const item = z.object({
  ciphertext: z.string(),
  context: optString,
  associated_data: optString,
  key_version: vInt.optional(),
  reference: optString,
  nonce: optString,
});

const body = z.object({
  nonce: optString,
  ciphertext: optString,
  context: optString,
  associated_data: optString,
  key_version: vInt.optional(),
  reference: optString,
  batch_input: z.array(item).optional(),
  partial_failure_response_code: vStatusCode.optional(),
});

export function rewrapRoutes(deps: { rewrap: Rewrap }): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/transit/rewrap/:name',
      operation: 'transit.rewrap',
      // Changes nothing (reads the key only): one audit commit per request.
      sideEffectFree: true,
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const b = parseInput(body, req.body);
        const single = b.ciphertext === undefined ? undefined : { ...b, ciphertext: b.ciphertext };
        const { items, isBatch } = batchOrSingle(b.batch_input, single, 'missing ciphertext to rewrap');
        const r = await deps.rewrap({
          env: ctx.env,
          name,
          items: items.map((i) => ({
            ciphertext: i.ciphertext,
            context: i.context,
            associatedData: i.associated_data,
            // A batch item without its own key_version takes the request's, as in Vault.
            keyVersion: i.key_version ?? b.key_version,
            reference: i.reference,
          })),
        });
        return ciphertextReply(ctx, r.items, isBatch, b.partial_failure_response_code);
      },
    },
  ];
}
