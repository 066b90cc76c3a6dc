/**
 * SqliteSecretStore: the embedded SecretStore + WrappingTokenStore (schema in migrations/006-kv.ts).
 *
 * Invariants kept here (see the port header):
 * - Every read-then-write runs in `BEGIN IMMEDIATE` (`.immediate()`), so the write lock is held before
 *   the read: two processes on one file cannot both see current_version = N and both write N + 1, and
 *   of two concurrent unwraps exactly one finds the token unused.
 * - cas / cas_required are checked inside the same transaction as the insert; a refusal writes nothing.
 * - Pruning (max_versions) deletes the rows of the oldest versions, sealed material included.
 * - Destroy sets `sealed_value` to NULL; consumption sets `sealed_payload` to NULL.
 * - Errors are translated by sqlite-errors.ts; messages never carry bound values.
 *
 * The connection is shared with the other Sqlite* adapters and closed by whoever opened it.
 */
import { conflict, invalidInput } from '../../core/errors.js';
import {
  DEFAULT_KV_ENGINE_CONFIG,
  effectiveDeleteAfterSeconds,
  effectiveMaxVersions,
  type ConsumeWrappingResult,
  type KvEngineConfig,
  type KvMetadata,
  type KvMetadataPatch,
  type KvMetadataWithVersions,
  type KvRewrapCursor,
  type KvSealedRow,
  type KvVersionMeta,
  type KvVersionRecord,
  type KvVersionSelector,
  type NewKvVersion,
  type NewWrappingToken,
  type PutVersionResult,
  type SecretStore,
  type WrappingTokenRecord,
  type WrappingSealedRow,
  type WrappingTokenStore,
} from '../../core/ports/secret-store.js';
import type { Environment, SecretPath } from '../../core/types.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface ConfigRow {
  max_versions: number;
  cas_required: number;
  delete_version_after_s: number;
}

interface MetaRow {
  env: string;
  path: string;
  current_version: number;
  oldest_version: number;
  max_versions: number;
  cas_required: number;
  delete_version_after_s: number;
  custom_metadata: string | null;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  version: number;
  sealed_value: Buffer | null;
  key_version: number;
  root_term: number;
  created_at: number;
  deletion_time: number | null;
  destroyed: number;
}

interface WrapRow {
  id_hash: Buffer;
  accessor: string;
  env: string;
  creation_path: string;
  ttl_seconds: number;
  created_at: number;
  expires_at: number;
  sealed_payload: Buffer | null;
  key_version: number;
  root_term: number;
  used_at: number | null;
}

const ms = (d: Date): number => {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw invalidInput('invalid timestamp');
  return t;
};

function nonNegativeInt(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidInput(`invalid ${what}`);
  return n;
}

function toConfig(row: ConfigRow | undefined): KvEngineConfig {
  if (!row) return DEFAULT_KV_ENGINE_CONFIG;
  return { maxVersions: row.max_versions, casRequired: row.cas_required === 1, deleteVersionAfterSeconds: row.delete_version_after_s };
}

function toMeta(row: MetaRow): KvMetadata {
  return {
    env: row.env as Environment,
    path: row.path as SecretPath,
    currentVersion: row.current_version,
    oldestVersion: row.oldest_version,
    maxVersions: row.max_versions,
    casRequired: row.cas_required === 1,
    deleteVersionAfterSeconds: row.delete_version_after_s,
    customMetadata: row.custom_metadata === null ? null : (JSON.parse(row.custom_metadata) as Record<string, string>),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toVersionMeta(row: VersionRow): KvVersionMeta {
  return {
    version: row.version,
    createdAt: new Date(row.created_at),
    deletionTime: row.deletion_time === null ? null : new Date(row.deletion_time),
    destroyed: row.destroyed === 1,
  };
}

function toVersion(row: VersionRow): KvVersionRecord {
  return {
    ...toVersionMeta(row),
    sealedValue: row.sealed_value === null ? null : Buffer.from(row.sealed_value),
    keyVersion: row.key_version,
    rootTerm: row.root_term,
  };
}

function toWrap(row: WrapRow): WrappingTokenRecord {
  return {
    idHash: Buffer.from(row.id_hash),
    accessor: row.accessor,
    env: row.env as Environment,
    creationPath: row.creation_path,
    ttlSeconds: row.ttl_seconds,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    sealedPayload: row.sealed_payload === null ? null : Buffer.from(row.sealed_payload),
    keyVersion: row.key_version,
    rootTerm: row.root_term,
    usedAt: row.used_at === null ? null : new Date(row.used_at),
  };
}

const VERSION_COLUMNS = 'version, sealed_value, key_version, root_term, created_at, deletion_time, destroyed';

export class SqliteSecretStore implements SecretStore, WrappingTokenStore {
  constructor(private readonly db: SqliteConnection) {}

  private config(env: string): KvEngineConfig {
    return toConfig(this.db.prepare('SELECT max_versions, cas_required, delete_version_after_s FROM kv_config WHERE env = ?').get(env) as ConfigRow | undefined);
  }

  private meta(env: string, path: string): MetaRow | undefined {
    return this.db.prepare('SELECT * FROM kv_metadata WHERE env = ? AND path = ?').get(env, path) as MetaRow | undefined;
  }

  /** Deletes versions beyond the effective max_versions and records the oldest kept. */
  private prune(env: string, path: string, at: number): void {
    const row = this.meta(env, path);
    if (!row) return;
    const max = effectiveMaxVersions(this.config(env), toMeta(row));
    const cutoff = row.current_version - max; // versions ≤ cutoff go
    if (cutoff < 1) return;
    const removed = this.db.prepare('DELETE FROM kv_versions WHERE env = ? AND path = ? AND version <= ?').run(env, path, cutoff);
    if (removed.changes > 0 || row.oldest_version < cutoff + 1) {
      this.db.prepare('UPDATE kv_metadata SET oldest_version = ?, updated_at = ? WHERE env = ? AND path = ?').run(cutoff + 1, at, env, path);
    }
  }

  async getKvConfig(env: Environment): Promise<KvEngineConfig> {
    return withSqliteErrors('getKvConfig', () => this.config(env));
  }

  async putKvConfig(env: Environment, config: KvEngineConfig, at: Date): Promise<void> {
    withSqliteErrors('putKvConfig', () => {
      this.db
        .prepare(
          `INSERT INTO kv_config (env, max_versions, cas_required, delete_version_after_s, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (env) DO UPDATE SET max_versions = excluded.max_versions, cas_required = excluded.cas_required,
             delete_version_after_s = excluded.delete_version_after_s, updated_at = excluded.updated_at`,
        )
        .run(env, nonNegativeInt(config.maxVersions, 'max_versions'), config.casRequired ? 1 : 0, nonNegativeInt(config.deleteVersionAfterSeconds, 'delete_version_after'), ms(at));
    });
  }

  async getMetadata(env: Environment, path: SecretPath): Promise<KvMetadataWithVersions | null> {
    return withSqliteErrors('getMetadata', () =>
      this.db
        .transaction(() => {
          const row = this.meta(env, path);
          if (!row) return null;
          const versions = this.db
            .prepare(`SELECT ${VERSION_COLUMNS} FROM kv_versions WHERE env = ? AND path = ? ORDER BY version`)
            .all(env, path) as VersionRow[];
          return { ...toMeta(row), versions: versions.map(toVersionMeta) };
        })
        .deferred(),
    );
  }

  async getVersion(env: Environment, path: SecretPath, version: number | null): Promise<{ metadata: KvMetadata; version: KvVersionRecord | null } | null> {
    return withSqliteErrors('getVersion', () =>
      this.db
        .transaction(() => {
          const row = this.meta(env, path);
          if (!row) return null;
          const wanted = version === null || version === 0 ? row.current_version : version;
          const v = this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM kv_versions WHERE env = ? AND path = ? AND version = ?`).get(env, path, wanted) as
            | VersionRow
            | undefined;
          return { metadata: toMeta(row), version: v ? toVersion(v) : null };
        })
        .deferred(),
    );
  }

  async putVersion(v: NewKvVersion): Promise<PutVersionResult> {
    return withSqliteErrors('putVersion', () =>
      this.db
        .transaction((): PutVersionResult => {
          const at = ms(v.createdAt);
          const config = this.config(v.env);
          let row = this.meta(v.env, v.path);
          const current = row?.current_version ?? 0;
          if (v.cas !== undefined) {
            if (v.cas !== current) throw conflict('check-and-set parameter did not match the current version');
          } else if (config.casRequired || row?.cas_required === 1) {
            throw conflict('check-and-set parameter required for this call');
          }
          if (v.version !== current + 1) return { ok: false, reason: 'stale', currentVersion: current };
          if (!row) {
            this.db
              .prepare(
                `INSERT INTO kv_metadata (env, path, current_version, oldest_version, max_versions, cas_required, delete_version_after_s, custom_metadata, created_at, updated_at)
                 VALUES (?, ?, 0, 0, 0, 0, 0, NULL, ?, ?)`,
              )
              .run(v.env, v.path, at, at);
            row = this.meta(v.env, v.path) as MetaRow;
          }
          const deleteAfter = effectiveDeleteAfterSeconds(config, toMeta(row));
          const deletionTime = deleteAfter > 0 ? at + deleteAfter * 1000 : null;
          this.db
            .prepare(`INSERT INTO kv_versions (env, path, ${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`)
            .run(v.env, v.path, v.version, v.sealedValue, v.keyVersion, v.rootTerm, at, deletionTime);
          this.db.prepare('UPDATE kv_metadata SET current_version = ?, updated_at = ? WHERE env = ? AND path = ?').run(v.version, at, v.env, v.path);
          this.prune(v.env, v.path, at);
          const meta = toMeta(this.meta(v.env, v.path) as MetaRow);
          return { ok: true, metadata: meta, version: { version: v.version, createdAt: new Date(at), deletionTime: deletionTime === null ? null : new Date(deletionTime), destroyed: false } };
        })
        .immediate(),
    );
  }

  async writeMetadata(env: Environment, path: SecretPath, patch: KvMetadataPatch, at: Date): Promise<KvMetadata> {
    return withSqliteErrors('writeMetadata', () =>
      this.db
        .transaction(() => {
          const t = ms(at);
          if (!this.meta(env, path)) {
            this.db
              .prepare(
                `INSERT INTO kv_metadata (env, path, current_version, oldest_version, max_versions, cas_required, delete_version_after_s, custom_metadata, created_at, updated_at)
                 VALUES (?, ?, 0, 0, 0, 0, 0, NULL, ?, ?)`,
              )
              .run(env, path, t, t);
          }
          const sets: string[] = ['updated_at = ?'];
          const values: unknown[] = [t];
          if (patch.maxVersions !== undefined) {
            sets.push('max_versions = ?');
            values.push(nonNegativeInt(patch.maxVersions, 'max_versions'));
          }
          if (patch.casRequired !== undefined) {
            sets.push('cas_required = ?');
            values.push(patch.casRequired ? 1 : 0);
          }
          if (patch.deleteVersionAfterSeconds !== undefined) {
            sets.push('delete_version_after_s = ?');
            values.push(nonNegativeInt(patch.deleteVersionAfterSeconds, 'delete_version_after'));
          }
          if (patch.customMetadata !== undefined) {
            sets.push('custom_metadata = ?');
            values.push(patch.customMetadata === null ? null : JSON.stringify(patch.customMetadata));
          }
          this.db.prepare(`UPDATE kv_metadata SET ${sets.join(', ')} WHERE env = ? AND path = ?`).run(...values, env, path);
          this.prune(env, path, t);
          return toMeta(this.meta(env, path) as MetaRow);
        })
        .immediate(),
    );
  }

  async deleteVersions(env: Environment, path: SecretPath, versions: KvVersionSelector, at: Date): Promise<void> {
    withSqliteErrors('deleteVersions', () =>
      this.db
        .transaction(() => {
          const row = this.meta(env, path);
          if (!row) return;
          const list = versions === 'latest' ? [row.current_version] : versions;
          const t = ms(at);
          const stmt = this.db.prepare(
            `UPDATE kv_versions SET deletion_time = ? WHERE env = ? AND path = ? AND version = ? AND destroyed = 0
               AND (deletion_time IS NULL OR deletion_time > ?)`,
          );
          for (const version of list) stmt.run(t, env, path, version, t);
          this.db.prepare('UPDATE kv_metadata SET updated_at = ? WHERE env = ? AND path = ?').run(t, env, path);
        })
        .immediate(),
    );
  }

  async undeleteVersions(env: Environment, path: SecretPath, versions: readonly number[], at: Date): Promise<void> {
    withSqliteErrors('undeleteVersions', () =>
      this.db
        .transaction(() => {
          const stmt = this.db.prepare('UPDATE kv_versions SET deletion_time = NULL WHERE env = ? AND path = ? AND version = ? AND destroyed = 0');
          for (const version of versions) stmt.run(env, path, version);
          this.db.prepare('UPDATE kv_metadata SET updated_at = ? WHERE env = ? AND path = ?').run(ms(at), env, path);
        })
        .immediate(),
    );
  }

  async destroyVersions(env: Environment, path: SecretPath, versions: readonly number[], at: Date): Promise<void> {
    withSqliteErrors('destroyVersions', () =>
      this.db
        .transaction(() => {
          const stmt = this.db.prepare('UPDATE kv_versions SET destroyed = 1, sealed_value = NULL WHERE env = ? AND path = ? AND version = ?');
          for (const version of versions) stmt.run(env, path, version);
          this.db.prepare('UPDATE kv_metadata SET updated_at = ? WHERE env = ? AND path = ?').run(ms(at), env, path);
        })
        .immediate(),
    );
  }

  async deleteSecret(env: Environment, path: SecretPath): Promise<boolean> {
    return withSqliteErrors('deleteSecret', () =>
      this.db
        .transaction(() => {
          // Explicit delete of the versions first: their material must go even if foreign keys were off.
          this.db.prepare('DELETE FROM kv_versions WHERE env = ? AND path = ?').run(env, path);
          return this.db.prepare('DELETE FROM kv_metadata WHERE env = ? AND path = ?').run(env, path).changes > 0;
        })
        .immediate(),
    );
  }

  async listChildren(env: Environment, prefix: string): Promise<string[]> {
    return withSqliteErrors('listChildren', () => {
      // Secret paths are ASCII below 0x7f (types.ts), so [prefix, prefix + '\x7f') is exactly "starts with prefix".
      const rows = this.db.prepare('SELECT path FROM kv_metadata WHERE env = ? AND path >= ? AND path < ? ORDER BY path').all(env, prefix, `${prefix}\x7f`) as Array<{
        path: string;
      }>;
      const out = new Set<string>();
      for (const { path } of rows) {
        const rest = path.slice(prefix.length);
        if (rest === '') continue;
        const slash = rest.indexOf('/');
        out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      return [...out].sort();
    });
  }

  // ---- bulk rewrap: scan by key version, compare-and-set re-seal ----

  async listSealedVersions(env: Environment, belowKeyVersion: number, after: KvRewrapCursor | null, limit: number): Promise<KvSealedRow[]> {
    return withSqliteErrors('listSealedVersions', () => {
      const rows = (
        after === null
          ? this.db
              .prepare('SELECT path, version, key_version, sealed_value FROM kv_versions WHERE env = ? AND key_version < ? AND sealed_value IS NOT NULL ORDER BY path, version LIMIT ?')
              .all(env, belowKeyVersion, limit)
          : this.db
              .prepare(
                `SELECT path, version, key_version, sealed_value FROM kv_versions WHERE env = ? AND key_version < ? AND sealed_value IS NOT NULL
                   AND (path > ? OR (path = ? AND version > ?)) ORDER BY path, version LIMIT ?`,
              )
              .all(env, belowKeyVersion, after.path, after.path, after.version, limit)
      ) as Array<{ path: string; version: number; key_version: number; sealed_value: Buffer }>;
      return rows.map((r) => ({ path: r.path as SecretPath, version: r.version, keyVersion: r.key_version, sealedValue: Buffer.from(r.sealed_value) }));
    });
  }

  async countSealedVersions(env: Environment, belowKeyVersion: number): Promise<number> {
    return withSqliteErrors('countSealedVersions', () => {
      const r = this.db.prepare('SELECT COUNT(*) AS n FROM kv_versions WHERE env = ? AND key_version < ? AND sealed_value IS NOT NULL').get(env, belowKeyVersion) as { n: number };
      return r.n;
    });
  }

  async replaceSealedValue(env: Environment, path: SecretPath, version: number, expectedKeyVersion: number, newSealed: Buffer, newKeyVersion: number, newRootTerm?: number): Promise<boolean> {
    return withSqliteErrors('replaceSealedValue', () => {
      const r = this.db
        .prepare(
          `UPDATE kv_versions SET sealed_value = ?, key_version = ?, root_term = COALESCE(?, root_term)
             WHERE env = ? AND path = ? AND version = ? AND key_version = ? AND sealed_value IS NOT NULL AND destroyed = 0`,
        )
        .run(newSealed, newKeyVersion, newRootTerm ?? null, env, path, version, expectedKeyVersion);
      return r.changes === 1;
    });
  }

  async usedKeyVersions(env: Environment): Promise<Set<number>> {
    return withSqliteErrors('usedKeyVersions', () => {
      const rows = this.db.prepare('SELECT DISTINCT key_version FROM kv_versions WHERE env = ? AND sealed_value IS NOT NULL').all(env) as Array<{ key_version: number }>;
      return new Set(rows.map((r) => r.key_version));
    });
  }

  async listSealedWrappingTokens(env: Environment, belowKeyVersion: number, afterAccessor: string | null, limit: number): Promise<WrappingSealedRow[]> {
    return withSqliteErrors('listSealedWrappingTokens', () => {
      const rows = this.db
        .prepare(
          `SELECT accessor, env, key_version, sealed_payload FROM wrapping_tokens
             WHERE env = ? AND key_version < ? AND sealed_payload IS NOT NULL AND used_at IS NULL AND accessor > ? ORDER BY accessor LIMIT ?`,
        )
        .all(env, belowKeyVersion, afterAccessor ?? '', limit) as Array<{ accessor: string; env: string; key_version: number; sealed_payload: Buffer }>;
      return rows.map((r) => ({ accessor: r.accessor, env: r.env as Environment, keyVersion: r.key_version, sealedPayload: Buffer.from(r.sealed_payload) }));
    });
  }

  async countSealedWrappingTokens(env: Environment, belowKeyVersion: number): Promise<number> {
    return withSqliteErrors('countSealedWrappingTokens', () => {
      const r = this.db
        .prepare('SELECT COUNT(*) AS n FROM wrapping_tokens WHERE env = ? AND key_version < ? AND sealed_payload IS NOT NULL AND used_at IS NULL')
        .get(env, belowKeyVersion) as { n: number };
      return r.n;
    });
  }

  async replaceWrappingPayload(accessor: string, expectedKeyVersion: number, newSealed: Buffer, newKeyVersion: number, newRootTerm: number): Promise<boolean> {
    return withSqliteErrors('replaceWrappingPayload', () => {
      const r = this.db
        .prepare(
          `UPDATE wrapping_tokens SET sealed_payload = ?, key_version = ?, root_term = ?
             WHERE accessor = ? AND key_version = ? AND sealed_payload IS NOT NULL AND used_at IS NULL`,
        )
        .run(newSealed, newKeyVersion, newRootTerm, accessor, expectedKeyVersion);
      return r.changes === 1;
    });
  }

  async usedWrappingKeyVersions(env: Environment): Promise<Set<number>> {
    return withSqliteErrors('usedWrappingKeyVersions', () => {
      const rows = this.db
        .prepare('SELECT DISTINCT key_version FROM wrapping_tokens WHERE env = ? AND sealed_payload IS NOT NULL AND used_at IS NULL')
        .all(env) as Array<{ key_version: number }>;
      return new Set(rows.map((r) => r.key_version));
    });
  }

  // ---- wrapping tokens ----

  async putWrappingToken(t: NewWrappingToken): Promise<void> {
    withSqliteErrors('putWrappingToken', () => {
      this.db
        .prepare(
          `INSERT INTO wrapping_tokens (id_hash, accessor, env, creation_path, ttl_seconds, created_at, expires_at, sealed_payload, key_version, root_term, used_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
        )
        .run(t.idHash, t.accessor, t.env, t.creationPath, t.ttlSeconds, ms(t.createdAt), ms(t.expiresAt), t.sealedPayload, t.keyVersion, t.rootTerm);
    });
  }

  async getWrappingToken(idHash: Buffer): Promise<WrappingTokenRecord | null> {
    return withSqliteErrors('getWrappingToken', () => {
      const row = this.db.prepare('SELECT * FROM wrapping_tokens WHERE id_hash = ?').get(idHash) as WrapRow | undefined;
      return row ? toWrap(row) : null;
    });
  }

  async consumeWrappingToken(idHash: Buffer, at: Date): Promise<ConsumeWrappingResult> {
    return withSqliteErrors('consumeWrappingToken', () =>
      this.db
        .transaction((): ConsumeWrappingResult => {
          const row = this.db.prepare('SELECT * FROM wrapping_tokens WHERE id_hash = ?').get(idHash) as WrapRow | undefined;
          if (!row) return { status: 'missing' };
          if (row.used_at !== null) return { status: 'used', record: toWrap(row) };
          const t = ms(at);
          if (row.expires_at <= t) {
            this.db.prepare('UPDATE wrapping_tokens SET sealed_payload = NULL WHERE id_hash = ?').run(idHash);
            return { status: 'expired', record: { ...toWrap(row), sealedPayload: null } };
          }
          this.db.prepare('UPDATE wrapping_tokens SET used_at = ?, sealed_payload = NULL WHERE id_hash = ?').run(t, idHash);
          return { status: 'ok', record: { ...toWrap(row), usedAt: new Date(t) } };
        })
        .immediate(),
    );
  }

  async purgeWrappingTokens(before: Date): Promise<number> {
    return withSqliteErrors('purgeWrappingTokens', () => this.db.prepare('DELETE FROM wrapping_tokens WHERE expires_at < ?').run(ms(before)).changes);
  }
}
