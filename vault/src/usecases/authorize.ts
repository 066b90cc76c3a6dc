/**
 * The store-backed Authorizer the request pipeline calls: loads the caller's policies for the request
 * environment, compiles them once (`compileAcl`) and answers `evaluate` per request, merging
 * Keyward's default MFA rule (`extraMfa`) into allowed decisions.
 *
 * Invariants:
 * - policies are per environment: a token's policy names are resolved in the request's environment
 *   only, so `payments` in dev never grants anything in prod;
 * - every token carries `default` besides its own policies (Vault attaches it at issue time; we attach
 *   it at evaluation time, so editing `default` applies to existing tokens too);
 * - a policy the token names but the environment lacks (never written, or deleted) grants nothing;
 * - cache: compiled ACLs are keyed by (env, sorted policy names) and remember the policy versions they
 *   were built from. An entry younger than `cacheTtlMs` (default 1000 ms) is used as is; an older one
 *   is revalidated with one cheap `currentVersions` read and rebuilt if any version moved. So a
 *   policy change made by any process sharing the store applies within ~`cacheTtlMs`; a change made
 *   through this process's PolicyAdmin applies at once when its `onChange` calls `invalidate`.
 * - `deny` is never a request capability: asking for it is refused.
 */
import { type Acl, compileAcl } from '../authz/evaluate.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_NAME, type NamedPolicy, type Policy, ROOT_POLICY_NAME, parseJsonPolicy, rootPolicy } from '../authz/policy.js';
import { KeywardError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports/clock.js';
import type { PolicyStore, PolicyVersionRecord } from '../core/ports/policy-store.js';
import type { Environment } from '../core/types.js';
import type { Authorizer, AuthzDecision, PolicyEvaluator } from '../http/pipeline-ports.js';
import type { Capability, RequestPrincipal } from '../http/route-spec.js';

/** Keyward's default MFA rule, written elsewhere: methods required for (env, path, capability). */
export type ExtraMfaRule = (env: Environment, aclPath: string, capability: Capability) => readonly string[];

export interface StoreAuthorizerDeps {
  readonly store: Pick<PolicyStore, 'getCurrent' | 'currentVersions'>;
  readonly clock?: Clock;
  /** How long a compiled ACL is trusted without a version check; default 1000 ms. */
  readonly cacheTtlMs?: number;
  readonly cacheMaxEntries?: number;
  readonly extraMfa?: ExtraMfaRule;
}

export interface StoreAuthorizer extends Authorizer {
  /** The compiled ACL for these policy names (+ default) in `env` (sys/capabilities, access checks). */
  aclFor(policies: readonly string[], env: Environment): Promise<Acl>;
  /** Drop cached ACLs (all, or one environment's) — wire to PolicyAdmin's onChange. */
  invalidate(env?: Environment): void;
}

interface CacheEntry {
  readonly env: Environment;
  readonly acl: Acl;
  /** The per-request evaluator over `acl` in `env`, built once per entry. */
  readonly evaluator: PolicyEvaluator;
  /** name → version (0 = never written) the ACL was built from. */
  readonly versions: ReadonlyMap<string, number>;
  checkedAt: number;
}

/** Parses a stored version's normalised JSON; a failure is our bug, never the caller's (500). */
export function policyOfRecord(record: PolicyVersionRecord): Policy {
  if (record.deleted || record.normalized === null) return { rules: [] };
  try {
    return parseJsonPolicy(record.normalized);
  } catch (e) {
    throw new KeywardError('ERR_INTERNAL', 'stored policy is unreadable', { cause: e });
  }
}

/** The policy names a token is evaluated with: its own plus `default`, deduplicated and sorted. */
export function effectivePolicyNames(policies: readonly string[]): string[] {
  return [...new Set([...policies, DEFAULT_POLICY_NAME])].sort();
}

function sameVersions(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function makeStoreAuthorizer(deps: StoreAuthorizerDeps): StoreAuthorizer {
  const clock = deps.clock ?? systemClock;
  const ttlMs = deps.cacheTtlMs ?? 1000;
  const maxEntries = deps.cacheMaxEntries ?? 1000;
  const cache = new Map<string, CacheEntry>();
  /**
   * A token's policy list (joined as given) → its effective names and cache key, so a request does
   * not rebuild, sort and join them. Pure derivation from the names; bounded like `cache`.
   */
  const namesOf = new Map<string, { readonly names: string[]; readonly key: string }>();
  function effective(policies: readonly string[], env: Environment): { readonly names: string[]; readonly key: string } {
    const raw = `${env}\u0000${policies.join('\u0000')}`;
    let hit = namesOf.get(raw);
    if (hit === undefined) {
      const names = effectivePolicyNames(policies);
      hit = { names, key: `${env}\u0000${names.join('\u0000')}` };
      if (namesOf.size >= maxEntries) namesOf.clear();
      namesOf.set(raw, hit);
    }
    return hit;
  }

  async function build(env: Environment, names: readonly string[]): Promise<CacheEntry> {
    const records = await deps.store.getCurrent(env, names);
    const byName = new Map(records.map((r) => [r.name, r]));
    const versions = new Map<string, number>();
    const policies: NamedPolicy[] = [];
    for (const name of names) {
      if (name === ROOT_POLICY_NAME) {
        policies.push(rootPolicy());
        continue;
      }
      const record = byName.get(name);
      versions.set(name, record?.version ?? 0);
      if (record !== undefined && !record.deleted) policies.push({ name, policy: policyOfRecord(record) });
      else if (record === undefined && name === DEFAULT_POLICY_NAME) policies.push({ name, policy: DEFAULT_POLICY });
    }
    const acl = compileAcl(policies);
    return { env, acl, evaluator: evaluator(acl, env), versions, checkedAt: clock.now().getTime() };
  }

  /** The cache entry if it is young enough to be used without a version check, else null. */
  function freshEntry(key: string): CacheEntry | null {
    const hit = cache.get(key);
    return hit !== undefined && clock.now().getTime() - hit.checkedAt < ttlMs ? hit : null;
  }

  async function aclFor(policies: readonly string[], env: Environment): Promise<Acl> {
    return (await entryFor(policies, env)).acl;
  }

  async function entryFor(policies: readonly string[], env: Environment): Promise<CacheEntry> {
    const { names, key } = effective(policies, env);
    const fresh = freshEntry(key);
    if (fresh !== null) return fresh;
    const now = clock.now().getTime();
    const hit = cache.get(key);
    if (hit !== undefined) {
      const stored = await deps.store.currentVersions(env, names);
      const current = new Map(names.map((n) => [n, stored.get(n) ?? 0]));
      if (sameVersions(current, hit.versions)) {
        hit.checkedAt = now;
        return hit;
      }
    }
    const entry = await build(env, names);
    cache.delete(key);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, entry);
    return entry;
  }

  function evaluator(acl: Acl, env: Environment): PolicyEvaluator {
    return {
      evaluate(aclPath, capability, parameters): AuthzDecision {
        if (capability === 'deny') return { allowed: false, grantingPolicies: [], reason: 'capability-missing', mfaMethods: [] };
        const d = acl.evaluate(parameters === undefined ? { path: aclPath, capability } : { path: aclPath, capability, parameters });
        if (!d.allowed || deps.extraMfa === undefined) return { allowed: d.allowed, grantingPolicies: d.grantingPolicies, reason: d.reason, mfaMethods: d.mfaMethods };
        const extra = deps.extraMfa(env, aclPath, capability);
        // Nothing to merge: the decision's (fresh) list as the Set would have produced it.
        const mfaMethods = extra.length === 0 && d.mfaMethods.length === 0 ? d.mfaMethods : [...new Set([...d.mfaMethods, ...extra])];
        return { allowed: true, grantingPolicies: d.grantingPolicies, reason: d.reason, mfaMethods };
      },
    };
  }

  return {
    forPrincipal(principal: RequestPrincipal, env: Environment): Promise<PolicyEvaluator> {
      // Root policy: compileAcl marks it root and allows everything (the pipeline short-cuts root tokens).
      // A fresh cache entry answers with an already-resolved promise (no async chain per request).
      const fresh = freshEntry(effective(principal.policies, env).key);
      if (fresh !== null) return Promise.resolve(fresh.evaluator);
      return entryFor(principal.policies, env).then((e) => e.evaluator);
    },
    aclFor,
    invalidate(env) {
      if (env === undefined) cache.clear();
      else for (const [k, e] of cache) if (e.env === env) cache.delete(k);
    },
  };
}
