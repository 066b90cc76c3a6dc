/**
 * ACL evaluation: the pure decision "may these policies do this capability on this path with these
 * parameters", plus the effective capability list `sys/capabilities` reports.
 *
 * Semantics follow Vault's documented ACL rules:
 * - rules on the *same pattern* from every policy are merged (capability union, deny absorbs all);
 * - an exact pattern beats every glob; among globs and `+` patterns the winner is chosen by
 *   `comparePriority` (later first wildcard, then non-`*` over `*`, then fewer `+`, then longer,
 *   then lexicographically larger). Only the winning rule is consulted: a less specific rule
 *   never adds capabilities to, or removes them from, a more specific one;
 * - `deny` on the winning rule denies everything; no matching rule denies (default deny);
 * - the policy named `root` allows everything;
 * - parameter rules (required, denied, allowed, with `*` globs in string values) apply to read,
 *   create, update and patch, like Vault; list, delete and sudo requests carry no parameters.
 * Invariant: `allowed` is true only with reason `root` or `granted`, and then `grantingPolicies`
 * is non-empty; it names exactly the policies whose rule on the winning pattern holds the capability.
 */
import {
  type Capability,
  type OperationCapability,
  OPERATION_CAPABILITIES,
  sortCapabilities,
} from './capability.js';
import {
  type NamedPolicy,
  type ParameterRules,
  type PathRule,
  ROOT_POLICY_NAME,
  mergeRules,
  parameterValuesEqual,
  patternShape,
} from './policy.js';

export interface AccessRequest {
  readonly path: string;
  readonly capability: OperationCapability;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export type DecisionReason =
  | 'root'
  | 'granted'
  | 'no-matching-path'
  | 'capability-missing'
  | 'explicit-deny'
  | 'parameter-denied'
  | 'parameter-not-allowed'
  | 'parameter-required';

export interface Decision {
  readonly allowed: boolean;
  /** Policies whose rule on the winning pattern grants the requested capability (sorted); `['root']` for root. */
  readonly grantingPolicies: string[];
  /** Effective capabilities on the path: `['deny']` on a denied rule, `[]` when nothing matches. */
  readonly capabilities: Capability[];
  readonly reason: DecisionReason;
  /** MFA methods the winning rule requires (step-up); empty unless allowed. */
  readonly mfaMethods: string[];
  /** The winning pattern, for the audit entry; null when nothing matched or for root. */
  readonly matchedPattern: string | null;
  /** For the offending parameter reasons: the parameter name (never its value). */
  readonly parameter?: string;
  readonly minWrappingTtlSeconds?: number;
  readonly maxWrappingTtlSeconds?: number;
}

/** A rule merged across policies, remembering which policy contributed which capability. */
export interface EffectiveRule {
  readonly rule: PathRule;
  readonly grantedBy: ReadonlyMap<Capability, readonly string[]>;
}

interface WildcardEntry {
  readonly effective: EffectiveRule;
  readonly prefix: string;
  readonly isPrefix: boolean;
  readonly segments: readonly string[];
  readonly firstWildcard: number;
  readonly plusCount: number;
  readonly hasSegmentWildcard: boolean;
}

/** Priority order of two wildcard patterns: negative when `a` is lower priority than `b`. */
function comparePriority(a: WildcardEntry, b: WildcardEntry): number {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard - b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.plusCount !== b.plusCount) return b.plusCount - a.plusCount;
  if (a.prefix.length !== b.prefix.length) return a.prefix.length - b.prefix.length;
  return a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0;
}

function wildcardEntry(effective: EffectiveRule): WildcardEntry {
  const { isPrefix, prefix, hasSegmentWildcard } = patternShape(effective.rule.path);
  const segments = prefix.split('/');
  const plusCount = segments.filter((s) => s === '+').length;
  // Vault: for a `+` pattern the first wildcard is its first `+`; for a pure glob, where `*` starts.
  const firstWildcard = hasSegmentWildcard ? effective.rule.path.indexOf('+') : prefix.length;
  return { effective, prefix, isPrefix, segments, firstWildcard, plusCount, hasSegmentWildcard };
}

function wildcardMatches(entry: WildcardEntry, path: string): boolean {
  if (!entry.hasSegmentWildcard) return path.startsWith(entry.prefix);
  const parts = path.split('/');
  const segs = entry.segments;
  if (parts.length < segs.length) return false;
  if (!entry.isPrefix && parts.length !== segs.length) return false;
  for (let i = 0; i < segs.length; i += 1) {
    const seg = segs[i] ?? '';
    const part = parts[i] ?? '';
    if (seg === '+' || seg === part) continue;
    if (entry.isPrefix && i === segs.length - 1 && part.startsWith(seg)) continue;
    return false;
  }
  return true;
}

/** Whether one policy pattern (exact, `*` glob or `+` segments) matches a request path. */
export function patternMatches(pattern: string, rawPath: string): boolean {
  const path = normalisePath(rawPath);
  const shape = patternShape(pattern);
  if (!shape.isPrefix && !shape.hasSegmentWildcard) return pattern === path;
  const entry = wildcardEntry({ rule: { path: pattern, capabilities: [], allowedParameters: new Map(), deniedParameters: new Map(), requiredParameters: [], mfaMethods: [], minWrappingTtlSeconds: undefined, maxWrappingTtlSeconds: undefined }, grantedBy: new Map() });
  return wildcardMatches(entry, path);
}

/** Vault's GlobbedStringsMatch: a leading and/or trailing `*` in a policy value is a glob. */
export function globbedStringMatch(pattern: string, value: string): boolean {
  if (pattern.length < 2) return pattern === value;
  const starts = pattern.startsWith('*');
  const ends = pattern.endsWith('*');
  if (starts && ends) return value.includes(pattern.slice(1, -1));
  if (starts) return value.endsWith(pattern.slice(1));
  if (ends) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

function valueMatchesOne(value: unknown, listed: unknown): boolean {
  if (typeof listed === 'string' && typeof value === 'string') return globbedStringMatch(listed, value);
  return parameterValuesEqual(listed, value);
}

function valueInList(value: unknown, list: readonly unknown[]): boolean {
  return list.some((listed) => valueMatchesOne(value, listed));
}

/** Allowed: an empty list allows any value; a list value passes as a whole or when every element passes. */
function valueAllowed(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0) return true;
  if (valueInList(value, list)) return true;
  return Array.isArray(value) && value.length > 0 && value.every((el) => valueInList(el, list));
}

/** Denied: an empty list denies any value; a list value is denied when it or any element matches. */
function valueDenied(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0) return true;
  if (valueInList(value, list)) return true;
  return Array.isArray(value) && value.some((el) => valueInList(el, list));
}

const PARAMETER_CHECKED: ReadonlySet<OperationCapability> = new Set(['read', 'create', 'update', 'patch']);

type ParameterVerdict = { ok: true } | { ok: false; reason: 'parameter-denied' | 'parameter-not-allowed' | 'parameter-required'; parameter: string };

const PARAMETERS_OK: ParameterVerdict = { ok: true };

function checkParameters(rule: PathRule, parameters: Readonly<Record<string, unknown>>): ParameterVerdict {
  // A rule without parameter constraints accepts any parameters (the checks below would all pass).
  if (rule.requiredParameters.length === 0 && rule.deniedParameters.size === 0 && rule.allowedParameters.size === 0) return PARAMETERS_OK;
  const entries = Object.entries(parameters).map(([k, v]) => [k.toLowerCase(), v] as const);
  const present = new Set(entries.map(([k]) => k));
  for (const required of rule.requiredParameters) {
    if (!present.has(required)) return { ok: false, reason: 'parameter-required', parameter: required };
  }
  if (entries.length === 0) return { ok: true };
  const denied: ParameterRules = rule.deniedParameters;
  if (denied.has('*')) return { ok: false, reason: 'parameter-denied', parameter: entries[0]?.[0] ?? '*' };
  for (const [name, value] of entries) {
    const list = denied.get(name);
    if (list !== undefined && valueDenied(value, list)) return { ok: false, reason: 'parameter-denied', parameter: name };
  }
  const allowed = rule.allowedParameters;
  if (allowed.size === 0) return { ok: true };
  const allowAll = allowed.has('*');
  for (const [name, value] of entries) {
    const list = allowed.get(name);
    if (list === undefined) {
      if (!allowAll) return { ok: false, reason: 'parameter-not-allowed', parameter: name };
    } else if (!valueAllowed(value, list)) {
      return { ok: false, reason: 'parameter-not-allowed', parameter: name };
    }
  }
  return { ok: true };
}

/** A refusal by the winning rule (fields in the order decisions have always had). */
function deniedBy(rule: PathRule, reason: DecisionReason, parameter?: string): Decision {
  const d: Decision = { allowed: false, grantingPolicies: [], capabilities: [...rule.capabilities], reason, mfaMethods: [], matchedPattern: rule.path };
  return parameter === undefined ? d : { ...d, parameter };
}

const normalisePath = (path: string): string => (path.startsWith('/') ? path.slice(1) : path);

/** Policies compiled once (per token or per policy-set version) and queried per request. */
export class Acl {
  readonly isRoot: boolean;
  private readonly exact = new Map<string, EffectiveRule>();
  private readonly wildcards: WildcardEntry[] = [];

  constructor(policies: ReadonlyArray<NamedPolicy>) {
    this.isRoot = policies.some((p) => p.name === ROOT_POLICY_NAME);
    const merged = new Map<string, { rule: PathRule; grantedBy: Map<Capability, string[]> }>();
    for (const { name, policy } of policies) {
      if (name === ROOT_POLICY_NAME) continue;
      for (const rule of policy.rules) {
        const current = merged.get(rule.path);
        const next = current === undefined ? rule : mergeRules(current.rule, rule);
        const grantedBy = current?.grantedBy ?? new Map<Capability, string[]>();
        for (const c of rule.capabilities) {
          const names = grantedBy.get(c) ?? [];
          if (!names.includes(name)) names.push(name);
          grantedBy.set(c, names);
        }
        merged.set(rule.path, { rule: next, grantedBy });
      }
    }
    for (const [pattern, { rule, grantedBy }] of merged) {
      for (const names of grantedBy.values()) names.sort();
      const effective: EffectiveRule = { rule, grantedBy };
      const shape = patternShape(pattern);
      if (shape.isPrefix || shape.hasSegmentWildcard) this.wildcards.push(wildcardEntry(effective));
      else this.exact.set(pattern, effective);
    }
  }

  /** The single rule that governs `path` (exact, else highest-priority wildcard), or undefined. */
  match(rawPath: string, opts?: { list?: boolean }): EffectiveRule | undefined {
    return this.matchPath(rawPath, opts?.list === true);
  }

  private matchPath(rawPath: string, list: boolean): EffectiveRule | undefined {
    const path = normalisePath(rawPath);
    const exact = this.exact.get(path);
    if (exact !== undefined) return exact;
    // Vault: a list request on `foo/` may be governed by an exact rule written as `foo`.
    if (list && path.endsWith('/')) {
      const trimmed = this.exact.get(path.slice(0, -1));
      if (trimmed !== undefined) return trimmed;
    }
    let best: WildcardEntry | undefined;
    for (const entry of this.wildcards) {
      if (!wildcardMatches(entry, path)) continue;
      if (best === undefined || comparePriority(entry, best) > 0) best = entry;
    }
    return best?.effective;
  }

  evaluate(request: AccessRequest): Decision {
    if (this.isRoot) {
      return { allowed: true, grantingPolicies: [ROOT_POLICY_NAME], capabilities: [...OPERATION_CAPABILITIES], reason: 'root', mfaMethods: [], matchedPattern: null };
    }
    const effective = this.matchPath(request.path, request.capability === 'list');
    if (effective === undefined) {
      return { allowed: false, grantingPolicies: [], capabilities: [], reason: 'no-matching-path', mfaMethods: [], matchedPattern: null };
    }
    const { rule } = effective;
    if (rule.capabilities.includes('deny')) return deniedBy(rule, 'explicit-deny');
    if (!rule.capabilities.includes(request.capability)) return deniedBy(rule, 'capability-missing');
    if (PARAMETER_CHECKED.has(request.capability)) {
      const verdict = checkParameters(rule, request.parameters ?? {});
      if (!verdict.ok) return deniedBy(rule, verdict.reason, verdict.parameter);
    }
    const granted: { -readonly [K in keyof Decision]: Decision[K] } = {
      allowed: true,
      grantingPolicies: [...(effective.grantedBy.get(request.capability) ?? [])],
      capabilities: [...rule.capabilities],
      reason: 'granted',
      mfaMethods: rule.mfaMethods.length === 0 ? [] : [...rule.mfaMethods],
      matchedPattern: rule.path,
    };
    if (rule.minWrappingTtlSeconds !== undefined) granted.minWrappingTtlSeconds = rule.minWrappingTtlSeconds;
    if (rule.maxWrappingTtlSeconds !== undefined) granted.maxWrappingTtlSeconds = rule.maxWrappingTtlSeconds;
    return granted;
  }

  /** What `sys/capabilities` reports: `['root']`, `['deny']` when nothing is granted, else sorted names. */
  capabilities(path: string): string[] {
    if (this.isRoot) return ['root'];
    const effective = this.match(path);
    if (effective === undefined) return ['deny'];
    const caps = effective.rule.capabilities;
    if (caps.length === 0 || caps.includes('deny')) return ['deny'];
    return [...sortCapabilities(caps)].sort();
  }
}

export function compileAcl(policies: ReadonlyArray<NamedPolicy>): Acl {
  return new Acl(policies);
}

export function evaluate(policies: ReadonlyArray<NamedPolicy>, request: AccessRequest): Decision {
  return new Acl(policies).evaluate(request);
}

export function capabilities(policies: ReadonlyArray<NamedPolicy>, path: string): string[] {
  return new Acl(policies).capabilities(path);
}
