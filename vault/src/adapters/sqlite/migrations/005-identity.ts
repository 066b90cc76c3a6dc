/**
 * Migration 005: login methods and step-up MFA — AppRole roles and secret IDs, the JWT/OIDC auth
 * method's per-environment config and roles, TOTP MFA methods, enrolments, used codes and failure
 * counters.
 *
 * Conventions as in 001/002: times are INTEGER milliseconds since the Unix epoch; lists and maps are
 * JSON TEXT (never queried by content). Every row belongs to exactly one environment.
 *
 * Invariants the schema enforces:
 * - A secret ID is stored only as an HMAC-SHA256 computed in the HSM (`secret_id_hmac`), never in
 *   clear; the HMAC and the accessor are each UNIQUE.
 * - Secret IDs and MFA enrolments go with their role / method (ON DELETE CASCADE).
 * - `(env, role_id)` is UNIQUE: a role ID designates one role.
 * - A TOTP enrolment's secret is stored sealed (`sealed_secret`, AES-256-GCM); there is no clear column.
 * - `mfa_used_codes` has one row per (method, subject, time step): the primary key is what makes a
 *   code single-use, atomically, across processes sharing the database.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 5,
  name: 'identity',
  up: `
CREATE TABLE approle_roles (
  env                     TEXT    NOT NULL,
  name                    TEXT    NOT NULL,
  role_id                 TEXT    NOT NULL,
  bind_secret_id          INTEGER NOT NULL,
  token_policies          TEXT    NOT NULL,
  token_no_default_policy INTEGER NOT NULL,
  token_ttl               INTEGER NOT NULL,
  token_max_ttl           INTEGER NOT NULL,
  token_num_uses          INTEGER NOT NULL,
  secret_id_ttl           INTEGER NOT NULL,
  secret_id_num_uses      INTEGER NOT NULL,
  secret_id_bound_cidrs   TEXT    NOT NULL,
  token_bound_cidrs       TEXT    NOT NULL,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL,
  PRIMARY KEY (env, name),
  UNIQUE (env, role_id)
);

CREATE TABLE approle_secret_ids (
  env               TEXT    NOT NULL,
  role_name         TEXT    NOT NULL,
  accessor          TEXT    NOT NULL UNIQUE,
  secret_id_hmac    BLOB    NOT NULL UNIQUE,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  expires_at        INTEGER,
  num_uses          INTEGER NOT NULL,
  uses_left         INTEGER,
  cidrs             TEXT    NOT NULL,
  token_bound_cidrs TEXT    NOT NULL,
  metadata          TEXT    NOT NULL,
  PRIMARY KEY (env, role_name, accessor),
  FOREIGN KEY (env, role_name) REFERENCES approle_roles (env, name) ON DELETE CASCADE
);
CREATE INDEX approle_secret_ids_expires ON approle_secret_ids (expires_at);

CREATE TABLE jwt_auth_config (
  env         TEXT    NOT NULL PRIMARY KEY,
  config      TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE jwt_auth_roles (
  env         TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  config      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (env, name)
);

CREATE TABLE mfa_methods (
  env         TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  method_id   TEXT    NOT NULL UNIQUE,
  type        TEXT    NOT NULL CHECK (type IN ('totp')),
  config      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (env, name)
);

CREATE TABLE mfa_enrolments (
  env            TEXT    NOT NULL,
  method_name    TEXT    NOT NULL,
  subject        TEXT    NOT NULL,
  sealed_secret  BLOB    NOT NULL,
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (env, method_name, subject),
  FOREIGN KEY (env, method_name) REFERENCES mfa_methods (env, name) ON DELETE CASCADE
);

CREATE TABLE mfa_used_codes (
  env          TEXT    NOT NULL,
  method_name  TEXT    NOT NULL,
  subject      TEXT    NOT NULL,
  time_step    INTEGER NOT NULL,
  used_at      INTEGER NOT NULL,
  PRIMARY KEY (env, method_name, subject, time_step)
);
CREATE INDEX mfa_used_codes_used_at ON mfa_used_codes (used_at);

CREATE TABLE mfa_failures (
  env           TEXT    NOT NULL,
  method_name   TEXT    NOT NULL,
  subject       TEXT    NOT NULL,
  failures      INTEGER NOT NULL,
  locked_until  INTEGER,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (env, method_name, subject)
);
`,
};
