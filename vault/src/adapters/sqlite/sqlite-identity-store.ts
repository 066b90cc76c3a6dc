/**
 * SqliteIdentityStore: the embedded IdentityStore adapter (schema in migrations/005-identity.ts).
 *
 * Invariants kept here (see the port header):
 * - Read-then-write operations (consume a secret ID, count an MFA failure) run inside
 *   `BEGIN IMMEDIATE`, so processes sharing the file never both take the last use of a secret ID.
 * - TOTP single use rests on the table's primary key: `INSERT OR IGNORE` reports whether this
 *   process was the one that recorded the time step.
 * - SqliteError codes are translated by sqlite-errors.ts, never by message. The connection is shared
 *   with the other Sqlite* adapters and never closed here.
 */
import type { Transaction } from 'better-sqlite3';
import type {
  AppRoleRecord,
  ConsumeSecretIdResult,
  IdentityStore,
  JsonObject,
  MfaEnrolmentRecord,
  MfaFailureState,
  MfaMethodRecord,
  NamedDocument,
  SecretIdRecord,
} from '../../core/ports/identity-store.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface RoleRow {
  env: string;
  name: string;
  role_id: string;
  bind_secret_id: number;
  token_policies: string;
  token_no_default_policy: number;
  token_ttl: number;
  token_max_ttl: number;
  token_num_uses: number;
  secret_id_ttl: number;
  secret_id_num_uses: number;
  secret_id_bound_cidrs: string;
  token_bound_cidrs: string;
  created_at: number;
  updated_at: number;
}

interface SecretIdRow {
  env: string;
  role_name: string;
  accessor: string;
  secret_id_hmac: Buffer;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  num_uses: number;
  uses_left: number | null;
  cidrs: string;
  token_bound_cidrs: string;
  metadata: string;
}

interface DocRow {
  env: string;
  name: string;
  config: string;
  created_at: number;
  updated_at: number;
}

interface MethodRow {
  env: string;
  name: string;
  method_id: string;
  type: 'totp';
  config: string;
  created_at: number;
  updated_at: number;
}

interface EnrolmentRow {
  env: string;
  method_name: string;
  subject: string;
  sealed_secret: Buffer;
  created_at: number;
}

const strings = (json: string): string[] => JSON.parse(json) as string[];

function toRole(r: RoleRow): AppRoleRecord {
  return {
    env: r.env,
    name: r.name,
    roleId: r.role_id,
    bindSecretId: r.bind_secret_id === 1,
    tokenPolicies: strings(r.token_policies),
    tokenNoDefaultPolicy: r.token_no_default_policy === 1,
    tokenTtlSeconds: r.token_ttl,
    tokenMaxTtlSeconds: r.token_max_ttl,
    tokenNumUses: r.token_num_uses,
    secretIdTtlSeconds: r.secret_id_ttl,
    secretIdNumUses: r.secret_id_num_uses,
    secretIdBoundCidrs: strings(r.secret_id_bound_cidrs),
    tokenBoundCidrs: strings(r.token_bound_cidrs),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

function toSecretId(r: SecretIdRow): SecretIdRecord {
  return {
    env: r.env,
    roleName: r.role_name,
    accessor: r.accessor,
    secretIdHmac: Buffer.from(r.secret_id_hmac),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
    numUses: r.num_uses,
    usesLeft: r.uses_left,
    cidrs: strings(r.cidrs),
    tokenBoundCidrs: strings(r.token_bound_cidrs),
    metadata: JSON.parse(r.metadata) as Record<string, string>,
  };
}

function toMethod(r: MethodRow): MfaMethodRecord {
  return {
    env: r.env,
    name: r.name,
    methodId: r.method_id,
    type: r.type,
    config: JSON.parse(r.config) as JsonObject,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export class SqliteIdentityStore implements IdentityStore {
  private readonly consumeTx: Transaction<(env: string, role: string, accessor: string, now: number) => ConsumeSecretIdResult>;
  private readonly failureTx: Transaction<(env: string, method: string, subject: string, now: number, max: number, lockMs: number) => MfaFailureState>;
  private readonly deleteMethodTx: Transaction<(env: string, name: string) => boolean>;

  constructor(private readonly db: SqliteConnection) {
    this.consumeTx = db.transaction((env: string, role: string, accessor: string, now: number): ConsumeSecretIdResult => {
      const row = db.prepare('SELECT * FROM approle_secret_ids WHERE env = ? AND role_name = ? AND accessor = ?').get(env, role, accessor) as SecretIdRow | undefined;
      if (!row) return { outcome: 'not-found' };
      const del = (): void => {
        db.prepare('DELETE FROM approle_secret_ids WHERE env = ? AND role_name = ? AND accessor = ?').run(env, role, accessor);
      };
      if (row.expires_at !== null && row.expires_at <= now) {
        del();
        return { outcome: 'expired' };
      }
      if (row.uses_left === null) return { outcome: 'ok', record: toSecretId(row) };
      if (row.uses_left <= 0) {
        del();
        return { outcome: 'exhausted' };
      }
      const left = row.uses_left - 1;
      if (left === 0) del();
      else db.prepare('UPDATE approle_secret_ids SET uses_left = ?, updated_at = ? WHERE env = ? AND role_name = ? AND accessor = ?').run(left, now, env, role, accessor);
      return { outcome: 'ok', record: toSecretId({ ...row, uses_left: left, updated_at: now }) };
    });
    this.failureTx = db.transaction((env: string, method: string, subject: string, now: number, max: number, lockMs: number): MfaFailureState => {
      const row = db.prepare('SELECT failures, locked_until FROM mfa_failures WHERE env = ? AND method_name = ? AND subject = ?').get(env, method, subject) as
        | { failures: number; locked_until: number | null }
        | undefined;
      let failures = (row?.failures ?? 0) + 1;
      let lockedUntil = row?.locked_until ?? null;
      if (lockedUntil !== null && lockedUntil <= now) lockedUntil = null;
      if (failures >= max) {
        lockedUntil = now + lockMs;
        failures = 0;
      }
      db.prepare(
        `INSERT INTO mfa_failures (env, method_name, subject, failures, locked_until, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (env, method_name, subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
      ).run(env, method, subject, failures, lockedUntil, now);
      return { failures, lockedUntil: lockedUntil === null ? null : new Date(lockedUntil) };
    });
    this.deleteMethodTx = db.transaction((env: string, name: string): boolean => {
      db.prepare('DELETE FROM mfa_used_codes WHERE env = ? AND method_name = ?').run(env, name);
      db.prepare('DELETE FROM mfa_failures WHERE env = ? AND method_name = ?').run(env, name);
      return db.prepare('DELETE FROM mfa_methods WHERE env = ? AND name = ?').run(env, name).changes > 0;
    });
  }

  private async run<T>(context: string, fn: () => T): Promise<T> {
    return withSqliteErrors(context, fn);
  }

  // ---- AppRole ----

  putAppRole(role: AppRoleRecord): Promise<void> {
    return this.run('putAppRole', () => {
      this.db
        .prepare(
          `INSERT INTO approle_roles (env, name, role_id, bind_secret_id, token_policies, token_no_default_policy, token_ttl, token_max_ttl,
             token_num_uses, secret_id_ttl, secret_id_num_uses, secret_id_bound_cidrs, token_bound_cidrs, created_at, updated_at)
           VALUES (@env, @name, @role_id, @bind_secret_id, @token_policies, @token_no_default_policy, @token_ttl, @token_max_ttl,
             @token_num_uses, @secret_id_ttl, @secret_id_num_uses, @secret_id_bound_cidrs, @token_bound_cidrs, @created_at, @updated_at)
           ON CONFLICT (env, name) DO UPDATE SET role_id = excluded.role_id, bind_secret_id = excluded.bind_secret_id,
             token_policies = excluded.token_policies, token_no_default_policy = excluded.token_no_default_policy,
             token_ttl = excluded.token_ttl, token_max_ttl = excluded.token_max_ttl, token_num_uses = excluded.token_num_uses,
             secret_id_ttl = excluded.secret_id_ttl, secret_id_num_uses = excluded.secret_id_num_uses,
             secret_id_bound_cidrs = excluded.secret_id_bound_cidrs, token_bound_cidrs = excluded.token_bound_cidrs,
             updated_at = excluded.updated_at`,
        )
        .run({
          env: role.env,
          name: role.name,
          role_id: role.roleId,
          bind_secret_id: role.bindSecretId ? 1 : 0,
          token_policies: JSON.stringify(role.tokenPolicies),
          token_no_default_policy: role.tokenNoDefaultPolicy ? 1 : 0,
          token_ttl: role.tokenTtlSeconds,
          token_max_ttl: role.tokenMaxTtlSeconds,
          token_num_uses: role.tokenNumUses,
          secret_id_ttl: role.secretIdTtlSeconds,
          secret_id_num_uses: role.secretIdNumUses,
          secret_id_bound_cidrs: JSON.stringify(role.secretIdBoundCidrs),
          token_bound_cidrs: JSON.stringify(role.tokenBoundCidrs),
          created_at: role.createdAt.getTime(),
          updated_at: role.updatedAt.getTime(),
        });
    });
  }

  getAppRole(env: string, name: string): Promise<AppRoleRecord | null> {
    return this.run('getAppRole', () => {
      const row = this.db.prepare('SELECT * FROM approle_roles WHERE env = ? AND name = ?').get(env, name) as RoleRow | undefined;
      return row ? toRole(row) : null;
    });
  }

  getAppRoleByRoleId(env: string, roleId: string): Promise<AppRoleRecord | null> {
    return this.run('getAppRoleByRoleId', () => {
      const row = this.db.prepare('SELECT * FROM approle_roles WHERE env = ? AND role_id = ?').get(env, roleId) as RoleRow | undefined;
      return row ? toRole(row) : null;
    });
  }

  listAppRoles(env: string): Promise<string[]> {
    return this.run('listAppRoles', () =>
      (this.db.prepare('SELECT name FROM approle_roles WHERE env = ? ORDER BY name').all(env) as Array<{ name: string }>).map((r) => r.name),
    );
  }

  deleteAppRole(env: string, name: string): Promise<boolean> {
    // Secret IDs go by ON DELETE CASCADE (foreign_keys = ON in openDatabase).
    return this.run('deleteAppRole', () => this.db.prepare('DELETE FROM approle_roles WHERE env = ? AND name = ?').run(env, name).changes > 0);
  }

  addSecretId(r: SecretIdRecord): Promise<void> {
    return this.run('addSecretId', () => {
      this.db
        .prepare(
          `INSERT INTO approle_secret_ids (env, role_name, accessor, secret_id_hmac, created_at, updated_at, expires_at, num_uses, uses_left, cidrs, token_bound_cidrs, metadata)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.env,
          r.roleName,
          r.accessor,
          r.secretIdHmac,
          r.createdAt.getTime(),
          r.updatedAt.getTime(),
          r.expiresAt === null ? null : r.expiresAt.getTime(),
          r.numUses,
          r.usesLeft,
          JSON.stringify(r.cidrs),
          JSON.stringify(r.tokenBoundCidrs),
          JSON.stringify(r.metadata),
        );
    });
  }

  getSecretIdByHmac(env: string, roleName: string, secretIdHmac: Buffer): Promise<SecretIdRecord | null> {
    return this.run('getSecretIdByHmac', () => {
      const row = this.db.prepare('SELECT * FROM approle_secret_ids WHERE env = ? AND role_name = ? AND secret_id_hmac = ?').get(env, roleName, secretIdHmac) as SecretIdRow | undefined;
      return row ? toSecretId(row) : null;
    });
  }

  getSecretIdByAccessor(env: string, roleName: string, accessor: string): Promise<SecretIdRecord | null> {
    return this.run('getSecretIdByAccessor', () => {
      const row = this.db.prepare('SELECT * FROM approle_secret_ids WHERE env = ? AND role_name = ? AND accessor = ?').get(env, roleName, accessor) as SecretIdRow | undefined;
      return row ? toSecretId(row) : null;
    });
  }

  listSecretIdAccessors(env: string, roleName: string): Promise<string[]> {
    return this.run('listSecretIdAccessors', () =>
      (this.db.prepare('SELECT accessor FROM approle_secret_ids WHERE env = ? AND role_name = ? ORDER BY accessor').all(env, roleName) as Array<{ accessor: string }>).map(
        (r) => r.accessor,
      ),
    );
  }

  deleteSecretId(env: string, roleName: string, accessor: string): Promise<boolean> {
    return this.run(
      'deleteSecretId',
      () => this.db.prepare('DELETE FROM approle_secret_ids WHERE env = ? AND role_name = ? AND accessor = ?').run(env, roleName, accessor).changes > 0,
    );
  }

  consumeSecretId(env: string, roleName: string, accessor: string, now: Date): Promise<ConsumeSecretIdResult> {
    return this.run('consumeSecretId', () => this.consumeTx.immediate(env, roleName, accessor, now.getTime()));
  }

  purgeExpiredSecretIds(now: Date): Promise<number> {
    return this.run('purgeExpiredSecretIds', () => this.db.prepare('DELETE FROM approle_secret_ids WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now.getTime()).changes);
  }

  // ---- JWT ----

  putJwtConfig(env: string, doc: JsonObject, now: Date): Promise<void> {
    return this.run('putJwtConfig', () => {
      this.db
        .prepare('INSERT INTO jwt_auth_config (env, config, updated_at) VALUES (?, ?, ?) ON CONFLICT (env) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at')
        .run(env, JSON.stringify(doc), now.getTime());
    });
  }

  getJwtConfig(env: string): Promise<JsonObject | null> {
    return this.run('getJwtConfig', () => {
      const row = this.db.prepare('SELECT config FROM jwt_auth_config WHERE env = ?').get(env) as { config: string } | undefined;
      return row ? (JSON.parse(row.config) as JsonObject) : null;
    });
  }

  putJwtRole(env: string, name: string, doc: JsonObject, now: Date): Promise<void> {
    return this.run('putJwtRole', () => {
      this.db
        .prepare(
          `INSERT INTO jwt_auth_roles (env, name, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (env, name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
        )
        .run(env, name, JSON.stringify(doc), now.getTime(), now.getTime());
    });
  }

  getJwtRole(env: string, name: string): Promise<NamedDocument | null> {
    return this.run('getJwtRole', () => {
      const row = this.db.prepare('SELECT * FROM jwt_auth_roles WHERE env = ? AND name = ?').get(env, name) as DocRow | undefined;
      return row
        ? { env: row.env, name: row.name, doc: JSON.parse(row.config) as JsonObject, createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at) }
        : null;
    });
  }

  listJwtRoles(env: string): Promise<string[]> {
    return this.run('listJwtRoles', () =>
      (this.db.prepare('SELECT name FROM jwt_auth_roles WHERE env = ? ORDER BY name').all(env) as Array<{ name: string }>).map((r) => r.name),
    );
  }

  deleteJwtRole(env: string, name: string): Promise<boolean> {
    return this.run('deleteJwtRole', () => this.db.prepare('DELETE FROM jwt_auth_roles WHERE env = ? AND name = ?').run(env, name).changes > 0);
  }

  // ---- MFA ----

  putMfaMethod(m: MfaMethodRecord): Promise<void> {
    return this.run('putMfaMethod', () => {
      this.db
        .prepare(
          `INSERT INTO mfa_methods (env, name, method_id, type, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (env, name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
        )
        .run(m.env, m.name, m.methodId, m.type, JSON.stringify(m.config), m.createdAt.getTime(), m.updatedAt.getTime());
    });
  }

  getMfaMethod(env: string, name: string): Promise<MfaMethodRecord | null> {
    return this.run('getMfaMethod', () => {
      const row = this.db.prepare('SELECT * FROM mfa_methods WHERE env = ? AND name = ?').get(env, name) as MethodRow | undefined;
      return row ? toMethod(row) : null;
    });
  }

  listMfaMethods(env: string): Promise<string[]> {
    return this.run('listMfaMethods', () =>
      (this.db.prepare('SELECT name FROM mfa_methods WHERE env = ? ORDER BY name').all(env) as Array<{ name: string }>).map((r) => r.name),
    );
  }

  deleteMfaMethod(env: string, name: string): Promise<boolean> {
    return this.run('deleteMfaMethod', () => this.deleteMethodTx.immediate(env, name));
  }

  addMfaEnrolment(r: MfaEnrolmentRecord): Promise<void> {
    return this.run('addMfaEnrolment', () => {
      this.db
        .prepare('INSERT INTO mfa_enrolments (env, method_name, subject, sealed_secret, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(r.env, r.methodName, r.subject, r.sealedSecret, r.createdAt.getTime());
    });
  }

  getMfaEnrolment(env: string, methodName: string, subject: string): Promise<MfaEnrolmentRecord | null> {
    return this.run('getMfaEnrolment', () => {
      const row = this.db.prepare('SELECT * FROM mfa_enrolments WHERE env = ? AND method_name = ? AND subject = ?').get(env, methodName, subject) as EnrolmentRow | undefined;
      return row
        ? { env: row.env, methodName: row.method_name, subject: row.subject, sealedSecret: Buffer.from(row.sealed_secret), createdAt: new Date(row.created_at) }
        : null;
    });
  }

  deleteMfaEnrolment(env: string, methodName: string, subject: string): Promise<boolean> {
    return this.run(
      'deleteMfaEnrolment',
      () => this.db.prepare('DELETE FROM mfa_enrolments WHERE env = ? AND method_name = ? AND subject = ?').run(env, methodName, subject).changes > 0,
    );
  }

  lastTotpTimeStep(env: string, methodName: string, subject: string): Promise<number | null> {
    return this.run('lastTotpTimeStep', () => {
      const row = this.db.prepare('SELECT MAX(time_step) AS step FROM mfa_used_codes WHERE env = ? AND method_name = ? AND subject = ?').get(env, methodName, subject) as
        | { step: number | null }
        | undefined;
      return row?.step ?? null;
    });
  }

  recordTotpUse(env: string, methodName: string, subject: string, timeStep: number, now: Date): Promise<boolean> {
    return this.run(
      'recordTotpUse',
      () =>
        this.db
          .prepare('INSERT OR IGNORE INTO mfa_used_codes (env, method_name, subject, time_step, used_at) VALUES (?, ?, ?, ?, ?)')
          .run(env, methodName, subject, timeStep, now.getTime()).changes === 1,
    );
  }

  purgeTotpUses(before: Date): Promise<number> {
    return this.run('purgeTotpUses', () => this.db.prepare('DELETE FROM mfa_used_codes WHERE used_at < ?').run(before.getTime()).changes);
  }

  getMfaFailures(env: string, methodName: string, subject: string): Promise<MfaFailureState> {
    return this.run('getMfaFailures', () => {
      const row = this.db.prepare('SELECT failures, locked_until FROM mfa_failures WHERE env = ? AND method_name = ? AND subject = ?').get(env, methodName, subject) as
        | { failures: number; locked_until: number | null }
        | undefined;
      return { failures: row?.failures ?? 0, lockedUntil: row?.locked_until == null ? null : new Date(row.locked_until) };
    });
  }

  recordMfaFailure(env: string, methodName: string, subject: string, now: Date, maxAttempts: number, lockSeconds: number): Promise<MfaFailureState> {
    return this.run('recordMfaFailure', () => this.failureTx.immediate(env, methodName, subject, now.getTime(), maxAttempts, lockSeconds * 1000));
  }

  resetMfaFailures(env: string, methodName: string, subject: string): Promise<void> {
    return this.run('resetMfaFailures', () => {
      this.db.prepare('DELETE FROM mfa_failures WHERE env = ? AND method_name = ? AND subject = ?').run(env, methodName, subject);
    });
  }
}
