/**
 * SqlitePolicyStore: the embedded PolicyStore adapter (schema in migrations/003-policies.ts).
 *
 * Invariants kept here:
 * - `append` reads the current version and inserts the next one under one `BEGIN IMMEDIATE`
 *   transaction, so two processes writing the same policy serialise and never reuse a number (the
 *   primary key would refuse it anyway).
 * - Statements are prepared once; SqliteError codes are translated by sqlite-errors.ts.
 * The connection is shared with the other Sqlite* adapters and is never closed here.
 */
import type { Statement, Transaction } from 'better-sqlite3';
import type { AppendPolicyVersion, PolicyStore, PolicyVersionRecord } from '../../core/ports/policy-store.js';
import type { Environment } from '../../core/types.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface VersionRow {
  env: string;
  name: string;
  version: number;
  text: string;
  normalized: string | null;
  created_at: number;
  author: string;
  deleted: number;
}

const COLUMNS = 'v.env, v.name, v.version, v.text, v.normalized, v.created_at, v.author, v.deleted';

function toRecord(row: VersionRow): PolicyVersionRecord {
  return {
    env: row.env as Environment,
    name: row.name,
    version: row.version,
    text: row.text,
    normalized: row.normalized,
    createdAt: new Date(row.created_at),
    author: row.author,
    deleted: row.deleted === 1,
  };
}

export class SqlitePolicyStore implements PolicyStore {
  private readonly currentOne: Statement<[string, string]>;
  private readonly insertVersion: Statement<[string, string, number, string, string | null, number, string, number]>;
  private readonly upsertHead: Statement<[string, string, number, number, number]>;
  private readonly currentRow: Statement<[string, string]>;
  private readonly listRows: Statement<[string]>;
  private readonly versionRow: Statement<[string, string, number]>;
  private readonly historyRows: Statement<[string, string]>;
  private readonly appendTx: Transaction<(input: AppendPolicyVersion) => PolicyVersionRecord>;

  constructor(private readonly db: SqliteConnection) {
    this.currentOne = db.prepare('SELECT current_version FROM policies WHERE env = ? AND name = ?');
    this.insertVersion = db.prepare(
      'INSERT INTO policy_versions (env, name, version, text, normalized, created_at, author, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertHead = db.prepare(
      `INSERT INTO policies (env, name, current_version, deleted, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (env, name) DO UPDATE SET current_version = excluded.current_version, deleted = excluded.deleted, updated_at = excluded.updated_at`,
    );
    this.currentRow = db.prepare(
      `SELECT ${COLUMNS} FROM policies p JOIN policy_versions v ON v.env = p.env AND v.name = p.name AND v.version = p.current_version WHERE p.env = ? AND p.name = ?`,
    );
    this.listRows = db.prepare(
      `SELECT ${COLUMNS} FROM policies p JOIN policy_versions v ON v.env = p.env AND v.name = p.name AND v.version = p.current_version WHERE p.env = ? AND p.deleted = 0 ORDER BY p.name`,
    );
    this.versionRow = db.prepare(`SELECT ${COLUMNS} FROM policy_versions v WHERE v.env = ? AND v.name = ? AND v.version = ?`);
    this.historyRows = db.prepare(`SELECT ${COLUMNS} FROM policy_versions v WHERE v.env = ? AND v.name = ? ORDER BY v.version`);
    this.appendTx = db.transaction((input: AppendPolicyVersion) => {
      const head = this.currentOne.get(input.env, input.name) as { current_version: number } | undefined;
      const version = (head?.current_version ?? 0) + 1;
      const at = input.at.getTime();
      // The head row first: the version's foreign key needs it.
      this.upsertHead.run(input.env, input.name, version, input.deleted ? 1 : 0, at);
      this.insertVersion.run(input.env, input.name, version, input.text, input.deleted ? null : input.normalized, at, input.author, input.deleted ? 1 : 0);
      return {
        env: input.env,
        name: input.name,
        version,
        text: input.text,
        normalized: input.deleted ? null : input.normalized,
        createdAt: new Date(at),
        author: input.author,
        deleted: input.deleted,
      };
    });
  }

  async append(input: AppendPolicyVersion): Promise<PolicyVersionRecord> {
    return withSqliteErrors('appendPolicyVersion', () => this.appendTx.immediate(input));
  }

  async getCurrent(env: Environment, names: readonly string[]): Promise<PolicyVersionRecord[]> {
    return withSqliteErrors('getCurrentPolicies', () =>
      names.flatMap((n) => {
        const row = this.currentRow.get(env, n) as VersionRow | undefined;
        return row === undefined ? [] : [toRecord(row)];
      }),
    );
  }

  async currentVersions(env: Environment, names: readonly string[]): Promise<Map<string, number>> {
    return withSqliteErrors('currentPolicyVersions', () => {
      const out = new Map<string, number>();
      for (const n of names) {
        const row = this.currentOne.get(env, n) as { current_version: number } | undefined;
        if (row !== undefined) out.set(n, row.current_version);
      }
      return out;
    });
  }

  async listCurrent(env: Environment): Promise<PolicyVersionRecord[]> {
    return withSqliteErrors('listPolicies', () => (this.listRows.all(env) as VersionRow[]).map(toRecord));
  }

  async getVersion(env: Environment, name: string, version: number): Promise<PolicyVersionRecord | null> {
    return withSqliteErrors('getPolicyVersion', () => {
      const row = this.versionRow.get(env, name, version) as VersionRow | undefined;
      return row === undefined ? null : toRecord(row);
    });
  }

  async history(env: Environment, name: string): Promise<PolicyVersionRecord[]> {
    return withSqliteErrors('policyHistory', () => (this.historyRows.all(env, name) as VersionRow[]).map(toRecord));
  }
}
