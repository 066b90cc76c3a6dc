/**
 * KV version 2 secrets at mount `secret` (Vault's /v1/secret/{data,metadata}/:path).
 *
 * Paths are relative to the mount; a leading `secret/` is taken as the mount and stripped, like
 * `vault kv get secret/creds` (so a secret literally named `secret/x` is addressed as
 * `secret/secret/x`). Writes and deletes use the 'write' retry class (retry.ts).
 */
import { KeywardError } from '../../vault/src/core/errors.js';
import { KeywardApiError } from './http-client.js';
import { encodePath } from './call.js';
import type { AuthedCall } from './client.js';
import type { KvMetadata, KvSecret, KvVersionMetadata, VaultResponse } from './types.js';

export const KV_MOUNT = 'secret';

export interface SecretsApi {
  read(path: string, opts?: { version?: number }): Promise<KvSecret>;
  write(path: string, data: Record<string, unknown>, opts?: { cas?: number }): Promise<KvVersionMetadata>;
  list(path: string): Promise<string[]>;
  metadata(path: string): Promise<KvMetadata>;
  /** Soft-deletes the latest version (undeletable on the server), like `vault kv delete`. */
  delete(path: string): Promise<void>;
  /** Every version's metadata, newest first. */
  history(path: string): Promise<KvVersionMetadata[]>;
}

interface WireVersionMeta {
  readonly version?: number;
  readonly created_time?: string;
  readonly deletion_time?: string;
  readonly destroyed?: boolean;
}

interface WireMetadata {
  readonly current_version?: number;
  readonly oldest_version?: number;
  readonly created_time?: string;
  readonly updated_time?: string;
  readonly max_versions?: number;
  readonly cas_required?: boolean;
  readonly custom_metadata?: Record<string, string> | null;
  readonly versions?: Record<string, WireVersionMeta> | null;
}

/** Path relative to the KV mount, validated: no empty, `.` or `..` segments. */
export function kvRelativePath(path: string, allowRoot = false): string {
  let p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p === KV_MOUNT) p = '';
  if (p.startsWith(`${KV_MOUNT}/`)) p = p.slice(KV_MOUNT.length + 1);
  if (p.length === 0 && allowRoot) return '';
  const segments = p.split('/');
  if (p.length === 0 || segments.some((s) => s === '' || s === '.' || s === '..')) throw new KeywardError('ERR_INVALID_INPUT', `invalid secret path: ${path}`);
  return p;
}

const emptyToUndef = (s: string | undefined): string | undefined => (s ? s : undefined);
const toVersionMeta = (m: WireVersionMeta, fallbackVersion = 0): KvVersionMetadata => ({
  version: m.version ?? fallbackVersion,
  createdTime: emptyToUndef(m.created_time),
  deletionTime: emptyToUndef(m.deletion_time),
  destroyed: m.destroyed ?? false,
});

export function makeSecrets(call: AuthedCall): SecretsApi {
  const dataPath = (p: string): string => `/v1/${KV_MOUNT}/data/${encodePath(kvRelativePath(p))}`;
  const metaPath = (p: string): string => `/v1/${KV_MOUNT}/metadata/${encodePath(kvRelativePath(p))}`;

  const metadata = async (path: string): Promise<KvMetadata> => {
    const res = await call<VaultResponse<WireMetadata>>('GET', metaPath(path), { retry: 'idempotent' });
    const d = res.data ?? {};
    const versions = Object.entries(d.versions ?? {})
      .map(([v, m]) => toVersionMeta(m, Number(v)))
      .sort((a, b) => b.version - a.version);
    return {
      currentVersion: d.current_version ?? 0,
      oldestVersion: d.oldest_version,
      createdTime: emptyToUndef(d.created_time),
      updatedTime: emptyToUndef(d.updated_time),
      maxVersions: d.max_versions,
      casRequired: d.cas_required ?? false,
      customMetadata: { ...(d.custom_metadata ?? {}) },
      versions,
    };
  };

  return {
    async read(path, opts) {
      if (opts?.version !== undefined && (!Number.isInteger(opts.version) || opts.version < 0)) throw new KeywardError('ERR_INVALID_INPUT', 'version must be a non-negative integer');
      const q = opts?.version !== undefined ? `?version=${opts.version}` : '';
      const res = await call<VaultResponse<{ data?: Record<string, unknown> | null; metadata?: WireVersionMeta | null }>>('GET', dataPath(path) + q, { retry: 'idempotent' });
      return { data: { ...(res.data?.data ?? {}) }, metadata: toVersionMeta(res.data?.metadata ?? {}) };
    },
    async write(path, data, opts) {
      const res = await call<VaultResponse<WireVersionMeta>>('POST', dataPath(path), {
        body: { data, ...(opts?.cas !== undefined ? { options: { cas: opts.cas } } : {}) },
        retry: 'write',
      });
      return toVersionMeta(res.data ?? {});
    },
    async list(path) {
      try {
        const rel = encodePath(kvRelativePath(path, true));
        const res = await call<VaultResponse<{ keys?: string[] }>>('LIST', `/v1/${KV_MOUNT}/metadata/${rel}${rel ? '/' : ''}`, { retry: 'idempotent' });
        return [...(res.data?.keys ?? [])];
      } catch (err) {
        // Vault answers an empty folder with 404; to a caller that is an empty list.
        if (err instanceof KeywardApiError && err.status === 404) return [];
        throw err;
      }
    },
    metadata,
    async delete(path) {
      await call<unknown>('DELETE', dataPath(path), { retry: 'write' });
    },
    async history(path) {
      return [...(await metadata(path)).versions];
    },
  };
}
