/** `POST transit/decrypt/:name` — single (`ciphertext`) or `batch_input`; plaintext answered in base64. */
import { z } from 'zod';
import type { Decrypt } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput } from '../../schema.js';
import { batchOrSingle, batchStatus, keyNameOf, optString, vStatusCode } from './common.js';

const item = z.object({ ciphertext: z.string(), context: optString, associated_data: optString, reference: optString, nonce: optString });

const body = z.object({
  nonce: optString,
  ciphertext: optString,
  context: optString,
  associated_data: optString,
  reference: optString,
  batch_input: z.array(item).optional(),
  partial_failure_response_code: vStatusCode.optional(),
});

export function decryptRoutes(deps: { decrypt: Decrypt }): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/transit/decrypt/:name',
      operation: 'transit.decrypt',
      // Changes nothing (reads the key only): one audit commit per request.
      sideEffectFree: true,
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const b = parseInput(body, req.body);
        const single = b.ciphertext === undefined ? undefined : { ...b, ciphertext: b.ciphertext };
        const { items, isBatch } = batchOrSingle(b.batch_input, single, 'missing ciphertext to decrypt');
        const r = await deps.decrypt({
          env: ctx.env,
          name,
          items: items.map((i) => ({ ciphertext: i.ciphertext, context: i.context, associatedData: i.associated_data, reference: i.reference })),
        });
        const encode = (p: Buffer): string => {
          const s = p.toString('base64');
          p.fill(0);
          return s;
        };
        if (!isBatch) {
          const one = r.items[0];
          if (!one?.ok) throw one?.error;
          ctx.audit.keyVersion = one.keyVersion;
          return { data: { plaintext: encode(one.plaintext) } };
        }
        ctx.audit.details['batch_size'] = r.items.length;
        const batch_results = r.items.map((i) => (i.ok ? { plaintext: encode(i.plaintext), reference: i.reference } : { error: i.error.message, reference: i.reference }));
        return { status: batchStatus(r.items, b.partial_failure_response_code), data: { batch_results } };
      },
    },
  ];
}
