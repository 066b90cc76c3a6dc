/**
 * patchSecret: merge a JSON merge patch (RFC 7396) into the current version and store the result as a
 * new version (Vault `PATCH secret/data/:path`, Content-Type application/merge-patch+json).
 *
 * Invariants:
 * - A missing secret, or a current version that is deleted or destroyed, is a 404 (nothing to patch).
 * - The merge is applied to exactly the version it read: the new version is committed only if it is
 *   still current+1 (else re-read, re-merge, re-seal: writeNextVersion), so a concurrent write is
 *   never lost.
 * - An explicit cas is honoured by the store as for writeSecret.
 */
import { invalidInput, notFound } from '../../core/errors.js';
import type { Environment, SecretPath } from '../../core/types.js';
import type { ReadSecret } from './read-secret.js';
import type { KvDeps } from './shared.js';
import { writeNextVersion, type WriteSecretResult } from './write-secret.js';

export interface PatchSecretInput {
  readonly env: Environment;
  readonly path: SecretPath;
  readonly patch: Record<string, unknown>;
  readonly cas?: number;
}

export type PatchSecret = (input: PatchSecretInput) => Promise<WriteSecretResult>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7396 §2: null removes a member, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function makePatchSecret(deps: Pick<KvDeps, 'secrets' | 'sealer' | 'clock'> & { readonly readSecret: ReadSecret }): PatchSecret {
  return async ({ env, path, patch, cas }) => {
    if (!isObject(patch)) throw invalidInput('no data provided');
    return writeNextVersion(deps, { env, path, cas }, async () => {
      const current = await deps.readSecret({ env, path });
      if (current.status !== 'ok') throw notFound('');
      return { version: current.version.version + 1, value: mergePatch(current.data, patch) };
    });
  };
}
