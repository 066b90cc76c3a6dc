/**
 * writeSecret: store a new version (Vault `POST|PUT secret/data/:path` with `{ data, options: { cas } }`).
 *
 * Invariants:
 * - The value is sealed for version current+1 and committed only if that is still the next version
 *   (the store checks in one transaction); a lost race re-seals for the new number, so a sealed value
 *   is never stored under a version it was not bound to.
 * - cas / cas_required are decided by the store, atomically with the write.
 * - Vault's existence check: a new secret needs `create`, an existing one `update`.
 * `writeNextVersion` is that seal-and-commit loop; patchSecret stores through it too.
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

/**
 * Seal and commit a new version, re-reading after a lost race. `next()` reads the head and returns
 * the value and the number it must be stored as (head + 1); the value is sealed for exactly that
 * number, and the store commits it only if the number is still current + 1 (that is itself the
 * guard), else `next()` runs again (re-read, re-compute, re-seal), up to MAX_WRITE_ATTEMPTS times.
 */
export async function writeNextVersion(
  deps: Pick<KvDeps, 'secrets' | 'sealer' | 'clock'>,
  target: { readonly env: Environment; readonly path: SecretPath; readonly cas?: number | undefined },
  next: () => Promise<{ readonly version: number; readonly value: unknown }>,
): Promise<WriteSecretResult> {
  const { env, path, cas } = target;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const { version, value } = await next();
    const sealed = await deps.sealer.seal(env, versionBinding(env, path, version), Buffer.from(JSON.stringify(value), 'utf8'));
    const r = await deps.secrets.putVersion({
      env,
      path,
      version,
      sealedValue: sealed.envelope,
      keyVersion: sealed.keyVersion,
      rootTerm: sealed.rootTerm,
      createdAt: deps.clock.now(),
      ...(cas !== undefined ? { cas } : {}),
    });
    if (r.ok) return { metadata: r.metadata, version: r.version };
  }
  throw new KeywardError('ERR_INTERNAL', 'too many concurrent writes to one secret', { retryAfterSeconds: 1 });
}

export function makeWriteSecret(deps: Pick<KvDeps, 'secrets' | 'sealer' | 'clock'>): WriteSecret {
  return async (input) => {
    const { env, path } = input;
    if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) throw invalidInput('no data provided');
    if (input.cas !== undefined && (!Number.isSafeInteger(input.cas) || input.cas < 0)) throw invalidInput('invalid cas value');
    return writeNextVersion(deps, { env, path, cas: input.cas }, async () => {
      const head = await deps.secrets.getVersion(env, path, null);
      const exists = head !== null;
      if (exists && input.mayUpdate === false) throw permissionDenied();
      if (!exists && input.mayCreate === false) throw permissionDenied();
      return { version: (head?.metadata.currentVersion ?? 0) + 1, value: input.data };
    });
  };
}
