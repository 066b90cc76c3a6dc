/**
 * Backup and restore of the SQLite store (`keyward backup` / `keyward restore`).
 *
 * What a backup holds: the store only — key-version blobs wrapped under the HSM's root keys, tokens'
 * metadata, policies, audit. No key material in clear: a backup is useless without the HSM token
 * (back that up separately, at the same time; see NOTES.md).
 *
 * Invariants:
 * - Online and consistent: better-sqlite3's `db.backup()` (SQLite's online backup API) copies one
 *   transactionally consistent snapshot while the server keeps serving.
 * - The snapshot is checked before it is handed out (`PRAGMA integrity_check`) and carries its schema
 *   version (highest applied migration id) and SHA-256.
 * - Restore is offline (server stopped), verifies integrity and that this build knows every migration
 *   the backup has applied (a newer backup is refused), never overwrites a store without `force`, keeps
 *   the replaced file beside it, and removes the stale WAL/SHM files of the replaced store, which would
 *   otherwise be replayed over the restored file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { KeywardError } from '../core/errors.js';
import type { SqliteConnection } from '../adapters/sqlite/database.js';

export const BACKUP_FORMAT = 'keyward-sqlite-backup-v1';

export interface Snapshot {
  readonly bytes: Buffer;
  readonly sha256: string;
  readonly schemaVersion: number;
  readonly createdAt: Date;
}

function schemaVersionOf(db: Database.Database): number {
  const row = db.prepare('SELECT max(id) AS v FROM schema_migrations').get() as { v: number | null } | undefined;
  return row?.v ?? 0;
}

function checkIntegrity(db: Database.Database): void {
  const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
  if (rows.length !== 1 || rows[0]?.integrity_check !== 'ok') throw new KeywardError('ERR_INTERNAL', 'backup failed its integrity check');
}

/** A consistent online snapshot of the open store. */
export async function snapshotDatabase(db: SqliteConnection, now: Date = new Date()): Promise<Snapshot> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-backup-'));
  const file = path.join(dir, 'snapshot.db');
  try {
    await db.backup(file);
    const copy = new Database(file, { readonly: true });
    let schemaVersion: number;
    try {
      checkIntegrity(copy);
      schemaVersion = schemaVersionOf(copy);
    } finally {
      copy.close();
    }
    const bytes = fs.readFileSync(file);
    return { bytes, sha256: crypto.createHash('sha256').update(bytes).digest('hex'), schemaVersion, createdAt: now };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  /** The backup file (a SQLite database written by snapshotDatabase). */
  readonly from: string;
  /** The store to restore into, e.g. <data-dir>/keyward.db. */
  readonly target: string;
  /** Highest migration id this build knows. */
  readonly knownSchemaVersion: number;
  /** Replace an existing store (it is kept as <target>.pre-restore-<time>). */
  readonly force?: boolean;
  readonly now?: Date;
}

export interface RestoreResult {
  readonly schemaVersion: number;
  readonly keptPrevious: string | null;
  readonly sha256: string;
}

export function restoreDatabase(o: RestoreOptions): RestoreResult {
  if (!fs.existsSync(o.from)) throw new KeywardError('ERR_NOT_FOUND', 'backup file not found');
  const bytes = fs.readFileSync(o.from);
  let schemaVersion: number;
  let probe: Database.Database;
  try {
    probe = new Database(o.from, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new KeywardError('ERR_INVALID_INPUT', 'backup file is not a Keyward store', { cause: e });
  }
  try {
    try {
      checkIntegrity(probe);
      schemaVersion = schemaVersionOf(probe);
    } catch (e) {
      if (e instanceof KeywardError) throw e;
      throw new KeywardError('ERR_INVALID_INPUT', 'backup file is not a Keyward store', { cause: e });
    }
  } finally {
    probe.close();
  }
  if (schemaVersion < 1) throw new KeywardError('ERR_INVALID_INPUT', 'backup file holds no Keyward schema');
  if (schemaVersion > o.knownSchemaVersion) {
    throw new KeywardError('ERR_CONFLICT', `backup schema version ${schemaVersion} is newer than this Keyward (${o.knownSchemaVersion}); restore with a newer build`);
  }
  let keptPrevious: string | null = null;
  if (fs.existsSync(o.target)) {
    if (!o.force) throw new KeywardError('ERR_CONFLICT', 'a store already exists at the target; stop the server and pass --force to replace it');
    keptPrevious = `${o.target}.pre-restore-${(o.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(o.target, keptPrevious);
  }
  for (const suffix of ['-wal', '-shm']) {
    const stale = `${o.target}${suffix}`;
    if (fs.existsSync(stale)) {
      if (keptPrevious) fs.renameSync(stale, `${keptPrevious}${suffix}`);
      else fs.rmSync(stale);
    }
  }
  fs.mkdirSync(path.dirname(o.target), { recursive: true, mode: 0o700 });
  const tmp = `${o.target}.restoring`;
  fs.writeFileSync(tmp, bytes, { mode: 0o600 });
  const fd = fs.openSync(tmp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, o.target);
  return { schemaVersion, keptPrevious, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}

/** Highest migration id shipped with this build (from the migrations folder). */
export function knownSchemaVersion(): number {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'adapters', 'sqlite', 'migrations');
  const ids = fs
    .readdirSync(dir)
    .map((f) => /^(\d{3})-[a-z0-9-]+\.(js|ts)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && !m[0].endsWith('.d.ts'))
    .map((m) => Number(m[1]));
  return Math.max(0, ...ids);
}
