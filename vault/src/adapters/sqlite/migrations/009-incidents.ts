/**
 * Migration 009: security incidents (credential leaks now; the lifecycle playbooks build on them).
 * An incident row holds the current state; its timeline is an append-only child table, so appends
 * from several processes never lose an event to a read-modify-write race. Conventions as in 001:
 * times are INTEGER ms since the epoch, JSON is TEXT and never queried by content.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 9,
  name: 'incidents',
  up: `
CREATE TABLE incidents (
  id          TEXT    NOT NULL PRIMARY KEY,
  env         TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('open', 'resolved')),
  actor       TEXT    NOT NULL,
  summary     TEXT    NOT NULL,
  report      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX incidents_env_created ON incidents (env, created_at);

CREATE TABLE incident_events (
  incident_id  TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  at           INTEGER NOT NULL,
  event        TEXT    NOT NULL,
  details      TEXT    NOT NULL,
  PRIMARY KEY (incident_id, seq)
) WITHOUT ROWID;
`,
};
