/**
 * Migration 008: rate-limit quotas (Vault's sys/quotas/rate-limit), the quota config, anomaly
 * alerts, the anomaly settings and identity suspensions (vault/src/observability).
 *
 * Conventions as in 001: times are INTEGER milliseconds since the Unix epoch; booleans INTEGER 0/1;
 * lists and maps (exempt paths, suspend roles, thresholds, alert details) are JSON TEXT, never
 * queried by content. The two config tables hold at most one row (`id = 1`, enforced by CHECK).
 *
 * Invariants the schema enforces:
 * - A quota name and a suspended subject are primary keys: neither can exist twice.
 * - Alerts are append-only rows with an increasing id; the indexes serve GET sys/anomalies
 *   (by time, by subject + time).
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 8,
  name: 'quotas',
  up: `
CREATE TABLE rate_limit_quotas (
  name               TEXT    NOT NULL PRIMARY KEY,
  path               TEXT    NOT NULL,
  rate               REAL    NOT NULL,
  interval_ms        INTEGER NOT NULL,
  block_interval_ms  INTEGER NOT NULL,
  role               TEXT    NOT NULL,
  inheritable        INTEGER NOT NULL,
  group_by           TEXT    NOT NULL,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE quota_config (
  id                  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  exempt_paths        TEXT    NOT NULL,
  audit_logging       INTEGER NOT NULL,
  response_headers    INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);

CREATE TABLE anomaly_alerts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  at              INTEGER NOT NULL,
  kind            TEXT    NOT NULL,
  subject         TEXT    NOT NULL,
  env             TEXT    NOT NULL,
  role            TEXT,
  source_address  TEXT    NOT NULL,
  request_id      TEXT    NOT NULL,
  details         TEXT    NOT NULL,
  suspended       INTEGER NOT NULL
);
CREATE INDEX anomaly_alerts_at ON anomaly_alerts (at);
CREATE INDEX anomaly_alerts_subject ON anomaly_alerts (subject, at);

CREATE TABLE anomaly_settings (
  id             INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  webhook_url    TEXT,
  suspend_roles  TEXT    NOT NULL,
  thresholds     TEXT    NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE identity_suspensions (
  subject       TEXT    NOT NULL PRIMARY KEY,
  role          TEXT,
  kind          TEXT    NOT NULL,
  alert_id      INTEGER,
  suspended_at  INTEGER NOT NULL
) WITHOUT ROWID;
`,
};
