/**
 * `transit/keys/:name/config`, `/rotate` and `/trim`: key management writes, answered in Vault's shapes.
 * The one config route: with the key lifecycle wired (`lifecycle: true`) it also takes Keyward's
 * `max_versions` and `version_ttl` and answers with the lifecycle fields (lifecycle.ts); without it
 * those two fields are not part of the body and are dropped, as any unknown field is.
 */
import { z } from 'zod';
import type { RotateKey, TrimKey, UpdateKeyConfig } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vDuration, vInt } from '../../schema.js';
import { keyData, keyNameOf } from './common.js';
import { lifecycleKeyData } from './lifecycle.js';

const configBody = z.object({
  min_decryption_version: vInt.optional(),
  min_encryption_version: vInt.optional(),
  deletion_allowed: vBool.optional(),
  exportable: vBool.optional(),
  allow_plaintext_backup: vBool.optional(),
  auto_rotate_period: vDuration.optional(),
});
const lifecycleConfigBody = configBody.extend({
  max_versions: vInt.optional(),
  version_ttl: vDuration.optional(),
});

const trimBody = z.object({ min_available_version: vInt });

export function keyAdminRoutes(deps: { updateKeyConfig: UpdateKeyConfig; rotateKey: RotateKey; trimKey: TrimKey }, options: { lifecycle?: boolean } = {}): RouteSpec[] {
  const lifecycle = options.lifecycle === true;
  return [
    {
      method: 'POST',
      path: '/transit/keys/:name/config',
      operation: 'transit.keys.config',
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const b: z.infer<typeof lifecycleConfigBody> = parseInput(lifecycle ? lifecycleConfigBody : configBody, req.body);
        const key = await deps.updateKeyConfig({
          env: ctx.env,
          name,
          patch: {
            minDecryptionVersion: b.min_decryption_version,
            minEncryptionVersion: b.min_encryption_version,
            deletionAllowed: b.deletion_allowed,
            exportable: b.exportable,
            allowPlaintextBackup: b.allow_plaintext_backup,
            autoRotatePeriodSeconds: b.auto_rotate_period,
            maxVersions: b.max_versions,
            versionTtlSeconds: b.version_ttl,
          },
        });
        ctx.audit.details['changed'] = Object.keys(b).filter((k) => b[k as keyof typeof b] !== undefined);
        return { data: lifecycle ? lifecycleKeyData(key) : keyData(key) };
      },
    },
    {
      method: 'POST',
      path: '/transit/keys/:name/rotate',
      operation: 'transit.keys.rotate',
      handler: async (req, ctx) => {
        const key = await deps.rotateKey({ env: ctx.env, name: keyNameOf(req, ctx) });
        ctx.audit.keyVersion = key.latestVersion;
        return { data: keyData(key) };
      },
    },
    {
      method: 'POST',
      path: '/transit/keys/:name/trim',
      operation: 'transit.keys.trim',
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const { min_available_version } = parseInput(trimBody, req.body);
        await deps.trimKey({ env: ctx.env, name, minAvailableVersion: min_available_version });
        ctx.audit.details['min_available_version'] = min_available_version;
        return { status: 204 };
      },
    },
  ];
}
