/**
 * `POST transit/datakey/{plaintext|wrapped}/:name` — a fresh data key sealed under the named key. The type
 * stays in the ACL path, so a policy can allow `wrapped` only.
 */
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { GenerateDataKey } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vInt } from '../../schema.js';
import { keyNameOf, optString } from './common.js';

const body = z.object({ context: optString, nonce: optString, bits: vInt.optional(), key_version: vInt.optional() });

export function dataKeyRoutes(deps: { generateDataKey: GenerateDataKey }): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/transit/datakey/:type/:name',
      operation: 'transit.datakey',
      // Changes nothing (reads the key only): one audit commit per request.
      sideEffectFree: true,
      handler: async (req, ctx) => {
        const kind = req.params['type'];
        if (kind !== 'plaintext' && kind !== 'wrapped') throw invalidInput('invalid type: use plaintext or wrapped');
        const name = keyNameOf(req, ctx);
        const b = parseInput(body, req.body);
        const r = await deps.generateDataKey({ env: ctx.env, name, kind, bits: b.bits, context: b.context, keyVersion: b.key_version });
        ctx.audit.keyVersion = r.keyVersion;
        ctx.audit.details['kind'] = kind;
        const data: Record<string, unknown> = { ciphertext: r.ciphertext, key_version: r.keyVersion };
        if (r.plaintext) {
          data['plaintext'] = r.plaintext.toString('base64');
          r.plaintext.fill(0);
        }
        return { data };
      },
    },
  ];
}
