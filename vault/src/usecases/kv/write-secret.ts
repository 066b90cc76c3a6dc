/**
 * writeSecret: store a new version (Vault `POST|PUT secret/data/:path` with `{ data, options: { cas } }`).
 *
 * Invariants:
 * - The value is sealed for version current+1 and committed only if that is still the next version
 *   (the store checks in one transaction); a lost race re-seals for the new number, so a sealed value
 *   is never stored under a version it was not bound to.
 * - cas / cas_required are decided by the store, atomically with the write.
 * - Vault's existence check: a new secret needs `create`, an existing one `update`.
 */
import { KeywardError, invalidInput, permissionDenied } from '../../core/errors.js';
import type { KvMetadata, KvVersionMeta } from '../../core/ports/secret-store.js';
import type { Environment, SecretPath } from '../../core/types.js';
import { MAX_WRITE_ATTEMPTS, versionBinding, type KvDeps } from './shared.js';

export interface WriteSecretInput {
  readonly env: Environment;
  readonly path: SecretPath;
  readonly data: Record<string, unknown>;
  readonly cas?: number;
  /** The caller may create a missing secret / overwrite an existing one (default true). */
  readonly mayCreate?: boolean;
  readonly mayUpdate?: boolean;
}

export interface WriteSecretResult {
  readonly metadata: KvMetadata;
  readonly version: KvVersionMeta;
}

export type WriteSecret = (input: WriteSecretInput) => Promise<WriteSecretResult>;

export function makeWriteSecret(deps: Pick<KvDeps, 'secrets' | 'sealer' | 'clock'>): WriteSecret {
  return async (input) => {
    const { env, path } = input;
    if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) throw invalidInput('no data provided');
    if (input.cas !== undefined && (!Number.isSafeInteger(input.cas) || input.cas < 0)) throw invalidInput('invalid cas value');
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const head = await deps.secrets.getVersion(env, path, null);
      const exists = head !== null;
      if (exists && input.mayUpdate === false) throw permissionDenied();
      if (!exists && input.mayCreate === false) throw permissionDenied();
      const version = (head?.metadata.currentVersion ?? 0) + 1;
      const sealed = await deps.sealer.seal(env, versionBinding(env, path, version), Buffer.from(JSON.stringify(input.data), 'utf8'));
      const r = await deps.secrets.putVersion({
        env,
        path,
        version,
        sealedValue: sealed.envelope,
        keyVersion: sealed.keyVersion,
        rootTerm: sealed.rootTerm,
        createdAt: deps.clock.now(),
        ...(input.cas !== undefined ? { cas: input.cas } : {}),
      });
      if (r.ok) return { metadata: r.metadata, version: r.version };
    }
    throw new KeywardError('ERR_INTERNAL', 'too many concurrent writes to one secret', { retryAfterSeconds: 1 });
  };
}
