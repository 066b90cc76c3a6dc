/**
 * AppRole: Vault's login method for services. A role names policies and token limits; a caller logs
 * in with the role's (non-secret) role ID and a secret ID generated for it.
 *
 * Invariants:
 * - A secret ID is shown once, at generation. It is stored only as HMAC-SHA256 under an HSM key
 *   (`keyward-secret-id-hmac-1`) over env, role and secret ID, so a copied database yields no usable
 *   secret ID and a row cannot be moved to another role; the HMAC is compared with timingSafeEqual.
 * - A login either consumes exactly one use of the secret ID (atomically, in the store) and gets a
 *   token, or fails with the one message "invalid role or secret ID" (400, as Vault); the reason
 *   goes to the audit entry only. Binding checks (CIDRs) run before a use is taken.
 * - Tokens carry env = the request's environment, authMethod 'approle', role = the role name and
 *   subject `approle/<env>/<role>`; deleting a role revokes every token issued through it (by that
 *   env-qualified subject, so a same-named role in another environment is untouched) and its secret IDs.
 */
import crypto from 'node:crypto';
import { KeywardError, invalidInput } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { AppRoleRecord, IdentityStore, SecretIdRecord } from '../../core/ports/identity-store.js';
import type { Environment } from '../../core/types.js';
import type { IssuedToken, TokenService } from '../token-service.js';
import { parseCidrList, sourceAllowed } from './cidr.js';
import { loginFailed } from './login-failure.js';
import { generateSecretId, isValidSecretIdFormat } from './secret-id-format.js';

export const SECRET_ID_HMAC_KEY = 'keyward-secret-id-hmac-1';
export const APPROLE_METHOD = 'approle';
export const DEFAULT_POLICY = 'default';
const LOGIN_FAILED = 'invalid role or secret ID';

const ROLE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ROLE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,255}$/;
const POLICY_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:+=-]{0,127}$/;
const META_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:+=-]{0,127}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface AppRoleDeps {
  readonly store: IdentityStore;
  readonly hsm: Pick<Hsm, 'hmacSha256' | 'ensureMacKey' | 'randomBytes'>;
  readonly tokens: Pick<TokenService, 'issue' | 'revokeSubject'>;
  readonly clock: Clock;
}

export interface RoleUpdate {
  readonly roleId?: string;
  readonly bindSecretId?: boolean;
  /** A list, or Vault's comma-separated string. */
  readonly tokenPolicies?: readonly string[] | string;
  readonly tokenNoDefaultPolicy?: boolean;
  readonly tokenTtlSeconds?: number;
  readonly tokenMaxTtlSeconds?: number;
  readonly tokenNumUses?: number;
  readonly secretIdTtlSeconds?: number;
  readonly secretIdNumUses?: number;
  readonly secretIdBoundCidrs?: readonly string[] | string;
  readonly tokenBoundCidrs?: readonly string[] | string;
}

export interface SecretIdRequest {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly cidrList?: readonly string[] | string;
  readonly tokenBoundCidrs?: readonly string[] | string;
  readonly numUses?: number;
  readonly ttlSeconds?: number;
}

export interface GeneratedSecretId {
  readonly secretId: string;
  readonly accessor: string;
  readonly ttlSeconds: number;
  readonly numUses: number;
}

export interface AppRoleLogin {
  readonly token: IssuedToken;
  readonly roleName: string;
  readonly subject: string;
  readonly entityId: string;
  readonly policies: readonly string[];
  readonly metadata: Record<string, string>;
}

export function parseRoleName(raw: unknown): string {
  if (typeof raw !== 'string' || !ROLE_NAME_RE.test(raw)) throw invalidInput('invalid role name');
  return raw;
}

export function parsePolicies(raw: readonly string[] | string | undefined): string[] {
  if (raw === undefined) return [];
  const items = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((p) => (typeof p === 'string' ? p.trim() : '')).filter((p) => p !== '');
  const out: string[] = [];
  for (const p of items) {
    if (!POLICY_RE.test(p)) throw invalidInput('invalid policy name');
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function nonNegative(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidInput(`${what} must be a non-negative integer`);
  return value;
}

/** The policies a token gets: the role's, plus 'default' unless the role opts out; sorted as Vault does. */
export function effectivePolicies(tokenPolicies: readonly string[], noDefault: boolean): string[] {
  const set = new Set(tokenPolicies);
  if (!noDefault) set.add(DEFAULT_POLICY);
  return [...set].sort();
}

/** A stable, non-secret entity id for a subject (UUID-shaped, as Vault's entity_id). */
export function entityIdFor(env: string, subject: string): string {
  const h = crypto.createHash('sha256').update(`keyward-entity\0${env}\0${subject}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function approleSubject(env: string, roleName: string): string {
  return `approle/${env}/${roleName}`;
}

async function randomUuid(hsm: Pick<Hsm, 'randomBytes'>): Promise<string> {
  const b = await hsm.randomBytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function checkMetadata(meta: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(meta ?? {});
  if (entries.length > 32) throw invalidInput('too many metadata entries');
  for (const [k, v] of entries) {
    if (!META_KEY_RE.test(k) || k === 'role_name' || typeof v !== 'string' || v.length > 512) throw invalidInput('invalid metadata entry');
    out[k] = v;
  }
  return out;
}

export class AppRoleService {
  constructor(private readonly deps: AppRoleDeps) {}

  /** The service's clock (responses show remaining TTLs against it). */
  now(): Date {
    return this.deps.clock.now();
  }

  /** Call once at startup: the HMAC key for secret IDs must exist in the HSM. */
  async init(): Promise<void> {
    await this.deps.hsm.ensureMacKey(SECRET_ID_HMAC_KEY);
  }

  private hmac(env: string, roleName: string, secretId: string): Promise<Buffer> {
    return this.deps.hsm.hmacSha256(SECRET_ID_HMAC_KEY, Buffer.from(`keyward-secret-id\0${env}\0${roleName}\0${secretId}`, 'utf8'));
  }

  private async requireRole(env: Environment, name: string): Promise<AppRoleRecord> {
    const role = await this.deps.store.getAppRole(env, parseRoleName(name));
    // Vault answers operations on a missing role with 400 "role ... does not exist".
    if (!role) throw invalidInput(`role "${name}" does not exist`);
    return role;
  }

  // ---- roles ------------------------------------------------------------------------------

  /** Create or update (only the given fields change), as Vault's POST auth/approle/role/:name. */
  async writeRole(env: Environment, rawName: string, update: RoleUpdate): Promise<AppRoleRecord> {
    const name = parseRoleName(rawName);
    const now = this.deps.clock.now();
    const existing = await this.deps.store.getAppRole(env, name);
    if (update.roleId !== undefined && !ROLE_ID_RE.test(update.roleId)) throw invalidInput('invalid role_id');
    const next: AppRoleRecord = {
      env,
      name,
      roleId: update.roleId ?? existing?.roleId ?? (await randomUuid(this.deps.hsm)),
      bindSecretId: update.bindSecretId ?? existing?.bindSecretId ?? true,
      tokenPolicies: update.tokenPolicies !== undefined ? parsePolicies(update.tokenPolicies) : (existing?.tokenPolicies ?? []),
      tokenNoDefaultPolicy: update.tokenNoDefaultPolicy ?? existing?.tokenNoDefaultPolicy ?? false,
      tokenTtlSeconds: nonNegative(update.tokenTtlSeconds ?? existing?.tokenTtlSeconds ?? 0, 'token_ttl'),
      tokenMaxTtlSeconds: nonNegative(update.tokenMaxTtlSeconds ?? existing?.tokenMaxTtlSeconds ?? 0, 'token_max_ttl'),
      tokenNumUses: nonNegative(update.tokenNumUses ?? existing?.tokenNumUses ?? 0, 'token_num_uses'),
      secretIdTtlSeconds: nonNegative(update.secretIdTtlSeconds ?? existing?.secretIdTtlSeconds ?? 0, 'secret_id_ttl'),
      secretIdNumUses: nonNegative(update.secretIdNumUses ?? existing?.secretIdNumUses ?? 0, 'secret_id_num_uses'),
      secretIdBoundCidrs: update.secretIdBoundCidrs !== undefined ? parseCidrList(update.secretIdBoundCidrs) : (existing?.secretIdBoundCidrs ?? []),
      tokenBoundCidrs: update.tokenBoundCidrs !== undefined ? parseCidrList(update.tokenBoundCidrs) : (existing?.tokenBoundCidrs ?? []),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (next.tokenMaxTtlSeconds > 0 && next.tokenTtlSeconds > next.tokenMaxTtlSeconds) throw invalidInput('token_ttl should not be greater than token_max_ttl');
    if (!next.bindSecretId && next.secretIdBoundCidrs.length === 0 && next.tokenBoundCidrs.length === 0) {
      throw invalidInput('at least one constraint should be enabled on the role');
    }
    try {
      await this.deps.store.putAppRole(next);
    } catch (e) {
      if (e instanceof KeywardError && e.code === 'ERR_ALREADY_EXISTS') throw invalidInput('role_id already in use');
      throw e;
    }
    return next;
  }

  async readRole(env: Environment, name: string): Promise<AppRoleRecord | null> {
    return this.deps.store.getAppRole(env, parseRoleName(name));
  }

  listRoles(env: Environment): Promise<string[]> {
    return this.deps.store.listAppRoles(env);
  }

  /** Deletes the role and its secret IDs, then revokes every token issued through it. */
  async deleteRole(env: Environment, rawName: string): Promise<{ deleted: boolean; revokedTokens: number }> {
    const name = parseRoleName(rawName);
    const deleted = await this.deps.store.deleteAppRole(env, name);
    // Revoke even when the row was already gone: a crash between the two steps must not leave live tokens.
    const revokedTokens = await this.deps.tokens.revokeSubject(approleSubject(env, name), 'approle-role-deleted');
    return { deleted, revokedTokens };
  }

  async readRoleId(env: Environment, name: string): Promise<string | null> {
    return (await this.readRole(env, name))?.roleId ?? null;
  }

  async writeRoleId(env: Environment, name: string, roleId: string): Promise<void> {
    await this.requireRole(env, name);
    await this.writeRole(env, name, { roleId });
  }

  // ---- secret IDs ---------------------------------------------------------------------------

  async generateSecretId(env: Environment, name: string, request: SecretIdRequest = {}): Promise<GeneratedSecretId> {
    const role = await this.requireRole(env, name);
    const ttl = nonNegative(request.ttlSeconds ?? role.secretIdTtlSeconds, 'ttl');
    if (role.secretIdTtlSeconds > 0 && (ttl === 0 || ttl > role.secretIdTtlSeconds)) throw invalidInput("ttl cannot be longer than the role's secret_id_ttl");
    const numUses = nonNegative(request.numUses ?? role.secretIdNumUses, 'num_uses');
    if (role.secretIdNumUses > 0 && (numUses === 0 || numUses > role.secretIdNumUses)) throw invalidInput("num_uses cannot be higher than the role's secret_id_num_uses");
    const metadata = checkMetadata(request.metadata);
    const cidrs = parseCidrList(request.cidrList);
    const tokenBoundCidrs = parseCidrList(request.tokenBoundCidrs);
    const secretId = await generateSecretId((n) => this.deps.hsm.randomBytes(n));
    const accessor = await randomUuid(this.deps.hsm);
    const now = this.deps.clock.now();
    await this.deps.store.addSecretId({
      env,
      roleName: role.name,
      accessor,
      secretIdHmac: await this.hmac(env, role.name, secretId),
      createdAt: now,
      updatedAt: now,
      expiresAt: ttl > 0 ? new Date(now.getTime() + ttl * 1000) : null,
      numUses,
      usesLeft: numUses > 0 ? numUses : null,
      cidrs,
      tokenBoundCidrs,
      metadata,
    });
    return { secretId, accessor, ttlSeconds: ttl, numUses };
  }

  async listSecretIdAccessors(env: Environment, name: string): Promise<string[]> {
    const role = await this.requireRole(env, name);
    return this.deps.store.listSecretIdAccessors(env, role.name);
  }

  private live(record: SecretIdRecord | null): SecretIdRecord | null {
    if (!record) return null;
    if (record.expiresAt !== null && record.expiresAt.getTime() <= this.deps.clock.now().getTime()) return null;
    return record;
  }

  private async findBySecretId(env: Environment, roleName: string, secretId: string): Promise<SecretIdRecord | null> {
    if (!isValidSecretIdFormat(secretId)) return null;
    const mac = await this.hmac(env, roleName, secretId);
    const record = await this.deps.store.getSecretIdByHmac(env, roleName, mac);
    if (!record || record.secretIdHmac.length !== mac.length || !crypto.timingSafeEqual(record.secretIdHmac, mac)) return null;
    return this.live(record);
  }

  async lookupSecretId(env: Environment, name: string, secretId: string): Promise<SecretIdRecord | null> {
    const role = await this.requireRole(env, name);
    return this.findBySecretId(env, role.name, secretId);
  }

  async destroySecretId(env: Environment, name: string, secretId: string): Promise<void> {
    const role = await this.requireRole(env, name);
    const record = await this.findBySecretId(env, role.name, secretId);
    if (record) await this.deps.store.deleteSecretId(env, role.name, record.accessor);
  }

  async lookupAccessor(env: Environment, name: string, accessor: string): Promise<SecretIdRecord | null> {
    const role = await this.requireRole(env, name);
    if (!UUID_RE.test(accessor)) return null;
    return this.live(await this.deps.store.getSecretIdByAccessor(env, role.name, accessor));
  }

  /** True if something was destroyed. */
  async destroyAccessor(env: Environment, name: string, accessor: string): Promise<boolean> {
    const role = await this.requireRole(env, name);
    if (!UUID_RE.test(accessor)) return false;
    return this.deps.store.deleteSecretId(env, role.name, accessor);
  }

  // ---- login ------------------------------------------------------------------------------

  async login(env: Environment, input: { roleId: unknown; secretId: unknown }, sourceAddress: string): Promise<AppRoleLogin> {
    if (typeof input.roleId !== 'string' || input.roleId === '') throw invalidInput('missing role_id');
    const role = await this.deps.store.getAppRoleByRoleId(env, input.roleId);
    if (!role) throw loginFailed(LOGIN_FAILED, 'unknown-role-id');
    if (!sourceAllowed(role.secretIdBoundCidrs, sourceAddress) || !sourceAllowed(role.tokenBoundCidrs, sourceAddress)) {
      throw loginFailed(LOGIN_FAILED, 'source-address-not-allowed');
    }
    const metadata: Record<string, string> = {};
    let boundCidrs: readonly string[] = role.tokenBoundCidrs;
    if (role.bindSecretId) {
      if (typeof input.secretId !== 'string' || input.secretId === '') throw invalidInput('missing secret_id');
      if (!isValidSecretIdFormat(input.secretId)) throw loginFailed(LOGIN_FAILED, 'malformed-secret-id');
      const record = await this.findBySecretId(env, role.name, input.secretId);
      if (!record) throw loginFailed(LOGIN_FAILED, 'unknown-secret-id');
      if (!sourceAllowed(record.cidrs, sourceAddress) || !sourceAllowed(record.tokenBoundCidrs, sourceAddress)) {
        throw loginFailed(LOGIN_FAILED, 'source-address-not-allowed');
      }
      const consumed = await this.deps.store.consumeSecretId(env, role.name, record.accessor, this.deps.clock.now());
      if (consumed.outcome !== 'ok') throw loginFailed(LOGIN_FAILED, `secret-id-${consumed.outcome}`);
      Object.assign(metadata, consumed.record.metadata);
      // A secret ID's own token_bound_cidrs narrow the role's, as in Vault.
      if (consumed.record.tokenBoundCidrs.length > 0) boundCidrs = consumed.record.tokenBoundCidrs;
    }
    metadata['role_name'] = role.name;
    const policies = effectivePolicies(role.tokenPolicies, role.tokenNoDefaultPolicy);
    const subject = approleSubject(env, role.name);
    let ttlSeconds: number | undefined = role.tokenTtlSeconds > 0 ? role.tokenTtlSeconds : undefined;
    if (role.tokenMaxTtlSeconds > 0) ttlSeconds = Math.min(ttlSeconds ?? role.tokenMaxTtlSeconds, role.tokenMaxTtlSeconds);
    const token = await this.deps.tokens.issue({
      subject,
      authMethod: APPROLE_METHOD,
      role: role.name,
      policies,
      env,
      meta: metadata,
      boundCidrs,
      ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
      ...(role.tokenNumUses > 0 ? { numUses: role.tokenNumUses } : {}),
    });
    return { token, roleName: role.name, subject, entityId: entityIdFor(env, subject), policies, metadata };
  }
}
