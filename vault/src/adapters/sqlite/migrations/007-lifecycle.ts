/**
 * Migration 007: key lifecycle bookkeeping (vault/src/lifecycle).
 *
 * - `leases`: one row per named lease (the lifecycle scheduler, a root rotation job). A process holds
 *   a lease until `expires_at` (ms since epoch) and takes it over only with a compare-and-set inside a
 *   BEGIN IMMEDIATE transaction, so on one store at most one holder runs a job at a time.
 * - `root_rotations`: progress of each root KEK rotation, one row per (env, from_term). The job derives
 *   what is left from the blobs themselves (transit_key_versions.root_term); this row only records
 *   what an operator sees in sys/key-status (total, done, start and end), so losing an update to a
 *   crash costs accuracy of `done`, never correctness.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 7,
  name: 'lifecycle',
  up: `
CREATE TABLE leases (
  name        TEXT    NOT NULL PRIMARY KEY,
  holder      TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE root_rotations (
  env          TEXT    NOT NULL,
  from_term    INTEGER NOT NULL,
  to_term      INTEGER NOT NULL,
  total        INTEGER NOT NULL,
  done         INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NULL,
  PRIMARY KEY (env, from_term)
) WITHOUT ROWID;
`,
};
