/**
 * Migration 002: issued tokens (for revocation and lookup) and the JWT signing keys.
 *
 * Conventions as in 001: times are INTEGER milliseconds since the Unix epoch; states are TEXT written
 * only from values typed by the port. Lists and maps (policies, meta, the public JWK) are JSON TEXT:
 * they are never queried by content.
 *
 * Invariants the schema enforces:
 * - `jti` is the primary key and `accessor` is UNIQUE, so neither can be recorded twice.
 * - `signing_keys.label` is UNIQUE: one HSM object label is never recorded under two kids.
 * Indexes serve the hot read (verify: by jti, the primary key), lookup/revoke by accessor, the bulk
 * revocations (by subject, by auth method + role, by parent for the tree cascade) and the purge (by
 * expiry). No foreign key on parent_jti: purging an expired parent must not be blocked by, or cascade
 * into, rows the purge handles itself.
 */
import type { Migration } from '../database.js';

export const migration: Migration = {
  id: 2,
  name: 'auth',
  up: `
CREATE TABLE tokens (
  jti            TEXT    NOT NULL PRIMARY KEY,
  accessor       TEXT    NOT NULL UNIQUE,
  subject        TEXT    NOT NULL,
  auth_method    TEXT    NOT NULL,
  role           TEXT,
  policies       TEXT    NOT NULL,
  env            TEXT    NOT NULL,
  parent_jti     TEXT,
  issued_at      INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  revoked_at     INTEGER,
  revoke_reason  TEXT,
  num_uses       INTEGER,
  meta           TEXT    NOT NULL
);
CREATE INDEX tokens_subject ON tokens (subject, issued_at);
CREATE INDEX tokens_role ON tokens (role, auth_method);
CREATE INDEX tokens_parent ON tokens (parent_jti);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE signing_keys (
  kid         TEXT    NOT NULL PRIMARY KEY,
  label       TEXT    NOT NULL UNIQUE,
  alg         TEXT    NOT NULL,
  public_jwk  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  retires_at  INTEGER,
  state       TEXT    NOT NULL
);
`,
};
