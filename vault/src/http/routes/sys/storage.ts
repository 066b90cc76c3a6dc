/**
 * POST /v1/sys/storage/backup (sudo): a consistent online snapshot of the store.
 *
 * API shape (documented in vault/src/lifecycle/NOTES.md): the answer is a normal Vault envelope whose
 * data holds the snapshot as base64 with its SHA-256, size, schema version and time — so every
 * Vault-style client and Keyward's SDK transport can carry it unchanged. The snapshot holds only
 * wrapped material and is useless without the HSM token. It is built in memory: fine for stores of
 * tens of MB; a streaming variant can come when stores outgrow that.
 */
import type { Snapshot } from '../../../lifecycle/backup.js';
import { BACKUP_FORMAT } from '../../../lifecycle/backup.js';
import type { RouteSpec } from '../../route-spec.js';

export interface StorageRouteDeps {
  readonly snapshot: () => Promise<Snapshot>;
}

export function storageRoutes(deps: StorageRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/storage/backup',
      operation: 'sys.storage.backup',
      capability: 'sudo',
      handler: async (_req, ctx) => {
        const s = await deps.snapshot();
        Object.assign(ctx.audit.details, { sha256: s.sha256, size: s.bytes.length, schema_version: s.schemaVersion });
        return {
          data: { format: BACKUP_FORMAT, schema_version: s.schemaVersion, created_at: s.createdAt.toISOString(), sha256: s.sha256, size: s.bytes.length, snapshot: s.bytes.toString('base64') },
        };
      },
    },
  ];
}
