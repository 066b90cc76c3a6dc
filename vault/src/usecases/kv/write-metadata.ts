/**
 * writeMetadata: set a secret's max_versions, cas_required, delete_version_after and custom_metadata
 * (Vault `POST secret/metadata/:path`, which creates the metadata if missing; only the fields given
 * change). With `mergeCustomMetadata` (Vault's `PATCH secret/metadata/:path`) custom_metadata is merged
 * key by key, a null value removing a key.
 */
import { invalidInput, notFound } from '../../core/errors.js';
import type { KvMetadata, KvMetadataPatch } from '../../core/ports/secret-store.js';
import type { Environment, SecretPath } from '../../core/types.js';
import { checkCustomMetadata, type KvDeps } from './shared.js';

export interface WriteMetadataInput {
  readonly env: Environment;
  readonly path: SecretPath;
  readonly maxVersions?: number;
  readonly casRequired?: boolean;
  readonly deleteVersionAfterSeconds?: number;
  readonly customMetadata?: Readonly<Record<string, unknown>> | null;
  /** PATCH semantics: the secret must exist and custom_metadata merges. */
  readonly patch?: boolean;
}

export type WriteMetadata = (input: WriteMetadataInput) => Promise<KvMetadata>;

export function makeWriteMetadata(deps: Pick<KvDeps, 'secrets' | 'clock'>): WriteMetadata {
  return async (input) => {
    if (input.maxVersions !== undefined && (!Number.isSafeInteger(input.maxVersions) || input.maxVersions < 0)) throw invalidInput('max_versions must be a non-negative integer');
    if (input.deleteVersionAfterSeconds !== undefined && (!Number.isSafeInteger(input.deleteVersionAfterSeconds) || input.deleteVersionAfterSeconds < 0)) {
      throw invalidInput('invalid delete_version_after');
    }
    let customMetadata: Record<string, string> | null | undefined;
    if (input.patch) {
      const existing = await deps.secrets.getMetadata(input.env, input.path);
      if (!existing) throw notFound('');
      if (input.customMetadata !== undefined && input.customMetadata !== null) {
        const merged: Record<string, unknown> = { ...(existing.customMetadata ?? {}) };
        for (const [k, v] of Object.entries(input.customMetadata)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        customMetadata = checkCustomMetadata(merged);
      }
    } else if (input.customMetadata !== undefined) {
      customMetadata = input.customMetadata === null ? null : checkCustomMetadata(input.customMetadata);
    }
    const patch: KvMetadataPatch = {
      ...(input.maxVersions !== undefined ? { maxVersions: input.maxVersions } : {}),
      ...(input.casRequired !== undefined ? { casRequired: input.casRequired } : {}),
      ...(input.deleteVersionAfterSeconds !== undefined ? { deleteVersionAfterSeconds: input.deleteVersionAfterSeconds } : {}),
      ...(customMetadata !== undefined ? { customMetadata } : {}),
    };
    return deps.secrets.writeMetadata(input.env, input.path, patch, deps.clock.now());
  };
}
