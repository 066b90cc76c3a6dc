/**
 * Migration 006: the KV v2 secret store (per-environment engine config, per-path metadata, sealed
 * versions) and response-wrapping tokens.
 *
 * Conventions as in 001: times are INTEGER milliseconds since the Unix epoch (UTC), booleans INTEGER
 * 0/1, maps JSON TEXT (never queried by content).
 *
 * Invariants the schema enforces:
 * - (env, path, version) is the primary key of a version: a version number is never stored twice.
 * - Deleting a secret's metadata deletes all its versions (ON DELETE CASCADE).
 * - `sealed_value` holds only a transit envelope (`vault:v<N>:…`) sealed under the environment's `_kv`
 *   key; it is NULL exactly when the version is destroyed. No column ever holds a secret in clear.
 * - Wrapping tokens are stored only as SHA-256(token) (`id_hash`, primary key); `accessor` is UNIQUE.
 *   `sealed_payload` is NULL once the token is used (single use) — the row stays so a second use is
 *   recognised as a reuse, not as an unknown token.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 6,
  name: 'kv',
  up: `
CREATE TABLE kv_config (
  env                       TEXT    NOT NULL PRIMARY KEY,
  max_versions              INTEGER NOT NULL,
  cas_required              INTEGER NOT NULL,
  delete_version_after_s    INTEGER NOT NULL,
  updated_at                INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE kv_metadata (
  env                       TEXT    NOT NULL,
  path                      TEXT    NOT NULL,
  current_version           INTEGER NOT NULL,
  oldest_version            INTEGER NOT NULL,
  max_versions              INTEGER NOT NULL,
  cas_required              INTEGER NOT NULL,
  delete_version_after_s    INTEGER NOT NULL,
  custom_metadata           TEXT    NULL,
  created_at                INTEGER NOT NULL,
  updated_at                INTEGER NOT NULL,
  PRIMARY KEY (env, path)
) WITHOUT ROWID;

CREATE TABLE kv_versions (
  env            TEXT    NOT NULL,
  path           TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  sealed_value   BLOB    NULL,
  key_version    INTEGER NOT NULL,
  root_term      INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  deletion_time  INTEGER NULL,
  destroyed      INTEGER NOT NULL,
  PRIMARY KEY (env, path, version),
  FOREIGN KEY (env, path) REFERENCES kv_metadata (env, path) ON DELETE CASCADE
);

CREATE TABLE wrapping_tokens (
  id_hash         BLOB    NOT NULL PRIMARY KEY,
  accessor        TEXT    NOT NULL UNIQUE,
  env             TEXT    NOT NULL,
  creation_path   TEXT    NOT NULL,
  ttl_seconds     INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  sealed_payload  BLOB    NULL,
  key_version     INTEGER NOT NULL,
  root_term       INTEGER NOT NULL,
  used_at         INTEGER NULL
);
CREATE INDEX wrapping_tokens_expires ON wrapping_tokens (expires_at);
`,
};
