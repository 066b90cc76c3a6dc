/**
 * IdentityStore: persistence for the login methods (AppRole, JWT/OIDC) and step-up MFA (TOTP).
 * Speaks in domain operations, not SQL, so a PostgreSQL adapter can follow (DESIGN.md §5).
 *
 * Invariants every adapter keeps:
 * - Secret IDs are held only as their HSM-computed HMAC; nothing here ever sees a secret ID in clear.
 * - `consumeSecretId` is atomic: of N concurrent logins with a secret ID that has k uses left, at most
 *   k succeed; an expired or exhausted secret ID is deleted and never succeeds again.
 * - `recordTotpUse` is atomic: a (method, subject, time step) is accepted at most once, ever.
 * - `recordMfaFailure` increments atomically and sets the lock when the count reaches the limit.
 * - Deleting a role deletes its secret IDs; deleting an MFA method deletes its enrolments.
 * - Records handed out are fresh copies; all times are Dates; every row belongs to one environment.
 */
export interface AppRoleRecord {
  readonly env: string;
  readonly name: string;
  readonly roleId: string;
  readonly bindSecretId: boolean;
  readonly tokenPolicies: readonly string[];
  readonly tokenNoDefaultPolicy: boolean;
  /** 0 = the service default. */
  readonly tokenTtlSeconds: number;
  /** 0 = no role-level cap. */
  readonly tokenMaxTtlSeconds: number;
  /** 0 = unlimited. */
  readonly tokenNumUses: number;
  /** 0 = secret IDs do not expire. */
  readonly secretIdTtlSeconds: number;
  /** 0 = unlimited uses. */
  readonly secretIdNumUses: number;
  readonly secretIdBoundCidrs: readonly string[];
  readonly tokenBoundCidrs: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SecretIdRecord {
  readonly env: string;
  readonly roleName: string;
  readonly accessor: string;
  /** HMAC-SHA256 of the secret ID, computed in the HSM. */
  readonly secretIdHmac: Buffer;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** null = never expires. */
  readonly expiresAt: Date | null;
  /** Uses granted at creation; 0 = unlimited. */
  readonly numUses: number;
  /** Uses remaining; null = unlimited. */
  readonly usesLeft: number | null;
  readonly cidrs: readonly string[];
  readonly tokenBoundCidrs: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

export type ConsumeSecretIdResult =
  | { readonly outcome: 'ok'; readonly record: SecretIdRecord }
  | { readonly outcome: 'not-found' | 'expired' | 'exhausted' };

/** A JSON document: the JWT method's config and roles are validated by the auth module, stored as is. */
export type JsonObject = Readonly<Record<string, unknown>>;

export interface NamedDocument {
  readonly env: string;
  readonly name: string;
  readonly doc: JsonObject;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface MfaMethodRecord {
  readonly env: string;
  readonly name: string;
  readonly methodId: string;
  readonly type: 'totp';
  readonly config: JsonObject;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface MfaEnrolmentRecord {
  readonly env: string;
  readonly methodName: string;
  readonly subject: string;
  /** The TOTP secret sealed by the MFA module (never in clear). */
  readonly sealedSecret: Buffer;
  readonly createdAt: Date;
}

export interface MfaFailureState {
  readonly failures: number;
  readonly lockedUntil: Date | null;
}

export interface IdentityStore {
  // ---- AppRole ----
  /** Insert or replace the role (keyed by env + name). ERR_ALREADY_EXISTS if another role has the role ID. */
  putAppRole(role: AppRoleRecord): Promise<void>;
  getAppRole(env: string, name: string): Promise<AppRoleRecord | null>;
  getAppRoleByRoleId(env: string, roleId: string): Promise<AppRoleRecord | null>;
  listAppRoles(env: string): Promise<string[]>;
  /** Deletes the role and all its secret IDs. False if there was none. */
  deleteAppRole(env: string, name: string): Promise<boolean>;

  addSecretId(record: SecretIdRecord): Promise<void>;
  getSecretIdByHmac(env: string, roleName: string, secretIdHmac: Buffer): Promise<SecretIdRecord | null>;
  getSecretIdByAccessor(env: string, roleName: string, accessor: string): Promise<SecretIdRecord | null>;
  listSecretIdAccessors(env: string, roleName: string): Promise<string[]>;
  deleteSecretId(env: string, roleName: string, accessor: string): Promise<boolean>;
  /** Atomically: refuse if expired (and delete), else take one use (deleting it at zero). */
  consumeSecretId(env: string, roleName: string, accessor: string, now: Date): Promise<ConsumeSecretIdResult>;
  purgeExpiredSecretIds(now: Date): Promise<number>;

  // ---- JWT/OIDC auth method ----
  putJwtConfig(env: string, doc: JsonObject, now: Date): Promise<void>;
  getJwtConfig(env: string): Promise<JsonObject | null>;
  putJwtRole(env: string, name: string, doc: JsonObject, now: Date): Promise<void>;
  getJwtRole(env: string, name: string): Promise<NamedDocument | null>;
  listJwtRoles(env: string): Promise<string[]>;
  deleteJwtRole(env: string, name: string): Promise<boolean>;

  // ---- MFA ----
  putMfaMethod(method: MfaMethodRecord): Promise<void>;
  getMfaMethod(env: string, name: string): Promise<MfaMethodRecord | null>;
  listMfaMethods(env: string): Promise<string[]>;
  /** Deletes the method and its enrolments, used codes and failure counters. */
  deleteMfaMethod(env: string, name: string): Promise<boolean>;

  /** ERR_ALREADY_EXISTS if the subject is already enrolled in this method. */
  addMfaEnrolment(record: MfaEnrolmentRecord): Promise<void>;
  getMfaEnrolment(env: string, methodName: string, subject: string): Promise<MfaEnrolmentRecord | null>;
  deleteMfaEnrolment(env: string, methodName: string, subject: string): Promise<boolean>;

  /** Highest time step already accepted for this subject and method, or null. */
  lastTotpTimeStep(env: string, methodName: string, subject: string): Promise<number | null>;
  /** True if this (method, subject, time step) was not used before and is now recorded. */
  recordTotpUse(env: string, methodName: string, subject: string, timeStep: number, now: Date): Promise<boolean>;
  purgeTotpUses(before: Date): Promise<number>;

  getMfaFailures(env: string, methodName: string, subject: string): Promise<MfaFailureState>;
  /**
   * Atomically counts one failure; when the count reaches `maxAttempts` the subject is locked until
   * `now + lockSeconds` and the count starts again. Returns the state after the update.
   */
  recordMfaFailure(env: string, methodName: string, subject: string, now: Date, maxAttempts: number, lockSeconds: number): Promise<MfaFailureState>;
  resetMfaFailures(env: string, methodName: string, subject: string): Promise<void>;
}
