/**
 * Shared pieces of the KV v2 routes: the secret path from express 5's wildcard segments, Vault's
 * version-metadata and metadata shapes, Go-style durations. Encoding only; decisions live in
 * usecases/kv and the SecretStore.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { KvMetadata, KvMetadataWithVersions, KvVersionMeta } from '../../../core/ports/secret-store.js';
import { parseSecretPath, type SecretPath } from '../../../core/types.js';
import type { RequestContext } from '../../route-spec.js';
import { vInt } from '../../schema.js';

/** `*path` arrives as an array of segments (express 5); a string is accepted for older routers. */
export function rawPathOf(req: Request): string {
  const raw: unknown = (req.params as Record<string, unknown>)['path'];
  if (Array.isArray(raw)) return raw.filter((s) => typeof s === 'string' && s !== '').join('/');
  return typeof raw === 'string' ? raw : '';
}

export function secretPathOf(req: Request, ctx: RequestContext): SecretPath {
  const path = parseSecretPath(rawPathOf(req));
  ctx.audit.details['secret_path'] = path;
  return path;
}

const iso = (d: Date): string => d.toISOString();

/** Go's time.Duration.String() for whole seconds: "0s", "45s", "1m30s", "3h25m19s". */
export function goDuration(totalSeconds: number): string {
  if (totalSeconds <= 0) return '0s';
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The `data` of a KV v2 write, and the `metadata` of a read: one version. */
export function versionData(meta: KvMetadata, v: KvVersionMeta): Record<string, unknown> {
  return {
    created_time: iso(v.createdAt),
    custom_metadata: meta.customMetadata,
    deletion_time: v.deletionTime ? iso(v.deletionTime) : '',
    destroyed: v.destroyed,
    version: v.version,
  };
}

export function metadataData(m: KvMetadataWithVersions): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const v of m.versions) versions[String(v.version)] = { created_time: iso(v.createdAt), deletion_time: v.deletionTime ? iso(v.deletionTime) : '', destroyed: v.destroyed };
  return {
    cas_required: m.casRequired,
    created_time: iso(m.createdAt),
    current_version: m.currentVersion,
    custom_metadata: m.customMetadata,
    delete_version_after: goDuration(m.deleteVersionAfterSeconds),
    max_versions: m.maxVersions,
    oldest_version: m.oldestVersion,
    updated_time: iso(m.updatedAt),
    versions,
  };
}

/** `versions`: a list of integers (or numeric strings), or one comma-separated string, as Vault accepts. */
export const vVersions = z.union([
  z.array(vInt),
  vInt.transform((n) => [n]),
  z.string().transform((s, c) => {
    const parts = s.split(',').map((p) => p.trim());
    if (parts.some((p) => !/^\d{1,10}$/.test(p))) {
      c.addIssue({ code: 'custom', message: 'must be a list of version numbers' });
      return z.NEVER;
    }
    return parts.map(Number);
  }),
]);

export function versionQuery(req: Request): number | undefined {
  const raw = req.query['version'];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) throw invalidInput('invalid version');
  return Number(raw);
}
