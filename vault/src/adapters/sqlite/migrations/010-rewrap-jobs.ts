/**
 * Migration 010: the bulk rewrap job (one row per environment: the running or last job) and an index
 * that lets the job and `usedVersions` find stored values by the key version that sealed them.
 *
 * Conventions as in 001: times are INTEGER ms since the epoch; `cursor` is JSON TEXT owned by the job
 * (never queried by content).
 *
 * Invariants the schema enforces:
 * - At most one job row per environment (primary key), so "one running job per environment" is a
 *   compare-and-set on that row, whatever the number of processes.
 * - `done` and `failed` never exceed what the job counted; the job writes them with its cursor in one
 *   statement, so a restart resumes from a consistent (cursor, counts) pair.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 10,
  name: 'rewrap-jobs',
  up: `
CREATE TABLE rewrap_jobs (
  env             TEXT    NOT NULL PRIMARY KEY,
  key_name        TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  target_version  INTEGER NOT NULL,
  batch_size      INTEGER NOT NULL,
  cursor          TEXT    NULL,
  total           INTEGER NOT NULL,
  done            INTEGER NOT NULL,
  failed          INTEGER NOT NULL,
  error           TEXT    NULL,
  started_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  finished_at     INTEGER NULL
) WITHOUT ROWID;
CREATE INDEX kv_versions_env_key_version ON kv_versions (env, key_version);
CREATE INDEX wrapping_tokens_env_key_version ON wrapping_tokens (env, key_version);
`,
};
