/**
 * TokenService: issues Keyward tokens (ES256 JWTs signed inside the HSM), verifies them, revokes them.
 *
 * Invariants:
 * - A token is good only if (1) jose verifies its ES256 signature under one of Keyward's own keys and
 *   its claims (see jwt-verifier.ts, RFC 8725), (2) its record exists in the TokenStore, is not
 *   revoked and agrees with the claims, and (3) its `env` is the requested environment or '*'.
 *   The revocation state in (2) is read from the store on every call, cache or not, so a revocation —
 *   by this process or any other sharing the database — holds at once and survives restarts. With the
 *   verified cache on, a token seen before skips the signature check and the full record read: its
 *   record was matched once and records are write-once apart from revocation and uses (TokenStore
 *   port), so per call only `tokenStatus` (and, for num_uses tokens, the atomic `consumeUse`) runs.
 * - Every verification failure is ERR_PERMISSION_DENIED 'permission denied'; the audit reason rides
 *   in `cause` (token-denial.ts).
 * - A child token never exceeds its parent: policies ⊆ parent's (unless the parent is root), lifetime
 *   within the parent's remaining lifetime, same environment (unless the parent is root). The store
 *   refuses a child of a revoked parent atomically, closing the revoke-while-issuing race.
 * - The 'root' policy and the '*' environment are granted only by issueRootToken or a root parent.
 * - The service reads no environment variables; everything comes from options.
 */
import { KeywardError, invalidInput } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports/clock.js';
import type { Hsm } from '../core/ports/hsm.js';
import type { SigningKeyRecord, TokenRecord, TokenStore } from '../core/ports/token-store.js';
import type { Environment } from '../core/types.js';
import { newAccessor, newJti } from './accessor.js';
import { signJwt, type KeywardClaims } from './jwt-signer.js';
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_BYTES, checkJwt } from './jwt-verifier.js';
import { ALL_ENVIRONMENTS, ROOT_POLICY, type Principal } from './principal.js';
import { SigningKeys, type PublishedJwk, type SigningHsm } from './signing-keys.js';
import { tokenDenied } from './token-denial.js';
import { VerifiedTokenCache, type VerifiedToken } from './verified-cache.js';

export interface TokenServiceOptions {
  /** `iss` of every token, e.g. 'https://vault.example:8200'. Required: no default identity. */
  readonly issuer: string;
  /** `aud`; default 'keyward'. */
  readonly audience?: string;
  /** Ceiling for any requested TTL; default 32 days (Vault's default max_lease_ttl, 768h). */
  readonly maxTtlSeconds?: number;
  /** TTL when the caller asks for none; default 1 hour. */
  readonly defaultTtlSeconds?: number;
  /**
   * Dev root token lifetime; default 7 days. Long enough for a working week against a dev server
   * without re-issuing; short enough that a copied `root.token` file (0600, but dev data dirs get
   * zipped, shared, committed) stops working soon. Vault's dev root never expires; we prefer a bound.
   */
  readonly rootTtlSeconds?: number;
  readonly clock?: Clock;
  /** Skip the signature check for recently verified tokens (revocation is still read every time). */
  readonly cacheVerified?: boolean;
  readonly cacheMaxEntries?: number;
}

export interface TokenServiceDeps {
  readonly hsm: SigningHsm & Pick<Hsm, 'randomBytes'>;
  readonly store: TokenStore;
}

export interface IssueRequest {
  readonly subject: string;
  readonly authMethod: string;
  readonly role?: string | null;
  readonly policies: readonly string[];
  readonly env: Environment;
  /** Default `defaultTtlSeconds`; capped at `maxTtlSeconds` and at the parent's remaining lifetime. */
  readonly ttlSeconds?: number;
  /** The verified caller creating a child token (Vault's auth/token/create); absent = orphan. */
  readonly parent?: Principal;
  readonly meta?: Readonly<Record<string, string>>;
  readonly numUses?: number;
  /**
   * Vault's token_bound_cidrs: the token works only from these source networks (normalised CIDRs).
   * Kept in the record's metadata as `bound_cidrs`; a child token inherits its parent's.
   */
  readonly boundCidrs?: readonly string[];
}

export interface IssuedToken {
  readonly token: string;
  readonly accessor: string;
  readonly jti: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly policies: readonly string[];
  readonly env: string;
  /** The TTL actually granted (after caps). */
  readonly ttlSeconds: number;
}

/**
 * Chooses the environment of a request that names none, from the token's own `env` claim
 * (token-authenticator.ts). `verifiedEnv` is that claim when the token is in the verified cache (the
 * same token: the cache is keyed by its digest), else undefined and the chooser reads the claim itself.
 */
export type EnvironmentChooser = (token: string, verifiedEnv: string | undefined) => Environment;

export interface VerifyRequest {
  /** The environment (X-Vault-Namespace) the request is for, or how to choose it from the token. */
  readonly env: Environment | EnvironmentChooser;
  /**
   * This verification is a use of the token (default true): a use-limited token (num_uses) loses
   * one. Inspecting another caller's token (sys/capabilities, auth/token/lookup) passes false.
   */
  readonly consumeUse?: boolean;
}

const DAY = 86_400;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:+=-]{0,127}$/;
const SUBJECT_MAX = 256;
const META_MAX_ENTRIES = 64;
const META_VALUE_MAX = 512;

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidInput(`${what} must be a positive integer`);
  return value;
}

function normalisePolicies(policies: readonly string[]): string[] {
  if (!Array.isArray(policies)) throw invalidInput('policies must be a list');
  const out: string[] = [];
  for (const p of policies) {
    if (typeof p !== 'string' || !NAME_RE.test(p)) throw invalidInput('invalid policy name');
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function checkMeta(meta: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(meta ?? {});
  if (entries.length > META_MAX_ENTRIES) throw invalidInput('too many metadata entries');
  for (const [k, v] of entries) {
    if (!NAME_RE.test(k) || typeof v !== 'string' || v.length > META_VALUE_MAX) throw invalidInput('invalid metadata entry');
    out[k] = v;
  }
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Reserved metadata key holding a token's bound CIDRs, comma-separated. */
export const BOUND_CIDRS_META = 'bound_cidrs';

function toPrincipal(record: TokenRecord): Principal {
  const bound = record.meta[BOUND_CIDRS_META];
  return {
    boundCidrs: bound ? bound.split(',') : [],
    jti: record.jti,
    accessor: record.accessor,
    subject: record.subject,
    authMethod: record.authMethod,
    role: record.role,
    policies: [...record.policies],
    env: record.env,
    issuedAt: record.issuedAt,
    expiresAt: record.expiresAt,
    isRoot: record.policies.includes(ROOT_POLICY),
  };
}

export class TokenService {
  private readonly issuer: string;
  private readonly audience: string;
  private readonly maxTtlSeconds: number;
  private readonly defaultTtlSeconds: number;
  private readonly rootTtlSeconds: number;
  private readonly clock: Clock;
  private readonly cache: VerifiedTokenCache | null;
  private readonly keys: SigningKeys;

  constructor(
    private readonly deps: TokenServiceDeps,
    options: TokenServiceOptions,
  ) {
    if (typeof options.issuer !== 'string' || options.issuer.length === 0) throw invalidInput('issuer is required');
    this.issuer = options.issuer;
    this.audience = options.audience ?? 'keyward';
    this.maxTtlSeconds = positiveInt(options.maxTtlSeconds ?? 32 * DAY, 'maxTtlSeconds');
    this.defaultTtlSeconds = positiveInt(options.defaultTtlSeconds ?? 3600, 'defaultTtlSeconds');
    this.rootTtlSeconds = positiveInt(options.rootTtlSeconds ?? 7 * DAY, 'rootTtlSeconds');
    if (this.defaultTtlSeconds > this.maxTtlSeconds) throw invalidInput('defaultTtlSeconds exceeds maxTtlSeconds');
    this.clock = options.clock ?? systemClock;
    this.cache = options.cacheVerified ? new VerifiedTokenCache(options.cacheMaxEntries ?? 10_000) : null;
    const longest = Math.max(this.maxTtlSeconds, this.rootTtlSeconds) + CLOCK_TOLERANCE_SECONDS;
    this.keys = new SigningKeys(deps.hsm, deps.store, this.clock, longest);
  }

  // ---- signing keys -------------------------------------------------------------------------

  /** Call once at startup: creates/records the first key if needed, retires keys whose time has come. */
  ensureActiveKey(): Promise<SigningKeyRecord> {
    return this.keys.ensureActiveKey();
  }

  /**
   * New active key; the previous one verifies for max(overlapSeconds, longest token lifetime + 60 s)
   * and is then retired (destroyed in the HSM) by `retireSigningKeys` / the next `ensureActiveKey`.
   */
  async rotateSigningKey(options: { overlapSeconds?: number } = {}): Promise<SigningKeyRecord> {
    const key = await this.keys.rotate(options.overlapSeconds ?? 0);
    this.cache?.clear();
    return key;
  }

  /** Periodic housekeeping: retire verify-only keys past their time. Returns the retired kids. */
  retireSigningKeys(): Promise<string[]> {
    return this.keys.retireDueKeys();
  }

  /** JWKS document (RFC 7517 §5) of the keys that may verify: active and verify-only. */
  jwks(): Promise<{ keys: PublishedJwk[] }> {
    return this.keys.jwks();
  }

  // ---- issuing ------------------------------------------------------------------------------

  async issue(request: IssueRequest): Promise<IssuedToken> {
    if (typeof request.subject !== 'string' || request.subject.length === 0 || request.subject.length > SUBJECT_MAX) {
      throw invalidInput('invalid subject');
    }
    if (typeof request.authMethod !== 'string' || !NAME_RE.test(request.authMethod)) throw invalidInput('invalid auth method');
    const role = request.role ?? null;
    if (role !== null && (typeof role !== 'string' || !NAME_RE.test(role))) throw invalidInput('invalid role');
    if ((request.env as string) === ALL_ENVIRONMENTS) throw invalidInput("environment '*' is reserved for the root token");
    const policies = normalisePolicies(request.policies);
    const meta = checkMeta(request.meta);
    delete meta[BOUND_CIDRS_META]; // never caller-supplied: only from boundCidrs below
    const boundCidrs = request.boundCidrs ?? request.parent?.boundCidrs ?? [];
    if (boundCidrs.length > 0) meta[BOUND_CIDRS_META] = boundCidrs.join(',');
    if (request.numUses !== undefined && (!Number.isSafeInteger(request.numUses) || request.numUses < 0)) {
      throw invalidInput('numUses must be a non-negative integer');
    }
    let ttlSeconds = Math.min(positiveInt(request.ttlSeconds ?? this.defaultTtlSeconds, 'ttlSeconds'), this.maxTtlSeconds);
    const now = this.clock.now();
    const parent = request.parent;
    if (parent) {
      if (!parent.isRoot) {
        if (parent.env !== request.env) throw tokenDenied('not-permitted');
        if (!policies.every((p) => parent.policies.includes(p))) throw tokenDenied('not-permitted');
      }
      const remaining = Math.floor((parent.expiresAt.getTime() - now.getTime()) / 1000);
      if (remaining <= 0) throw tokenDenied('expired');
      ttlSeconds = Math.min(ttlSeconds, remaining);
    } else if (policies.includes(ROOT_POLICY)) {
      throw tokenDenied('not-permitted');
    }
    return this.mint({
      subject: request.subject,
      authMethod: request.authMethod,
      role,
      policies,
      env: request.env,
      parentJti: parent?.jti ?? null,
      ttlSeconds,
      meta,
      now,
      ...(request.numUses === undefined ? {} : { numUses: request.numUses }),
    });
  }

  /** Dev mode only: a token with the 'root' policy valid in every environment ('*'), for rootTtlSeconds. */
  issueRootToken(options: { subject?: string; ttlSeconds?: number } = {}): Promise<IssuedToken> {
    return this.mint({
      subject: options.subject ?? 'root',
      authMethod: 'token',
      role: null,
      policies: [ROOT_POLICY],
      env: ALL_ENVIRONMENTS,
      parentJti: null,
      ttlSeconds: positiveInt(options.ttlSeconds ?? this.rootTtlSeconds, 'ttlSeconds'),
      meta: {},
      now: this.clock.now(),
    });
  }

  private async mint(t: {
    subject: string;
    authMethod: string;
    role: string | null;
    policies: string[];
    env: string;
    parentJti: string | null;
    ttlSeconds: number;
    meta: Record<string, string>;
    now: Date;
    numUses?: number;
  }): Promise<IssuedToken> {
    const iat = Math.floor(t.now.getTime() / 1000);
    const exp = iat + t.ttlSeconds;
    const jti = await newJti(this.deps.hsm);
    const accessor = await newAccessor(this.deps.hsm);
    const claims: KeywardClaims = {
      iss: this.issuer,
      sub: t.subject,
      aud: this.audience,
      iat,
      nbf: iat,
      exp,
      jti,
      policies: t.policies,
      env: t.env,
      meth: t.authMethod,
      ...(t.role === null ? {} : { role: t.role }),
    };
    const key = await this.keys.activeKey();
    const token = await signJwt(this.deps.hsm, key, claims);
    const issuedAt = new Date(iat * 1000);
    const expiresAt = new Date(exp * 1000);
    try {
      await this.deps.store.recordIssued({
        jti,
        accessor,
        subject: t.subject,
        authMethod: t.authMethod,
        role: t.role,
        policies: t.policies,
        env: t.env,
        parentJti: t.parentJti,
        issuedAt,
        expiresAt,
        revokedAt: null,
        meta: t.meta,
        ...(t.numUses === undefined ? {} : { numUses: t.numUses }),
      });
    } catch (e) {
      // The parent was revoked (or purged) after the caller verified it.
      if (e instanceof KeywardError && e.code === 'ERR_CONFLICT' && t.parentJti !== null) throw tokenDenied('revoked');
      throw e;
    }
    return { token, accessor, jti, issuedAt, expiresAt, policies: [...t.policies], env: t.env, ttlSeconds: t.ttlSeconds };
  }

  // ---- verifying ----------------------------------------------------------------------------

  /** The Principal for `token` in environment `env`, or ERR_PERMISSION_DENIED (reason in `cause`). */
  async verify(token: string, request: VerifyRequest): Promise<Principal> {
    const now = this.clock.now();
    const cached = typeof token === 'string' && token.length <= MAX_TOKEN_BYTES ? this.cache?.get(token, now.getTime()) : undefined;
    const env = typeof request.env === 'function' ? request.env(token, cached?.claims.env) : request.env;
    const verified = cached ?? (await this.verifyFully(token, env, now));
    const { claims, record } = verified;
    if (cached) {
      if (claims.env !== ALL_ENVIRONMENTS && claims.env !== env) throw tokenDenied('wrong-env');
      // Read every time: revocation by any process must hold at once.
      const status = await this.deps.store.tokenStatus(claims.jti);
      if (status === 'unknown') throw tokenDenied('unknown-token');
      if (status === 'revoked') {
        this.cache?.dropJti(claims.jti);
        throw tokenDenied('revoked');
      }
    }
    if ((record.numUses ?? 0) > 0 && request.consumeUse !== false && !(await this.deps.store.consumeUse(record.jti, now))) {
      this.cache?.dropJti(record.jti);
      throw tokenDenied('uses-exhausted');
    }
    return toPrincipal(record);
  }

  /** Signature, claims, environment, then the full record (read now) and its match with the claims. */
  private async verifyFully(token: string, env: Environment, now: Date): Promise<VerifiedToken> {
    const claims = await checkJwt(token, (kid) => this.keys.verificationKey(kid), { issuer: this.issuer, audience: this.audience, now });
    if (claims.env !== ALL_ENVIRONMENTS && claims.env !== env) throw tokenDenied('wrong-env');
    const record = await this.deps.store.getByJti(claims.jti);
    if (!record) throw tokenDenied('unknown-token');
    if (record.revokedAt !== null) {
      this.cache?.dropJti(record.jti);
      throw tokenDenied('revoked');
    }
    if (
      record.subject !== claims.sub ||
      record.env !== claims.env ||
      record.authMethod !== claims.meth ||
      (record.role ?? undefined) !== claims.role ||
      record.expiresAt.getTime() !== claims.exp * 1000 ||
      !sameList(record.policies, claims.policies)
    ) {
      throw tokenDenied('record-mismatch');
    }
    const verified = { claims, record };
    // Cached only once the record matched: a hit then needs only the record's status.
    this.cache?.set(token, verified);
    return verified;
  }

  // ---- lookup -------------------------------------------------------------------------------

  lookup(jti: string): Promise<TokenRecord | null> {
    return this.deps.store.getByJti(jti);
  }

  lookupAccessor(accessor: string): Promise<TokenRecord | null> {
    return this.deps.store.getByAccessor(accessor);
  }

  // ---- revoking -----------------------------------------------------------------------------

  /** Revokes this token only; its children stay (Vault's revoke-orphan). Returns false if unknown or already revoked. */
  async revoke(jti: string, reason = 'revoke'): Promise<boolean> {
    const done = await this.deps.store.revoke(jti, this.clock.now(), reason);
    this.cache?.dropJti(jti);
    return done;
  }

  /** Revokes the token and all its descendants (Vault's auth/token/revoke and revoke-self). Returns the count. */
  async revokeTree(jti: string, reason = 'revoke-tree'): Promise<number> {
    return this.bulk(() => this.deps.store.revokeWhere({ jti }, this.clock.now(), reason));
  }

  /** Vault's revoke-accessor: the token behind the accessor and its descendants. 0 if unknown. */
  async revokeAccessor(accessor: string, reason = 'revoke-accessor'): Promise<number> {
    const record = await this.deps.store.getByAccessor(accessor);
    if (!record) return 0;
    return this.revokeTree(record.jti, reason);
  }

  /** Every token issued to `subject`, and their descendants. */
  revokeSubject(subject: string, reason = 'revoke-subject', env?: Environment): Promise<number> {
    return this.bulk(() => this.deps.store.revokeWhere({ subject, ...(env ? { env } : {}) }, this.clock.now(), reason));
  }

  /** Every token issued through `authMethod` role `role` (e.g. an AppRole role being deleted), and descendants. */
  revokeRole(authMethod: string, role: string, reason = 'revoke-role', env?: Environment): Promise<number> {
    return this.bulk(() => this.deps.store.revokeWhere({ authMethod, role, ...(env ? { env } : {}) }, this.clock.now(), reason));
  }

  private async bulk(run: () => Promise<number>): Promise<number> {
    try {
      return await run();
    } finally {
      // We do not know which cached tokens the cascade reached; bulk revocations are rare.
      this.cache?.clear();
    }
  }

  /** Housekeeping: drop records that expired more than twice the clock tolerance ago. */
  purgeExpired(): Promise<number> {
    return this.deps.store.purgeExpired(new Date(this.clock.now().getTime() - 2 * CLOCK_TOLERANCE_SECONDS * 1000));
  }
}
