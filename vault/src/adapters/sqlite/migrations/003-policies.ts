/**
 * Migration 003: ACL policies per environment, with their full version history.
 *
 * Conventions as in 001/002: times are INTEGER milliseconds since the Unix epoch; booleans INTEGER 0/1.
 * `policies` holds one row per (env, name) ever written, pointing at its current version;
 * `policy_versions` keeps every version: the text exactly as submitted (HCL or JSON), the normalised
 * JSON the evaluator loads, who wrote it and when. A delete is a version too (deleted = 1, no
 * document), so the history shows it and a later re-create continues the numbering.
 *
 * Invariants the schema enforces:
 * - (env, name, version) is the primary key: two writers can never both create version N.
 * - a version belongs to a policy row (foreign key); `normalized` is NULL exactly on deleted versions.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 3,
  name: 'policies',
  up: `
CREATE TABLE policies (
  env              TEXT    NOT NULL,
  name             TEXT    NOT NULL,
  current_version  INTEGER NOT NULL,
  deleted          INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (env, name)
) WITHOUT ROWID;

CREATE TABLE policy_versions (
  env         TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  text        TEXT    NOT NULL,
  normalized  TEXT    NULL,
  created_at  INTEGER NOT NULL,
  author      TEXT    NOT NULL,
  deleted     INTEGER NOT NULL,
  PRIMARY KEY (env, name, version),
  FOREIGN KEY (env, name) REFERENCES policies (env, name)
);
`,
};
