/**
 * Policy diff: what changed between two versions of a policy, path by path (for `keyward policy
 * diff` and the policy version history). Works on normalised policies, so formatting, key order and
 * duplicate blocks never show up as changes. Unchanged paths are omitted.
 */
import { type Capability, sortCapabilities } from './capability.js';
import { type ParameterRules, type ParameterValue, type PathRule, type Policy, parameterValuesEqual } from './policy.js';

export interface ParameterRuleDiff {
  readonly added: Record<string, ParameterValue[]>;
  readonly removed: Record<string, ParameterValue[]>;
  readonly changed: Array<{ name: string; before: ParameterValue[]; after: ParameterValue[] }>;
}

export interface ListDiff {
  readonly added: string[];
  readonly removed: string[];
}

export interface PathDiff {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly capabilities: { added: Capability[]; removed: Capability[] };
  readonly allowedParameters: ParameterRuleDiff;
  readonly deniedParameters: ParameterRuleDiff;
  readonly requiredParameters: ListDiff;
  readonly mfaMethods: ListDiff;
  readonly wrappingTtl?: {
    before: { min?: number; max?: number };
    after: { min?: number; max?: number };
  };
}

export interface PolicyDiff {
  readonly changed: boolean;
  readonly paths: PathDiff[];
}

const EMPTY_RULE = (path: string): PathRule => ({
  path,
  capabilities: [],
  allowedParameters: new Map(),
  deniedParameters: new Map(),
  requiredParameters: [],
  mfaMethods: [],
  minWrappingTtlSeconds: undefined,
  maxWrappingTtlSeconds: undefined,
});

function setRecord(rec: Record<string, ParameterValue[]>, key: string, value: ParameterValue[]): void {
  Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
}

function sameValues(a: readonly ParameterValue[], b: readonly ParameterValue[]): boolean {
  return a.length === b.length && a.every((v) => b.some((w) => parameterValuesEqual(v, w))) && b.every((v) => a.some((w) => parameterValuesEqual(v, w)));
}

function diffParameterRules(before: ParameterRules, after: ParameterRules): ParameterRuleDiff {
  const added: Record<string, ParameterValue[]> = {};
  const removed: Record<string, ParameterValue[]> = {};
  const changed: ParameterRuleDiff['changed'] = [];
  for (const [name, values] of after) {
    const old = before.get(name);
    if (old === undefined) setRecord(added, name, [...values]);
    else if (!sameValues(old, values)) changed.push({ name, before: [...old], after: [...values] });
  }
  for (const [name, values] of before) if (!after.has(name)) setRecord(removed, name, [...values]);
  return { added, removed, changed };
}

function diffList(before: readonly string[], after: readonly string[]): ListDiff {
  return { added: after.filter((x) => !before.includes(x)).sort(), removed: before.filter((x) => !after.includes(x)).sort() };
}

const isEmptyParamDiff = (d: ParameterRuleDiff): boolean => Object.keys(d.added).length === 0 && Object.keys(d.removed).length === 0 && d.changed.length === 0;
const isEmptyList = (d: ListDiff | { added: readonly unknown[]; removed: readonly unknown[] }): boolean => d.added.length === 0 && d.removed.length === 0;

function diffRule(before: PathRule | undefined, after: PathRule | undefined): PathDiff | undefined {
  const path = (after ?? before)?.path ?? '';
  const a = before ?? EMPTY_RULE(path);
  const b = after ?? EMPTY_RULE(path);
  const capabilities = {
    added: sortCapabilities(b.capabilities.filter((c) => !a.capabilities.includes(c))),
    removed: sortCapabilities(a.capabilities.filter((c) => !b.capabilities.includes(c))),
  };
  const allowedParameters = diffParameterRules(a.allowedParameters, b.allowedParameters);
  const deniedParameters = diffParameterRules(a.deniedParameters, b.deniedParameters);
  const requiredParameters = diffList(a.requiredParameters, b.requiredParameters);
  const mfaMethods = diffList(a.mfaMethods, b.mfaMethods);
  const ttlChanged = a.minWrappingTtlSeconds !== b.minWrappingTtlSeconds || a.maxWrappingTtlSeconds !== b.maxWrappingTtlSeconds;
  const change = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
  if (
    change === 'changed' &&
    isEmptyList(capabilities) &&
    isEmptyParamDiff(allowedParameters) &&
    isEmptyParamDiff(deniedParameters) &&
    isEmptyList(requiredParameters) &&
    isEmptyList(mfaMethods) &&
    !ttlChanged
  ) {
    return undefined;
  }
  const ttl = (r: PathRule): { min?: number; max?: number } => ({
    ...(r.minWrappingTtlSeconds === undefined ? {} : { min: r.minWrappingTtlSeconds }),
    ...(r.maxWrappingTtlSeconds === undefined ? {} : { max: r.maxWrappingTtlSeconds }),
  });
  return {
    path,
    change,
    capabilities,
    allowedParameters,
    deniedParameters,
    requiredParameters,
    mfaMethods,
    ...(ttlChanged ? { wrappingTtl: { before: ttl(a), after: ttl(b) } } : {}),
  };
}

/** Differences from `before` to `after`; either side may be absent (policy created or deleted). */
export function diffPolicies(before: Policy | undefined, after: Policy | undefined): PolicyDiff {
  const a = new Map((before?.rules ?? []).map((r) => [r.path, r]));
  const b = new Map((after?.rules ?? []).map((r) => [r.path, r]));
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const diffs = paths.flatMap((p) => {
    const d = diffRule(a.get(p), b.get(p));
    return d === undefined ? [] : [d];
  });
  return { changed: diffs.length > 0, paths: diffs };
}

/** A compact, line-per-change rendering for the CLI (`+`/`-`/`~` markers). */
export function formatPolicyDiff(diff: PolicyDiff): string {
  const lines: string[] = [];
  for (const d of diff.paths) {
    lines.push(`${d.change === 'added' ? '+' : d.change === 'removed' ? '-' : '~'} path "${d.path}"`);
    if (d.capabilities.added.length > 0) lines.push(`    + capabilities: ${d.capabilities.added.join(', ')}`);
    if (d.capabilities.removed.length > 0) lines.push(`    - capabilities: ${d.capabilities.removed.join(', ')}`);
    for (const [label, pd] of [['allowed_parameters', d.allowedParameters], ['denied_parameters', d.deniedParameters]] as const) {
      for (const [k, v] of Object.entries(pd.added)) lines.push(`    + ${label}.${k} = ${JSON.stringify(v)}`);
      for (const [k, v] of Object.entries(pd.removed)) lines.push(`    - ${label}.${k} = ${JSON.stringify(v)}`);
      for (const c of pd.changed) lines.push(`    ~ ${label}.${c.name}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`);
    }
    for (const [label, ld] of [['required_parameters', d.requiredParameters], ['mfa_methods', d.mfaMethods]] as const) {
      if (ld.added.length > 0) lines.push(`    + ${label}: ${ld.added.join(', ')}`);
      if (ld.removed.length > 0) lines.push(`    - ${label}: ${ld.removed.join(', ')}`);
    }
    if (d.wrappingTtl !== undefined) lines.push(`    ~ wrapping_ttl: ${JSON.stringify(d.wrappingTtl.before)} -> ${JSON.stringify(d.wrappingTtl.after)}`);
  }
  return lines.join('\n');
}
