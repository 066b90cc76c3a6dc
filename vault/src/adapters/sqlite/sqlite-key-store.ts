/**
 * SqliteKeyStore: the embedded KeyStore adapter (schema in migrations/001-transit.ts).
 *
 * Invariants kept here (see the port header; each is checked by test/contract/key-store.contract.ts):
 * - Every read-then-write runs inside `BEGIN IMMEDIATE` (better-sqlite3 `.immediate()`), so the write
 *   lock is taken before the read and two processes on one file cannot both read latest=N and both
 *   write N+1; the primary key (env, name, version) would reject the second anyway.
 * - `appendKeyVersion` inserts latest+1 and bumps latest_version/last_rotated_at in one transaction.
 * - Reads that touch two tables (getKey) run in one deferred transaction: one consistent snapshot.
 * - Durability comes from the connection (WAL + synchronous=FULL, set by openDatabase): when a method
 *   resolves, its transaction has committed.
 * - Material erasure is final: a version or key set to 'destroyed' has its blobs set to NULL and can
 *   never leave that state; a root term that still wraps a live blob cannot be destroyed.
 * - Records are built fresh from rows (Buffers copied), so callers cannot mutate stored state.
 * - Lifecycle (migration 007): `appendKeyVersionIfDue`, `transitionKeyState` and `acquireLease` each
 *   re-read and write inside one IMMEDIATE transaction, so racing processes serialise on the write lock.
 *
 * The connection is shared with the other Sqlite* adapters: `close()` only retires this object and
 * never closes the connection. Whoever opened it (main.ts, a test) closes it with `closeDatabase`.
 */
import type { Statement, Transaction } from 'better-sqlite3';
import { KeywardError, conflict, invalidInput, notFound } from '../../core/errors.js';
import type {
  KeyConfig,
  KeyState,
  KeyStore,
  KeyType,
  KeyVersionRecord,
  NewTransitKey,
  RootKeyRecord,
  RootKeyState,
  RootRotationRecord,
  TransitKeyRecord,
  VersionState,
} from '../../core/ports/key-store.js';
import type { Environment, KeyName, KeyVersion } from '../../core/types.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface KeyRow {
  env: string;
  name: string;
  type: string;
  derived: number;
  state: string;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: number;
  exportable: number;
  allow_plaintext_backup: number;
  auto_rotate_period_seconds: number;
  max_versions: number;
  version_ttl_seconds: number;
  latest_version: number;
  min_available_version: number;
  created_at: number;
  updated_at: number;
  deletion_deadline: number | null;
  last_rotated_at: number;
}

interface VersionRow {
  version: number;
  wrapped_kek: Buffer | null;
  root_term: number;
  state: string;
  created_at: number;
}

interface RotationRow {
  env: string;
  from_term: number;
  to_term: number;
  total: number;
  done: number;
  started_at: number;
  finished_at: number | null;
}

interface RootRow {
  env: string;
  term: number;
  state: string;
  installed_at: number;
  retired_at: number | null;
}

/** Config field → column; the one mapping used for insert, patch and read. */
const CONFIG_COLUMNS = {
  minDecryptionVersion: 'min_decryption_version',
  minEncryptionVersion: 'min_encryption_version',
  deletionAllowed: 'deletion_allowed',
  exportable: 'exportable',
  allowPlaintextBackup: 'allow_plaintext_backup',
  autoRotatePeriodSeconds: 'auto_rotate_period_seconds',
  maxVersions: 'max_versions',
  versionTtlSeconds: 'version_ttl_seconds',
} as const satisfies Record<keyof KeyConfig, keyof KeyRow>;

const BOOLEAN_CONFIG: ReadonlySet<keyof KeyConfig> = new Set(['deletionAllowed', 'exportable', 'allowPlaintextBackup']);

const ms = (d: Date): number => {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw invalidInput('invalid timestamp');
  return t;
};
const msOrNull = (d: Date | null): number | null => (d === null ? null : ms(d));

function checkTerm(term: number): void {
  if (!Number.isSafeInteger(term) || term < 0) throw invalidInput('invalid root term');
}

/** Validates a config patch and returns column → stored value for the fields it sets. */
export function configPatchToColumns(patch: Partial<KeyConfig>): Map<string, number> {
  const columns = new Map<string, number>();
  for (const field of Object.keys(CONFIG_COLUMNS) as Array<keyof KeyConfig>) {
    const value = patch[field];
    if (value === undefined) continue;
    if (BOOLEAN_CONFIG.has(field)) {
      if (typeof value !== 'boolean') throw invalidInput(`invalid ${field}`);
      columns.set(CONFIG_COLUMNS[field], value ? 1 : 0);
    } else {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalidInput(`invalid ${field}`);
      columns.set(CONFIG_COLUMNS[field], value);
    }
  }
  return columns;
}

function toVersion(row: VersionRow): KeyVersionRecord {
  return {
    version: row.version as KeyVersion,
    wrappedKek: row.wrapped_kek === null ? null : Buffer.from(row.wrapped_kek),
    rootTerm: row.root_term,
    createdAt: new Date(row.created_at),
    state: row.state as VersionState,
  };
}

function toKey(row: KeyRow, versions: VersionRow[]): TransitKeyRecord {
  return {
    env: row.env as Environment,
    name: row.name as KeyName,
    type: row.type as KeyType,
    derived: row.derived === 1,
    state: row.state as KeyState,
    config: {
      minDecryptionVersion: row.min_decryption_version,
      minEncryptionVersion: row.min_encryption_version,
      deletionAllowed: row.deletion_allowed === 1,
      exportable: row.exportable === 1,
      allowPlaintextBackup: row.allow_plaintext_backup === 1,
      autoRotatePeriodSeconds: row.auto_rotate_period_seconds,
      maxVersions: row.max_versions,
      versionTtlSeconds: row.version_ttl_seconds,
    },
    latestVersion: row.latest_version,
    minAvailableVersion: row.min_available_version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    versions: versions.map(toVersion),
    deletionDeadline: row.deletion_deadline === null ? null : new Date(row.deletion_deadline),
    lastRotatedAt: new Date(row.last_rotated_at),
  };
}

function toRoot(row: RootRow): RootKeyRecord {
  return {
    env: row.env as Environment,
    term: row.term,
    state: row.state as RootKeyState,
    installedAt: new Date(row.installed_at),
    retiredAt: row.retired_at === null ? null : new Date(row.retired_at),
  };
}

export class SqliteKeyStore implements KeyStore {
  private closed = false;

  private readonly st: {
    selKey: Statement<[string, string], KeyRow>;
    selVersions: Statement<[string, string, number], VersionRow>;
    listKeys: Statement<[string], { name: string }>;
    insKey: Statement<unknown[]>;
    insVersion: Statement<unknown[]>;
    bumpLatest: Statement<unknown[]>;
    setKeyState: Statement<unknown[]>;
    destroyAllVersions: Statement<[string, string]>;
    selVersionState: Statement<[string, string, number], { state: string }>;
    setVersionState: Statement<unknown[]>;
    destroyVersion: Statement<[string, string, number]>;
    touchKey: Statement<[number, string, string]>;
    trimRows: Statement<[string, string, number]>;
    setMinAvailable: Statement<[number, number, string, string]>;
    deleteKey: Statement<[string, string]>;
    activeRoot: Statement<[string], RootRow>;
    listRoots: Statement<[string], RootRow>;
    putRoot: Statement<unknown[]>;
    selRoot: Statement<[string, number], RootRow>;
    setRootState: Statement<unknown[]>;
    anyWrappedUnder: Statement<[string, number], { one: number }>;
    wrappedUnder: Statement<[string, number, number], { name: string; version: number; wrapped_kek: Buffer }>;
    replaceKek: Statement<unknown[]>;
    countWrappedUnder: Statement<[string, number], { n: number }>;
    putRotation: Statement<unknown[]>;
    getRotation: Statement<[string], RotationRow>;
    selLease: Statement<[string], { holder: string; expires_at: number }>;
    putLease: Statement<[string, string, number]>;
    releaseLease: Statement<[string, string]>;
  };

  private readonly readKeyTx: Transaction<(env: string, name: string) => TransitKeyRecord | null>;
  private readonly createKeyTx: Transaction<(key: NewTransitKey) => boolean>;
  private readonly appendTx: Transaction<(env: string, name: string, wrappedKek: Buffer, rootTerm: number, at: number) => number>;
  private readonly updateConfigTx: Transaction<(env: string, name: string, columns: Map<string, number>, at: number) => TransitKeyRecord>;
  private readonly setKeyStateTx: Transaction<(env: string, name: string, state: KeyState, deadline: number | null, at: number) => void>;
  private readonly setVersionStateTx: Transaction<(env: string, name: string, version: number, state: VersionState, at: number) => void>;
  private readonly trimTx: Transaction<(env: string, name: string, min: number, at: number) => void>;
  private readonly setRootStateTx: Transaction<(env: string, term: number, state: RootKeyState, at: number) => void>;
  private readonly appendIfDueTx: Transaction<(env: string, name: string, wrappedKek: Buffer, rootTerm: number, at: number, dueBefore: number) => number | null>;
  private readonly transitionTx: Transaction<(env: string, name: string, from: readonly string[], to: KeyState, deadline: number | null, at: number) => boolean>;
  private readonly leaseTx: Transaction<(name: string, holder: string, now: number, until: number) => boolean>;

  constructor(private readonly db: SqliteConnection) {
    const p = <T extends unknown[] = unknown[], R = unknown>(sql: string): Statement<T, R> => db.prepare<T, R>(sql);
    this.st = {
      selKey: p('SELECT * FROM transit_keys WHERE env = ? AND name = ?'),
      selVersions: p(
        `SELECT version, wrapped_kek, root_term, state, created_at FROM transit_key_versions
         WHERE env = ? AND name = ? AND version >= ? ORDER BY version`,
      ),
      listKeys: p('SELECT name FROM transit_keys WHERE env = ? ORDER BY name'),
      insKey: p(
        `INSERT INTO transit_keys (env, name, type, derived, state, ${Object.values(CONFIG_COLUMNS).join(', ')},
           latest_version, min_available_version, created_at, updated_at, deletion_deadline, last_rotated_at)
         VALUES (?, ?, ?, ?, 'active', ${Object.values(CONFIG_COLUMNS).map(() => '?').join(', ')}, 1, 1, ?, ?, NULL, ?)
         ON CONFLICT (env, name) DO NOTHING`,
      ),
      insVersion: p(
        `INSERT INTO transit_key_versions (env, name, version, wrapped_kek, root_term, state, created_at)
         VALUES (?, ?, ?, ?, ?, 'active', ?)`,
      ),
      bumpLatest: p('UPDATE transit_keys SET latest_version = ?, last_rotated_at = ?, updated_at = ? WHERE env = ? AND name = ?'),
      setKeyState: p('UPDATE transit_keys SET state = ?, deletion_deadline = ?, updated_at = ? WHERE env = ? AND name = ?'),
      destroyAllVersions: p("UPDATE transit_key_versions SET wrapped_kek = NULL, state = 'destroyed' WHERE env = ? AND name = ?"),
      selVersionState: p('SELECT state FROM transit_key_versions WHERE env = ? AND name = ? AND version = ?'),
      setVersionState: p('UPDATE transit_key_versions SET state = ? WHERE env = ? AND name = ? AND version = ?'),
      destroyVersion: p(
        "UPDATE transit_key_versions SET wrapped_kek = NULL, state = 'destroyed' WHERE env = ? AND name = ? AND version = ?",
      ),
      touchKey: p('UPDATE transit_keys SET updated_at = ? WHERE env = ? AND name = ?'),
      trimRows: p('DELETE FROM transit_key_versions WHERE env = ? AND name = ? AND version < ?'),
      setMinAvailable: p('UPDATE transit_keys SET min_available_version = ?, updated_at = ? WHERE env = ? AND name = ?'),
      deleteKey: p('DELETE FROM transit_keys WHERE env = ? AND name = ?'),
      activeRoot: p("SELECT * FROM root_keys WHERE env = ? AND state = 'active' ORDER BY term DESC LIMIT 1"),
      listRoots: p('SELECT * FROM root_keys WHERE env = ? ORDER BY term'),
      putRoot: p(
        `INSERT INTO root_keys (env, term, state, installed_at, retired_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (env, term) DO NOTHING`,
      ),
      selRoot: p('SELECT * FROM root_keys WHERE env = ? AND term = ?'),
      setRootState: p('UPDATE root_keys SET state = ?, retired_at = ? WHERE env = ? AND term = ?'),
      anyWrappedUnder: p(
        'SELECT 1 AS one FROM transit_key_versions WHERE env = ? AND root_term = ? AND wrapped_kek IS NOT NULL LIMIT 1',
      ),
      wrappedUnder: p(
        `SELECT name, version, wrapped_kek FROM transit_key_versions
         WHERE env = ? AND root_term = ? AND wrapped_kek IS NOT NULL ORDER BY name, version LIMIT ?`,
      ),
      replaceKek: p(
        `UPDATE transit_key_versions SET wrapped_kek = ?, root_term = ?
         WHERE env = ? AND name = ? AND version = ? AND root_term = ? AND wrapped_kek IS NOT NULL`,
      ),
      countWrappedUnder: p('SELECT count(*) AS n FROM transit_key_versions WHERE env = ? AND root_term = ? AND wrapped_kek IS NOT NULL'),
      putRotation: p(
        `INSERT INTO root_rotations (env, from_term, to_term, total, done, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (env, from_term) DO UPDATE SET to_term = excluded.to_term, total = excluded.total, done = excluded.done,
           started_at = excluded.started_at, finished_at = excluded.finished_at`,
      ),
      getRotation: p('SELECT * FROM root_rotations WHERE env = ? ORDER BY started_at DESC, from_term DESC LIMIT 1'),
      selLease: p('SELECT holder, expires_at FROM leases WHERE name = ?'),
      putLease: p(
        `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
      ),
      releaseLease: p('DELETE FROM leases WHERE name = ? AND holder = ?'),
    };
    const st = this.st;

    this.readKeyTx = db.transaction((env: string, name: string) => {
      const row = st.selKey.get(env, name);
      if (!row) return null;
      return toKey(row, st.selVersions.all(env, name, row.min_available_version));
    });

    this.createKeyTx = db.transaction((key: NewTransitKey) => {
      const created = ms(key.createdAt);
      const config = Object.keys(CONFIG_COLUMNS).map((f) => {
        const v = key.config[f as keyof KeyConfig];
        return typeof v === 'boolean' ? (v ? 1 : 0) : v;
      });
      const inserted = st.insKey.run(key.env, key.name, key.type, key.derived ? 1 : 0, ...config, created, created, created);
      if (inserted.changes === 0) return false;
      st.insVersion.run(key.env, key.name, 1, key.firstVersion.wrappedKek, key.firstVersion.rootTerm, created);
      return true;
    });

    this.appendTx = db.transaction((env: string, name: string, wrappedKek: Buffer, rootTerm: number, at: number) => {
      const row = st.selKey.get(env, name);
      if (!row) throw notFound('key not found');
      if (row.state === 'destroyed') throw conflict('key is destroyed');
      const version = row.latest_version + 1;
      st.insVersion.run(env, name, version, wrappedKek, rootTerm, at);
      st.bumpLatest.run(version, at, at, env, name);
      return version;
    });

    this.updateConfigTx = db.transaction((env: string, name: string, columns: Map<string, number>, at: number) => {
      if (!st.selKey.get(env, name)) throw notFound('key not found');
      if (columns.size > 0) {
        // Column names come from CONFIG_COLUMNS only, never from the caller, so building SQL is safe;
        // a patch is rare, so preparing per call costs nothing that matters.
        const sets = [...columns.keys()].map((c) => `${c} = ?`).join(', ');
        db.prepare(`UPDATE transit_keys SET ${sets}, updated_at = ? WHERE env = ? AND name = ?`).run(...columns.values(), at, env, name);
      } else {
        st.touchKey.run(at, env, name);
      }
      const row = st.selKey.get(env, name) as KeyRow;
      return toKey(row, st.selVersions.all(env, name, row.min_available_version));
    });

    this.setKeyStateTx = db.transaction((env: string, name: string, state: KeyState, deadline: number | null, at: number) => {
      const row = st.selKey.get(env, name);
      if (!row) throw notFound('key not found');
      if (row.state === 'destroyed' && state !== 'destroyed') throw conflict('key is destroyed');
      st.setKeyState.run(state, deadline, at, env, name);
      if (state === 'destroyed') st.destroyAllVersions.run(env, name);
    });

    this.setVersionStateTx = db.transaction((env: string, name: string, version: number, state: VersionState, at: number) => {
      const current = st.selVersionState.get(env, name, version);
      if (!current) throw notFound('key version not found');
      if (current.state === 'destroyed' && state !== 'destroyed') throw conflict('key version is destroyed');
      if (state === 'destroyed') st.destroyVersion.run(env, name, version);
      else st.setVersionState.run(state, env, name, version);
      st.touchKey.run(at, env, name);
    });

    this.trimTx = db.transaction((env: string, name: string, min: number, at: number) => {
      const row = st.selKey.get(env, name);
      if (!row) throw notFound('key not found');
      // Vault's trim rules (builtin/logical/transit/path_trim.go): never below what is already
      // trimmed, never past a version that may still be used to decrypt or encrypt.
      if (min < row.min_available_version) throw conflict('minimum available version cannot be decreased');
      if (min > row.latest_version) throw conflict('minimum available version cannot exceed the latest version');
      if (min > row.min_decryption_version) throw conflict('minimum available version cannot exceed the minimum decryption version');
      if (row.min_encryption_version !== 0 && min > row.min_encryption_version) {
        throw conflict('minimum available version cannot exceed the minimum encryption version');
      }
      st.trimRows.run(env, name, min);
      st.setMinAvailable.run(min, at, env, name);
    });

    this.setRootStateTx = db.transaction((env: string, term: number, state: RootKeyState, at: number) => {
      const row = st.selRoot.get(env, term);
      if (!row) throw notFound('root term not found');
      if (row.state === 'destroyed' && state !== 'destroyed') throw conflict('root term is destroyed');
      // Destroying a term that still wraps a live blob would lose that key version for good.
      if (state === 'destroyed' && st.anyWrappedUnder.get(env, term)) throw conflict('root term still wraps key versions');
      const ended = state === 'retired' || state === 'destroyed';
      st.setRootState.run(state, ended ? (row.retired_at ?? at) : null, env, term);
    });

    this.appendIfDueTx = db.transaction((env: string, name: string, wrappedKek: Buffer, rootTerm: number, at: number, dueBefore: number) => {
      const row = st.selKey.get(env, name);
      if (!row) throw notFound('key not found');
      // "Rotated for this period" guard: whoever appended first moved last_rotated_at past dueBefore.
      if (row.state !== 'active' || row.last_rotated_at > dueBefore) return null;
      const version = row.latest_version + 1;
      st.insVersion.run(env, name, version, wrappedKek, rootTerm, at);
      st.bumpLatest.run(version, at, at, env, name);
      return version;
    });

    this.transitionTx = db.transaction((env: string, name: string, from: readonly string[], to: KeyState, deadline: number | null, at: number) => {
      const row = st.selKey.get(env, name);
      if (!row) throw notFound('key not found');
      if (!from.includes(row.state)) return false;
      if (row.state === 'destroyed' && to !== 'destroyed') return false;
      st.setKeyState.run(to, deadline, at, env, name);
      if (to === 'destroyed') st.destroyAllVersions.run(env, name);
      return true;
    });

    this.leaseTx = db.transaction((name: string, holder: string, now: number, until: number) => {
      const row = st.selLease.get(name);
      if (row && row.holder !== holder && row.expires_at > now) return false;
      st.putLease.run(name, holder, until);
      return true;
    });
  }

  private run<T>(context: string, fn: () => T): Promise<T> {
    // The port is async; better-sqlite3 is synchronous, so errors are turned into rejections here.
    return new Promise<T>((resolve) => {
      if (this.closed) throw new KeywardError('ERR_INTERNAL', `${context}: key store closed`);
      resolve(withSqliteErrors(context, fn));
    });
  }

  getKey(env: Environment, name: KeyName): Promise<TransitKeyRecord | null> {
    return this.run('getKey', () => this.readKeyTx(env, name));
  }

  listKeys(env: Environment): Promise<KeyName[]> {
    return this.run('listKeys', () => this.st.listKeys.all(env).map((r) => r.name as KeyName));
  }

  createKey(key: NewTransitKey): Promise<boolean> {
    return this.run('createKey', () => {
      checkTerm(key.firstVersion.rootTerm);
      configPatchToColumns(key.config);
      return this.createKeyTx.immediate(key);
    });
  }

  appendKeyVersion(env: Environment, name: KeyName, wrappedKek: Buffer, rootTerm: number, createdAt: Date): Promise<KeyVersion> {
    return this.run('appendKeyVersion', () => {
      checkTerm(rootTerm);
      return this.appendTx.immediate(env, name, wrappedKek, rootTerm, ms(createdAt)) as KeyVersion;
    });
  }

  updateKeyConfig(env: Environment, name: KeyName, patch: Partial<KeyConfig>, updatedAt: Date): Promise<TransitKeyRecord> {
    return this.run('updateKeyConfig', () => this.updateConfigTx.immediate(env, name, configPatchToColumns(patch), ms(updatedAt)));
  }

  setKeyState(env: Environment, name: KeyName, state: KeyState, deletionDeadline: Date | null, updatedAt: Date): Promise<void> {
    return this.run('setKeyState', () => this.setKeyStateTx.immediate(env, name, state, msOrNull(deletionDeadline), ms(updatedAt)));
  }

  setVersionState(env: Environment, name: KeyName, version: KeyVersion, state: VersionState, updatedAt: Date): Promise<void> {
    return this.run('setVersionState', () => this.setVersionStateTx.immediate(env, name, version, state, ms(updatedAt)));
  }

  trimVersions(env: Environment, name: KeyName, minAvailableVersion: number, updatedAt: Date): Promise<void> {
    return this.run('trimVersions', () => {
      if (!Number.isSafeInteger(minAvailableVersion) || minAvailableVersion < 1) throw invalidInput('invalid minimum available version');
      this.trimTx.immediate(env, name, minAvailableVersion, ms(updatedAt));
    });
  }

  deleteKey(env: Environment, name: KeyName): Promise<boolean> {
    // One statement: atomic on its own; versions go with it by ON DELETE CASCADE.
    return this.run('deleteKey', () => this.st.deleteKey.run(env, name).changes === 1);
  }

  getActiveRoot(env: Environment): Promise<RootKeyRecord | null> {
    // During a root rotation two terms may briefly both be active; the newest one wins.
    return this.run('getActiveRoot', () => {
      const row = this.st.activeRoot.get(env);
      return row ? toRoot(row) : null;
    });
  }

  listRoots(env: Environment): Promise<RootKeyRecord[]> {
    return this.run('listRoots', () => this.st.listRoots.all(env).map(toRoot));
  }

  putRoot(env: Environment, term: number, state: RootKeyState, installedAt: Date): Promise<void> {
    // Idempotent: a re-run of an interrupted rotation must not reset a term that has moved on.
    return this.run('putRoot', () => {
      checkTerm(term);
      const at = ms(installedAt);
      this.st.putRoot.run(env, term, state, at, state === 'retired' || state === 'destroyed' ? at : null);
    });
  }

  setRootState(env: Environment, term: number, state: RootKeyState, at: Date): Promise<void> {
    return this.run('setRootState', () => this.setRootStateTx.immediate(env, term, state, ms(at)));
  }

  listVersionsWrappedUnder(env: Environment, term: number, limit: number): Promise<Array<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }>> {
    return this.run('listVersionsWrappedUnder', () => {
      if (!Number.isSafeInteger(limit) || limit < 1) throw invalidInput('invalid limit');
      return this.st.wrappedUnder.all(env, term, limit).map((r) => ({
        name: r.name as KeyName,
        version: r.version as KeyVersion,
        wrappedKek: Buffer.from(r.wrapped_kek),
      }));
    });
  }

  replaceWrappedKek(env: Environment, name: KeyName, version: KeyVersion, fromTerm: number, toTerm: number, wrappedKek: Buffer): Promise<boolean> {
    // One conditional UPDATE is the compare-and-set: it changes the row only while it is still under
    // fromTerm, so two re-wrap workers racing on one version cannot both win.
    return this.run('replaceWrappedKek', () => {
      checkTerm(toTerm);
      return this.st.replaceKek.run(wrappedKek, toTerm, env, name, version, fromTerm).changes === 1;
    });
  }

  replaceWrappedKeks(env: Environment, fromTerm: number, toTerm: number, items: ReadonlyArray<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }>): Promise<boolean[]> {
    // One transaction (one fsync) per batch: root re-wrap was bound by a commit per blob.
    return this.run('replaceWrappedKeks', () => {
      checkTerm(toTerm);
      const tx = this.db.transaction(() => items.map((i) => this.st.replaceKek.run(i.wrappedKek, toTerm, env, i.name, i.version, fromTerm).changes === 1));
      return tx.immediate();
    });
  }

  appendKeyVersionIfDue(env: Environment, name: KeyName, wrappedKek: Buffer, rootTerm: number, now: Date, dueBefore: Date): Promise<KeyVersion | null> {
    return this.run('appendKeyVersionIfDue', () => {
      checkTerm(rootTerm);
      return this.appendIfDueTx.immediate(env, name, wrappedKek, rootTerm, ms(now), ms(dueBefore)) as KeyVersion | null;
    });
  }

  transitionKeyState(env: Environment, name: KeyName, from: readonly KeyState[], to: KeyState, deletionDeadline: Date | null, at: Date): Promise<boolean> {
    return this.run('transitionKeyState', () => this.transitionTx.immediate(env, name, from, to, msOrNull(deletionDeadline), ms(at)));
  }

  countVersionsWrappedUnder(env: Environment, term: number): Promise<number> {
    return this.run('countVersionsWrappedUnder', () => this.st.countWrappedUnder.get(env, term)?.n ?? 0);
  }

  putRootRotation(r: RootRotationRecord): Promise<void> {
    return this.run('putRootRotation', () => {
      checkTerm(r.fromTerm);
      checkTerm(r.toTerm);
      this.st.putRotation.run(r.env, r.fromTerm, r.toTerm, r.total, r.done, ms(r.startedAt), msOrNull(r.finishedAt));
    });
  }

  getRootRotation(env: Environment): Promise<RootRotationRecord | null> {
    return this.run('getRootRotation', () => {
      const row = this.st.getRotation.get(env);
      if (!row) return null;
      return {
        env: row.env as Environment,
        fromTerm: row.from_term,
        toTerm: row.to_term,
        total: row.total,
        done: row.done,
        startedAt: new Date(row.started_at),
        finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
      };
    });
  }

  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return this.run('acquireLease', () => {
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw invalidInput('invalid lease ttl');
      const t = ms(now);
      return this.leaseTx.immediate(name, holder, t, t + ttlMs);
    });
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.run('releaseLease', () => {
      this.st.releaseLease.run(name, holder);
    });
  }

  /** Retires this adapter; the shared connection stays open (its opener closes it). */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
