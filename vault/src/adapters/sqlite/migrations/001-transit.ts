/**
 * Migration 001: transit keys, their versions (wrapped blobs only) and per-environment root KEK terms.
 *
 * Conventions kept by every Sqlite* adapter: times are INTEGER milliseconds since the Unix epoch (UTC);
 * booleans are INTEGER 0/1. Enumerated states are TEXT without CHECK constraints on purpose: SQLite
 * cannot alter a CHECK without rebuilding the table, and the adapter only writes values typed by the port.
 *
 * Invariants the schema itself enforces:
 * - (env, name, version) is the primary key of a version, so a duplicate version can never be stored,
 *   whatever the interleaving of writers.
 * - Deleting a key deletes its versions (ON DELETE CASCADE; the connection sets foreign_keys=ON).
 * - `wrapped_kek` is NULL exactly when the version's material has been destroyed.
 * The index on (env, root_term, …) serves root rotation, which walks the blobs still wrapped under an
 * old term in batches.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 1,
  name: 'transit',
  up: `
CREATE TABLE transit_keys (
  env                         TEXT    NOT NULL,
  name                        TEXT    NOT NULL,
  type                        TEXT    NOT NULL,
  derived                     INTEGER NOT NULL,
  state                       TEXT    NOT NULL,
  min_decryption_version      INTEGER NOT NULL,
  min_encryption_version      INTEGER NOT NULL,
  deletion_allowed            INTEGER NOT NULL,
  exportable                  INTEGER NOT NULL,
  allow_plaintext_backup      INTEGER NOT NULL,
  auto_rotate_period_seconds  INTEGER NOT NULL,
  max_versions                INTEGER NOT NULL,
  version_ttl_seconds         INTEGER NOT NULL,
  latest_version              INTEGER NOT NULL,
  min_available_version       INTEGER NOT NULL,
  created_at                  INTEGER NOT NULL,
  updated_at                  INTEGER NOT NULL,
  deletion_deadline           INTEGER NULL,
  last_rotated_at             INTEGER NOT NULL,
  PRIMARY KEY (env, name)
) WITHOUT ROWID;

CREATE TABLE transit_key_versions (
  env          TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  wrapped_kek  BLOB    NULL,
  root_term    INTEGER NOT NULL,
  state        TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (env, name, version),
  FOREIGN KEY (env, name) REFERENCES transit_keys (env, name) ON DELETE CASCADE
);

CREATE INDEX transit_key_versions_by_root_term ON transit_key_versions (env, root_term, name, version);

CREATE TABLE root_keys (
  env           TEXT    NOT NULL,
  term          INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  installed_at  INTEGER NOT NULL,
  retired_at    INTEGER NULL,
  PRIMARY KEY (env, term)
) WITHOUT ROWID;
`,
};
