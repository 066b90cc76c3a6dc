/**
 * Migration 004: the tamper-evident audit trail (vault/src/audit).
 *
 * Conventions as in 001: times are INTEGER ms since the epoch where they are only indexed; the
 * hashed copy of each entry is `body`, its canonical JSON text, so what is verified is exactly what
 * was stored. The other columns of audit_entries are copies kept for indexed search only; they are
 * never trusted by verification.
 *
 * Invariants the schema enforces:
 * - `seq` is the primary key: two writers (worker processes) can never store the same seq; the
 *   sink reads the chain head inside its BEGIN IMMEDIATE transaction.
 * - one checkpoint per seq; at most one chain anchor row (id = 1).
 * - one device per path.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 4,
  name: 'audit',
  up: `
CREATE TABLE audit_entries (
  seq         INTEGER PRIMARY KEY,
  time_ms     INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  request_id  TEXT    NOT NULL,
  subject     TEXT,
  path        TEXT    NOT NULL,
  operation   TEXT    NOT NULL,
  outcome     TEXT,
  body        TEXT    NOT NULL,
  prev_hash   TEXT    NOT NULL,
  entry_hash  TEXT    NOT NULL
);
CREATE INDEX audit_entries_time ON audit_entries (time_ms);
CREATE INDEX audit_entries_subject ON audit_entries (subject, seq);
CREATE INDEX audit_entries_path ON audit_entries (path, seq);

CREATE TABLE audit_checkpoints (
  seq         INTEGER NOT NULL PRIMARY KEY,
  entry_hash  TEXT    NOT NULL,
  time        TEXT    NOT NULL,
  key_id      TEXT    NOT NULL,
  signature   TEXT    NOT NULL
);

CREATE TABLE audit_chain_anchor (
  id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  seq          INTEGER NOT NULL,
  entry_hash   TEXT    NOT NULL,
  archived_at  INTEGER NOT NULL
);

CREATE TABLE audit_devices (
  path         TEXT    NOT NULL PRIMARY KEY,
  type         TEXT    NOT NULL,
  description  TEXT    NOT NULL,
  options      TEXT    NOT NULL,
  local        INTEGER NOT NULL,
  created_at   INTEGER NOT NULL
);
`,
};
