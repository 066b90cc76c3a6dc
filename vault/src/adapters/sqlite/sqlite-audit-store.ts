/**
 * SqliteAuditStore: the audit trail's tables (migration 004) on the shared connection.
 *
 * Invariants:
 * - appendBatch runs BEGIN IMMEDIATE, reads the head (last entry, else the archive anchor) and
 *   inserts the sealed batch in the same transaction: a concurrent writer in another process waits
 *   (busy_timeout) and then sees the new head, so the chain never forks. With synchronous=FULL the
 *   commit is durable when the call returns.
 * - Failures are translated to KeywardError by code (sqlite-errors.ts); the sink maps them to
 *   ERR_AUDIT_UNAVAILABLE.
 * - `createAuditAppender` is the same write path for any connection: the audit writer worker
 *   (audit/writer) opens its own connection to the file and runs it off the event loop.
 */
import { canonicalJson, type JsonValue } from '../../audit/canonical-json.js';
import type { UnsealedBody } from '../../audit/entry-builder.js';
import { GENESIS_HASH, chainFrom } from '../../audit/chain.js';
import { ROW_FIELDS, encodeBodies, entryJson, sealedFromLinks, type BatchLinks, type EncodedRows } from '../../audit/encoded-entry.js';
import type { AuditQuery, AuditStore, ChainHead, ChainSealer, DeviceConfig, EntryPage } from '../../audit/audit-store.js';
import type { AuditCheckpoint, AuditEntryBody, ChainAnchor, StoredAuditEntry } from '../../audit/types.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';
import type { Statement as BetterSqliteStatement } from 'better-sqlite3';

interface EntryRow {
  seq: number;
  body: string;
  prev_hash: string;
  entry_hash: string;
}

function toEntry(row: EntryRow): StoredAuditEntry {
  let entry: AuditEntryBody;
  try {
    entry = JSON.parse(row.body) as AuditEntryBody;
  } catch {
    // A body that no longer parses is kept visible to verification as an empty (non-matching) entry.
    entry = { seq: -1, time: '', type: 'malformed', request_id: '', operation: '', path: '' };
  }
  // The hashed body's seq is authoritative; the column is only an index. A row whose column was
  // renumbered (to make room for an insertion) thus still shows the seq that was hashed.
  const seq = Number.isSafeInteger(entry.seq) && entry.seq > 0 ? entry.seq : row.seq;
  return { seq, prev_hash: row.prev_hash, entry_hash: row.entry_hash, entry };
}

type Statement = BetterSqliteStatement<unknown[], unknown>;

const SELECT_LAST = 'SELECT seq, entry_hash FROM audit_entries ORDER BY seq DESC LIMIT 1';
const SELECT_ANCHOR = 'SELECT seq, entry_hash FROM audit_chain_anchor WHERE id = 1';
const INSERT_ENTRY_HEAD = 'INSERT INTO audit_entries (seq, time_ms, type, request_id, subject, path, operation, outcome, body, prev_hash, entry_hash) VALUES';
const INSERT_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_ENTRY = `${INSERT_ENTRY_HEAD} ${INSERT_VALUES}`;

function readHead(last: Statement, anchor: Statement): ChainHead | null {
  const l = last.get() as { seq: number; entry_hash: string } | undefined;
  if (l) return { seq: l.seq, hash: l.entry_hash };
  const a = anchor.get() as { seq: number; entry_hash: string } | undefined;
  return a ? { seq: a.seq, hash: a.entry_hash } : null;
}

/** Rows per multi-row INSERT (11 parameters each; far below SQLite's variable limit). */
const INSERT_CHUNK = 32;

/**
 * The audit write path on `db`, statements prepared once: BEGIN IMMEDIATE, read the head, number,
 * chain and insert the encoded entries (their canonical JSON was built by the caller; the writer
 * only splices the seq in, so the hashed JSON is the stored JSON), COMMIT. One multi-row INSERT per
 * up to INSERT_CHUNK entries instead of one statement run per entry. Throws the driver's error
 * (callers translate it).
 */
export function createAuditAppender(db: SqliteConnection): (rows: EncodedRows) => BatchLinks {
  const last = db.prepare(SELECT_LAST);
  const anchor = db.prepare(SELECT_ANCHOR);
  const inserts = new Map<number, Statement>();
  const insertOf = (n: number): Statement => {
    let st = inserts.get(n);
    if (!st) {
      st = db.prepare(`${INSERT_ENTRY_HEAD} ${Array.from({ length: n }, () => INSERT_VALUES).join(', ')}`);
      inserts.set(n, st);
    }
    return st;
  };
  const tx = db.transaction((rows: EncodedRows): BatchLinks => {
    const count = Math.floor(rows.length / ROW_FIELDS);
    const head = readHead(last, anchor);
    const firstSeq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const next = chainFrom(prevHash);
    const hashes: string[] = new Array<string>(count);
    let prev = prevHash;
    for (let start = 0; start < count; start += INSERT_CHUNK) {
      const n = Math.min(INSERT_CHUNK, count - start);
      const params: unknown[] = new Array<unknown>(n * 11);
      let p = 0;
      for (let i = start; i < start + n; i++) {
        const r = i * ROW_FIELDS;
        const seq = firstSeq + i;
        const json = entryJson(rows[r] as string, seq, rows[r + 1] as string);
        const hash = next(json);
        hashes[i] = hash;
        // seq, time_ms, type, request_id, subject, path, operation, outcome, body, prev_hash, entry_hash
        params[p++] = seq;
        params[p++] = rows[r + 2];
        params[p++] = rows[r + 3];
        params[p++] = rows[r + 4];
        params[p++] = rows[r + 5];
        params[p++] = rows[r + 6];
        params[p++] = rows[r + 7];
        params[p++] = rows[r + 8];
        params[p++] = json;
        params[p++] = prev;
        params[p++] = hash;
        prev = hash;
      }
      insertOf(n).run(params);
    }
    return { firstSeq, prevHash, hashes };
  });
  return (rows) => tx.immediate(rows);
}

export class SqliteAuditStore implements AuditStore {
  private txCount = 0;
  /** Hot-path statements, prepared once on first use (after migrations): saves a parse per batch. */
  private stmts: { last: Statement; anchor: Statement; insert: Statement } | null = null;
  private appender: ((rows: EncodedRows) => BatchLinks) | null = null;

  constructor(private readonly db: SqliteConnection) {}

  get transactions(): number {
    return this.txCount;
  }

  private prepared(): { last: Statement; anchor: Statement; insert: Statement } {
    this.stmts ??= {
      last: this.db.prepare(SELECT_LAST),
      anchor: this.db.prepare(SELECT_ANCHOR),
      insert: this.db.prepare(INSERT_ENTRY),
    };
    return this.stmts;
  }

  private headSync(): ChainHead | null {
    const p = this.prepared();
    return readHead(p.last, p.anchor);
  }

  /** The in-process write path (encoded rows → links), as the audit writer worker runs it. */
  async appendRows(rows: EncodedRows): Promise<BatchLinks> {
    return withSqliteErrors('appendAuditBatch', () => {
      this.appender ??= createAuditAppender(this.db);
      const links = this.appender(rows);
      this.txCount++;
      return links;
    });
  }

  /** Bodies → sealed entries through the same path (callers outside the audit trail). */
  async appendBodies(bodies: readonly UnsealedBody[]): Promise<StoredAuditEntry[]> {
    return sealedFromLinks(bodies, await this.appendRows(encodeBodies(bodies)));
  }

  async appendBatch(seal: ChainSealer): Promise<StoredAuditEntry[]> {
    return withSqliteErrors('appendAuditBatch', () => {
      const insert = this.prepared().insert;
      const tx = this.db.transaction(() => {
        const sealed = seal(this.headSync());
        for (const s of sealed) {
          const e = s.entry;
          const t = Date.parse(e.time);
          insert.run(s.seq, Number.isFinite(t) ? t : 0, e.type, e.request_id, e.identity?.subject ?? null, e.path, e.operation, e.outcome ?? null, canonicalBody(s), s.prev_hash, s.entry_hash);
        }
        return sealed;
      });
      const sealed = tx.immediate();
      this.txCount++;
      return sealed;
    });
  }

  async head(): Promise<ChainHead | null> {
    return withSqliteErrors('auditHead', () => this.headSync());
  }

  async anchor(): Promise<ChainAnchor | null> {
    return withSqliteErrors('auditAnchor', () => {
      const row = this.db.prepare('SELECT seq, entry_hash FROM audit_chain_anchor WHERE id = 1').get() as ChainAnchor | undefined;
      return row ? { seq: row.seq, entry_hash: row.entry_hash } : null;
    });
  }

  async readEntries(fromSeq: number, toSeq: number, limit: number): Promise<EntryPage> {
    return withSqliteErrors('readAuditEntries', () => {
      const rows = this.db.prepare('SELECT seq, body, prev_hash, entry_hash FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq ASC LIMIT ?').all(fromSeq, toSeq, limit) as EntryRow[];
      return { entries: rows.map(toEntry), lastRowSeq: rows.length > 0 ? (rows[rows.length - 1] as EntryRow).seq : null };
    });
  }

  async query(q: AuditQuery): Promise<StoredAuditEntry[]> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.fromMs !== undefined) (where.push('time_ms >= ?'), args.push(q.fromMs));
    if (q.toMs !== undefined) (where.push('time_ms <= ?'), args.push(q.toMs));
    if (q.subject !== undefined) (where.push('subject = ?'), args.push(q.subject));
    if (q.path !== undefined) {
      if (q.path.endsWith('*')) {
        // Prefix match without LIKE wildcards from user input: compare the substring.
        const prefix = q.path.slice(0, -1);
        where.push('substr(path, 1, ?) = ?');
        args.push(prefix.length, prefix);
      } else {
        where.push('path = ?');
        args.push(q.path);
      }
    }
    if (q.operation !== undefined) (where.push('operation = ?'), args.push(q.operation));
    if (q.outcome !== undefined) (where.push('outcome = ?'), args.push(q.outcome));
    if (q.afterSeq !== undefined) (where.push('seq > ?'), args.push(q.afterSeq));
    if (q.beforeSeq !== undefined) (where.push('seq < ?'), args.push(q.beforeSeq));
    const sql = `SELECT seq, body, prev_hash, entry_hash FROM audit_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${q.ascending ? 'ASC' : 'DESC'} LIMIT ?`;
    args.push(q.limit);
    return withSqliteErrors('queryAuditEntries', () => (this.db.prepare(sql).all(...args) as EntryRow[]).map(toEntry));
  }

  async lastCheckpoint(): Promise<AuditCheckpoint | null> {
    return withSqliteErrors('lastAuditCheckpoint', () => (this.db.prepare('SELECT seq, entry_hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1').get() as AuditCheckpoint | undefined) ?? null);
  }

  async insertCheckpoint(cp: AuditCheckpoint): Promise<void> {
    withSqliteErrors('insertAuditCheckpoint', () => {
      this.db.prepare('INSERT OR IGNORE INTO audit_checkpoints (seq, entry_hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)').run(cp.seq, cp.entry_hash, cp.time, cp.key_id, cp.signature);
    });
  }

  async listCheckpoints(fromSeq: number, toSeq: number): Promise<AuditCheckpoint[]> {
    return withSqliteErrors('listAuditCheckpoints', () => this.db.prepare('SELECT seq, entry_hash, time, key_id, signature FROM audit_checkpoints WHERE seq >= ? AND seq <= ? ORDER BY seq ASC').all(fromSeq, toSeq) as AuditCheckpoint[]);
  }

  async archiveThrough(anchor: ChainAnchor): Promise<number> {
    return withSqliteErrors('archiveAuditEntries', () => {
      const tx = this.db.transaction(() => {
        const deleted = this.db.prepare('DELETE FROM audit_entries WHERE seq <= ?').run(anchor.seq).changes;
        this.db
          .prepare('INSERT INTO audit_chain_anchor (id, seq, entry_hash, archived_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, entry_hash = excluded.entry_hash, archived_at = excluded.archived_at WHERE excluded.seq > audit_chain_anchor.seq')
          .run(anchor.seq, anchor.entry_hash, Date.now());
        return deleted;
      });
      return tx.immediate();
    });
  }

  async listDevices(): Promise<DeviceConfig[]> {
    return withSqliteErrors('listAuditDevices', () =>
      (this.db.prepare('SELECT path, type, description, options, local FROM audit_devices ORDER BY path').all() as Array<{ path: string; type: string; description: string; options: string; local: number }>).map((r) => ({
        path: r.path,
        type: r.type,
        description: r.description,
        options: JSON.parse(r.options) as Record<string, string>,
        local: r.local === 1,
      })),
    );
  }

  async putDevice(d: DeviceConfig): Promise<void> {
    withSqliteErrors('putAuditDevice', () => {
      this.db.prepare('INSERT INTO audit_devices (path, type, description, options, local, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(d.path, d.type, d.description, JSON.stringify(d.options), d.local ? 1 : 0, Date.now());
    });
  }

  async deleteDevice(path: string): Promise<boolean> {
    return withSqliteErrors('deleteAuditDevice', () => this.db.prepare('DELETE FROM audit_devices WHERE path = ?').run(path).changes > 0);
  }
}

/** The stored body is the canonical JSON that was hashed. */
function canonicalBody(s: StoredAuditEntry): string {
  return canonicalJson(s.entry as unknown as JsonValue);
}
