/**
 * readSecret: one version of a secret (Vault `GET secret/data/:path[?version=N]`).
 *
 * Invariants:
 * - A path without metadata, or a version never written / pruned, is a bare 404 (ERR_NOT_FOUND '').
 * - A deleted (deletion time passed) or destroyed version answers with its metadata and no data:
 *   the route turns that into Vault's 404 with `{ data: null, metadata }`.
 * - The value is opened with the binding (env, path, version) it was sealed under.
 */
import { notFound } from '../../core/errors.js';
import { isVersionDeleted, type KvMetadata, type KvVersionMeta } from '../../core/ports/secret-store.js';
import type { Environment, SecretPath } from '../../core/types.js';
import { versionBinding, type KvDeps } from './shared.js';

export interface ReadSecretInput {
  readonly env: Environment;
  readonly path: SecretPath;
  /** 0 or absent: the current version. */
  readonly version?: number;
}

export type ReadSecretResult =
  | { readonly status: 'ok'; readonly data: Record<string, unknown>; readonly metadata: KvMetadata; readonly version: KvVersionMeta }
  | { readonly status: 'deleted' | 'destroyed'; readonly metadata: KvMetadata; readonly version: KvVersionMeta };

export type ReadSecret = (input: ReadSecretInput) => Promise<ReadSecretResult>;

export function makeReadSecret(deps: Pick<KvDeps, 'secrets' | 'sealer' | 'clock'>): ReadSecret {
  return async ({ env, path, version }) => {
    const found = await deps.secrets.getVersion(env, path, version ?? null);
    if (!found?.version) throw notFound('');
    const v = found.version;
    const meta = { version: v.version, createdAt: v.createdAt, deletionTime: v.deletionTime, destroyed: v.destroyed };
    if (v.destroyed || v.sealedValue === null) return { status: 'destroyed', metadata: found.metadata, version: meta };
    if (isVersionDeleted(v, deps.clock.now())) return { status: 'deleted', metadata: found.metadata, version: meta };
    const plaintext = await deps.sealer.open(env, versionBinding(env, path, v.version), v.sealedValue);
    try {
      return { status: 'ok', data: JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>, metadata: found.metadata, version: meta };
    } finally {
      plaintext.fill(0);
    }
  };
}
