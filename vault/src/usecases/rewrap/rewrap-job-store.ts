/**
 * The persistence port of the bulk rewrap job (schema: adapters/sqlite/migrations/010-rewrap-jobs.ts).
 * One row per environment: the running job, or the last one.
 *
 * Invariants every adapter keeps:
 * - `startJob` is a compare-and-set: it writes only when no job of the environment is running, so
 *   two callers (any number of processes) never start two jobs; the loser gets the running one back.
 * - `saveProgress` writes cursor and counts together and only while the same job (key, target) runs,
 *   so a stale runner can never move a newer job's cursor.
 */
import type { Environment } from '../../core/types.js';

export type RewrapJobState = 'running' | 'done' | 'failed';

export interface RewrapJobRecord {
  readonly env: Environment;
  readonly keyName: string;
  readonly state: RewrapJobState;
  readonly targetVersion: number;
  readonly batchSize: number;
  /** Job-owned JSON: where the scan stands (last row handled); null before the first batch. */
  readonly cursor: string | null;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly error: string | null;
  readonly startedAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
}

export interface RewrapProgress {
  readonly cursor: string | null;
  readonly done: number;
  readonly failed: number;
}

export interface RewrapJobStore {
  getJob(env: Environment): Promise<RewrapJobRecord | null>;
  startJob(job: RewrapJobRecord): Promise<{ readonly started: boolean; readonly job: RewrapJobRecord }>;
  saveProgress(env: Environment, keyName: string, targetVersion: number, progress: RewrapProgress, at: Date): Promise<boolean>;
  finishJob(env: Environment, keyName: string, targetVersion: number, state: 'done' | 'failed', progress: RewrapProgress & { readonly error: string | null }, at: Date): Promise<void>;
}
