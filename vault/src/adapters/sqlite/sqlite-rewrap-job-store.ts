/**
 * SqliteRewrapJobStore: the embedded RewrapJobStore (schema in migrations/010-rewrap-jobs.ts).
 *
 * Invariants kept here (see the port header):
 * - `startJob` reads and writes the environment's row in one IMMEDIATE transaction.
 * - Progress and completion are conditional UPDATEs on (env, key, target, state = 'running').
 * The connection is shared with the other Sqlite* adapters: nothing here closes it.
 */
import type { Environment } from '../../core/types.js';
import type { RewrapJobRecord, RewrapJobStore, RewrapProgress } from '../../usecases/rewrap/rewrap-job-store.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface JobRow {
  env: string;
  key_name: string;
  state: string;
  target_version: number;
  batch_size: number;
  cursor: string | null;
  total: number;
  done: number;
  failed: number;
  error: string | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
}

function toRecord(r: JobRow): RewrapJobRecord {
  return {
    env: r.env as Environment,
    keyName: r.key_name,
    state: r.state === 'done' ? 'done' : r.state === 'failed' ? 'failed' : 'running',
    targetVersion: r.target_version,
    batchSize: r.batch_size,
    cursor: r.cursor,
    total: r.total,
    done: r.done,
    failed: r.failed,
    error: r.error,
    startedAt: new Date(r.started_at),
    updatedAt: new Date(r.updated_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
  };
}

export class SqliteRewrapJobStore implements RewrapJobStore {
  constructor(private readonly db: SqliteConnection) {}

  async getJob(env: Environment): Promise<RewrapJobRecord | null> {
    return withSqliteErrors('getRewrapJob', () => {
      const r = this.db.prepare('SELECT * FROM rewrap_jobs WHERE env = ?').get(env) as JobRow | undefined;
      return r ? toRecord(r) : null;
    });
  }

  async startJob(job: RewrapJobRecord): Promise<{ started: boolean; job: RewrapJobRecord }> {
    return withSqliteErrors('startRewrapJob', () =>
      this.db
        .transaction(() => {
          const existing = this.db.prepare('SELECT * FROM rewrap_jobs WHERE env = ?').get(job.env) as JobRow | undefined;
          if (existing && existing.state === 'running') return { started: false, job: toRecord(existing) };
          this.db
            .prepare(
              `INSERT INTO rewrap_jobs (env, key_name, state, target_version, batch_size, cursor, total, done, failed, error, started_at, updated_at, finished_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (env) DO UPDATE SET key_name = excluded.key_name, state = excluded.state, target_version = excluded.target_version,
                 batch_size = excluded.batch_size, cursor = excluded.cursor, total = excluded.total, done = excluded.done, failed = excluded.failed,
                 error = excluded.error, started_at = excluded.started_at, updated_at = excluded.updated_at, finished_at = excluded.finished_at`,
            )
            .run(
              job.env,
              job.keyName,
              job.state,
              job.targetVersion,
              job.batchSize,
              job.cursor,
              job.total,
              job.done,
              job.failed,
              job.error,
              job.startedAt.getTime(),
              job.updatedAt.getTime(),
              job.finishedAt?.getTime() ?? null,
            );
          return { started: true, job };
        })
        .immediate(),
    );
  }

  async saveProgress(env: Environment, keyName: string, targetVersion: number, p: RewrapProgress, at: Date): Promise<boolean> {
    return withSqliteErrors('saveRewrapProgress', () => {
      const r = this.db
        .prepare(
          `UPDATE rewrap_jobs SET cursor = ?, done = ?, failed = ?, updated_at = ?
             WHERE env = ? AND key_name = ? AND target_version = ? AND state = 'running'`,
        )
        .run(p.cursor, p.done, p.failed, at.getTime(), env, keyName, targetVersion);
      return r.changes === 1;
    });
  }

  async finishJob(env: Environment, keyName: string, targetVersion: number, state: 'done' | 'failed', p: RewrapProgress & { error: string | null }, at: Date): Promise<void> {
    withSqliteErrors('finishRewrapJob', () => {
      this.db
        .prepare(
          `UPDATE rewrap_jobs SET state = ?, cursor = ?, done = ?, failed = ?, error = ?, updated_at = ?, finished_at = ?
             WHERE env = ? AND key_name = ? AND target_version = ? AND state = 'running'`,
        )
        .run(state, p.cursor, p.done, p.failed, p.error, at.getTime(), at.getTime(), env, keyName, targetVersion);
    });
  }
}
