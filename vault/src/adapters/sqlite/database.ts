/**
 * One SQLite database file per Keyward data dir, shared by every Sqlite* adapter.
 *
 * Durability: WAL with synchronous=FULL, so a write acknowledged to a client survives a process
 * kill and an OS crash (NORMAL would survive only the former). busy_timeout lets several Keyward
 * processes (`--workers N`) share the file; writers use BEGIN IMMEDIATE so a read-then-write
 * transaction never upgrades into SQLITE_BUSY half way.
 *
 * Migrations are numbered files in ./migrations (`NNN-name.ts`, each exporting `migration`),
 * applied in order inside one transaction each and recorded in `schema_migrations`. They are
 * discovered from the folder so feature modules add a file rather than edit a shared list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';

export interface Migration {
  readonly id: number;
  readonly name: string;
  /** SQL run once, in a transaction, in id order. */
  readonly up: string;
}

export type SqliteConnection = Database.Database;

const MIGRATION_FILE = /^(\d{3})-[a-z0-9-]+\.(js|ts)$/;

async function loadMigrations(): Promise<Migration[]> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
  const files = fs.readdirSync(dir).filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { migration?: Migration };
    if (!mod.migration) throw new Error(`migration file ${file} exports no 'migration'`);
    migrations.push(mod.migration);
  }
  const ids = migrations.map((m) => m.id);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate migration ids: ${ids.join(',')}`);
  return migrations.sort((a, b) => a.id - b.id);
}

export interface OpenOptions {
  /** Database file path, or ':memory:' for unit tests. */
  readonly file: string;
  readonly readonly?: boolean;
}

export async function openDatabase(options: OpenOptions): Promise<SqliteConnection> {
  if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true, mode: 0o700 });
  const db = new Database(options.file, { readonly: options.readonly ?? false });
  db.pragma('busy_timeout = 10000');
  if (options.file !== ':memory:') await enableWal(db);
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  if (!options.readonly) await migrate(db);
  if (options.file !== ':memory:') {
    try {
      fs.chmodSync(options.file, 0o600);
    } catch {
      // best effort: the file may belong to another user in a shared deployment
    }
  }
  return db;
}

/**
 * Switching a fresh file to WAL needs an exclusive lock and SQLite answers SQLITE_BUSY at once
 * (busy_timeout does not apply) when another process opens the same new file at that moment.
 */
async function enableWal(db: SqliteConnection): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      const busy = e instanceof Database.SqliteError && e.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.floor(Math.random() * 20)));
    }
  }
}

async function migrate(db: SqliteConnection): Promise<void> {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const migrations = await loadMigrations();
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: number }>).map((r) => r.id));
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    // IMMEDIATE: two processes starting together must not both apply the same migration.
    const run = db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').get(m.id);
      if (again) return;
      db.exec(m.up);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
    });
    run.immediate();
  }
}

/** Flush the WAL into the main file and close; used on graceful shutdown. */
export function closeDatabase(db: SqliteConnection): void {
  if (!db.open) return;
  try {
    if (!db.readonly && db.pragma('journal_mode', { simple: true }) === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
