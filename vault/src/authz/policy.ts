/**
 * Vault ACL policy documents: types, parsing (JSON; HCL through an injected decoder), normalisation
 * and serialisation.
 *
 * Invariants kept by every `Policy` this module returns:
 * - each path pattern appears once; duplicate blocks are merged with the same rules the evaluator uses
 *   across policies (capability union, deny absorbs everything, parameter lists merged);
 * - a rule holding `deny` holds nothing else (Vault drops every other permission on a denied rule);
 * - patterns are valid globs: `*` only as the last character, `+` only as a whole segment (or a last
 *   segment `+*`), no leading `/`, no empty inner segment;
 * - parameter names are lower-case (Vault compares request parameters case-insensitively) and are
 *   kept in Maps, so a request parameter named `constructor` or `__proto__` never hits a prototype.
 */
import { z } from 'zod';
import { invalidInput } from '../core/errors.js';
import { CAPABILITIES, type Capability, isCapability, sortCapabilities } from './capability.js';

/** A JSON value as a policy may list it in allowed/denied parameter values. */
export type ParameterValue = null | boolean | number | string | readonly ParameterValue[] | { readonly [key: string]: ParameterValue };

export type ParameterRules = ReadonlyMap<string, readonly ParameterValue[]>;

export interface PathRule {
  /** The pattern as written (leading `/` removed), e.g. `transit/encrypt/+`, `secret/data/*`. */
  readonly path: string;
  /** Canonical order; `['deny']` alone when denied. */
  readonly capabilities: readonly Capability[];
  /** Empty map = no restriction. Key `*` allows any parameter; an empty value list allows any value. */
  readonly allowedParameters: ParameterRules;
  readonly deniedParameters: ParameterRules;
  readonly requiredParameters: readonly string[];
  /** Keyward extension: MFA methods the caller must satisfy (step-up) to use this rule. */
  readonly mfaMethods: readonly string[];
  readonly minWrappingTtlSeconds: number | undefined;
  readonly maxWrappingTtlSeconds: number | undefined;
}

export interface Policy {
  readonly rules: readonly PathRule[];
}

export interface NamedPolicy {
  readonly name: string;
  readonly policy: Policy;
}

export const ROOT_POLICY_NAME = 'root';
export const DEFAULT_POLICY_NAME = 'default';

/** Injected HCL decoder: returns the JSON value hashicorp/hcl (v1) would decode `text` to; throws on syntax errors. */
export interface HclDecoder {
  decode(text: string): unknown;
}

const MAX_POLICY_TEXT_CHARS = 1_000_000;
const MAX_PATH_CHARS = 1024;
const POLICY_NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,127}$/;

// ---------------------------------------------------------------------------------------------
// Policy names

/**
 * Parses a policy name (Vault lower-cases names). `root` is never writable: it is not a document but
 * the marker that allows everything; `default` is writable but never deletable (the caller's rule).
 */
export function parsePolicyName(raw: string, purpose: 'write' | 'reference' = 'reference'): string {
  const name = raw.trim().toLowerCase();
  if (!POLICY_NAME_RE.test(name)) throw invalidInput('invalid policy name');
  if (purpose === 'write' && name === ROOT_POLICY_NAME) throw invalidInput('the root policy cannot be written');
  return name;
}

// ---------------------------------------------------------------------------------------------
// Path patterns

export interface PatternShape {
  /** Ends in `*`: matches every path that starts with `prefix`. */
  readonly isPrefix: boolean;
  /** The pattern without its trailing `*`. */
  readonly prefix: string;
  /** Has at least one `+` segment. */
  readonly hasSegmentWildcard: boolean;
}

export function patternShape(pattern: string): PatternShape {
  const isPrefix = pattern.endsWith('*');
  const prefix = isPrefix ? pattern.slice(0, -1) : pattern;
  const hasSegmentWildcard = prefix.split('/').includes('+');
  return { isPrefix, prefix, hasSegmentWildcard };
}

export function isWildcardPattern(pattern: string): boolean {
  const s = patternShape(pattern);
  return s.isPrefix || s.hasSegmentWildcard;
}

/** Returns an error message for an invalid pattern, or undefined when it is valid. */
function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'path must not be empty';
  if (pattern.length > MAX_PATH_CHARS) return `path is longer than ${MAX_PATH_CHARS} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'path contains control characters';
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1) return "'*' is only allowed at the end of a path";
  const { prefix } = patternShape(pattern);
  const segments = prefix.split('/');
  for (let i = 0; i < segments.length; i += 1) {
    const seg = segments[i] ?? '';
    if (seg.includes('+') && seg !== '+') return "'+' must be a whole path segment";
    // A trailing empty segment is a directory/list path (`secret/metadata/`); an inner one is a typo.
    if (seg === '' && i < segments.length - 1 && !(i === 0 && prefix === '')) return 'path contains an empty segment';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Durations (min/max_wrapping_ttl): integer seconds or Go-style "1h30m", "90s", "2d"

const DURATION_PART_RE = /(\d+)(d|h|m|s)/gy;
const UNIT_SECONDS: Readonly<Record<string, number>> = { d: 86_400, h: 3_600, m: 60, s: 1 };

function parseDurationSeconds(raw: number | string): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (text.length === 0) return undefined;
  DURATION_PART_RE.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = DURATION_PART_RE.exec(text); m !== null; m = DURATION_PART_RE.exec(text)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
    consumed = DURATION_PART_RE.lastIndex;
  }
  return consumed === text.length && Number.isSafeInteger(total) ? total : undefined;
}

// ---------------------------------------------------------------------------------------------
// Schema

// Parameter maps are validated as entry lists: z.record rebuilds a plain object and silently drops an
// own `__proto__` key, which would make a `denied_parameters` entry vanish.
const parameterMapSchema = z
  .array(
    z.tuple([
      z.string().min(1, { error: 'parameter names must not be empty' }).max(256),
      z.array(z.json(), { error: 'each parameter must map to a list of values ([] = any value)' }).max(1000),
    ]),
    { error: 'must map parameter names to lists of values' },
  )
  .max(1000);
const durationSchema = z.union([z.number(), z.string().max(64)]);

const pathRuleSchema = z.strictObject({
  capabilities: z.array(z.string()).max(CAPABILITIES.length * 4).default([]),
  allowed_parameters: parameterMapSchema.optional(),
  denied_parameters: parameterMapSchema.optional(),
  required_parameters: z.array(z.string().min(1).max(256)).max(1000).optional(),
  mfa_methods: z.array(z.string().min(1).max(128)).max(32).optional(),
  min_wrapping_ttl: durationSchema.optional(),
  max_wrapping_ttl: durationSchema.optional(),
  comment: z.string().max(4096).optional(),
});
type RawPathRule = z.infer<typeof pathRuleSchema>;

function formatIssues(where: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      if (issue.code === 'unrecognized_keys') return `${where}${at}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${where}${at}: ${issue.message}`;
    })
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// Building and merging rules

interface MutableRule {
  path: string;
  capabilities: Set<Capability>;
  allowed: Map<string, ParameterValue[]>;
  denied: Map<string, ParameterValue[]>;
  required: Set<string>;
  mfa: Set<string>;
  minTtl: number | undefined;
  maxTtl: number | undefined;
}

function toRule(m: MutableRule): PathRule {
  const denied = m.capabilities.has('deny');
  return {
    path: m.path,
    capabilities: denied ? ['deny'] : sortCapabilities(m.capabilities),
    allowedParameters: denied ? new Map() : new Map(m.allowed),
    deniedParameters: denied ? new Map() : new Map(m.denied),
    requiredParameters: denied ? [] : [...m.required],
    mfaMethods: denied ? [] : [...m.mfa],
    minWrappingTtlSeconds: denied ? undefined : m.minTtl,
    maxWrappingTtlSeconds: denied ? undefined : m.maxTtl,
  };
}

function toMutable(rule: PathRule): MutableRule {
  return {
    path: rule.path,
    capabilities: new Set(rule.capabilities),
    allowed: new Map([...rule.allowedParameters].map(([k, v]) => [k, [...v]])),
    denied: new Map([...rule.deniedParameters].map(([k, v]) => [k, [...v]])),
    required: new Set(rule.requiredParameters),
    mfa: new Set(rule.mfaMethods),
    minTtl: rule.minWrappingTtlSeconds,
    maxTtl: rule.maxWrappingTtlSeconds,
  };
}

/** An empty list means "any value", so it absorbs any other list on merge; otherwise lists concatenate. */
function mergeParameterRules(into: Map<string, ParameterValue[]>, from: ParameterRules): void {
  for (const [name, values] of from) {
    const existing = into.get(name);
    if (existing === undefined) into.set(name, [...values]);
    else if (existing.length === 0 || values.length === 0) into.set(name, []);
    else into.set(name, [...existing, ...values.filter((v) => !existing.some((e) => parameterValuesEqual(e, v)))]);
  }
}

/**
 * Merges two rules on the same pattern (within a policy or across policies), as Vault does when it
 * builds its ACL: deny absorbs everything; capabilities union; parameter rules merge key by key; the
 * looser wrapping TTL bounds win (smallest minimum, largest maximum).
 */
export function mergeRules(a: PathRule, b: PathRule): PathRule {
  if (a.path !== b.path) throw invalidInput('cannot merge rules for different paths');
  if (a.capabilities.includes('deny')) return a;
  if (b.capabilities.includes('deny')) return b;
  const m = toMutable(a);
  for (const c of b.capabilities) m.capabilities.add(c);
  mergeParameterRules(m.allowed, b.allowedParameters);
  mergeParameterRules(m.denied, b.deniedParameters);
  for (const r of b.requiredParameters) m.required.add(r);
  for (const x of b.mfaMethods) m.mfa.add(x);
  m.minTtl = minDefined(m.minTtl, b.minWrappingTtlSeconds);
  m.maxTtl = maxDefined(m.maxTtl, b.maxWrappingTtlSeconds);
  return toRule(m);
}

const minDefined = (x: number | undefined, y: number | undefined): number | undefined =>
  x === undefined ? y : y === undefined ? x : Math.min(x, y);
const maxDefined = (x: number | undefined, y: number | undefined): number | undefined =>
  x === undefined ? y : y === undefined ? x : Math.max(x, y);

/** Deep equality over JSON values (Vault's reflect.DeepEqual on decoded JSON). */
export function parameterValuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => parameterValuesEqual(v, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && parameterValuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function buildRule(path: string, raw: RawPathRule, problems: string[]): PathRule | undefined {
  const where = `path "${path}"`;
  const caps = new Set<Capability>();
  for (const c of raw.capabilities) {
    if (isCapability(c)) caps.add(c);
    else problems.push(`${where}: unknown capability "${c}" (expected one of ${CAPABILITIES.join(', ')})`);
  }
  const toParams = (entries: ReadonlyArray<readonly [string, unknown[]]> | undefined): Map<string, ParameterValue[]> => {
    const out = new Map<string, ParameterValue[]>();
    for (const [k, v] of entries ?? []) mergeParameterRules(out, new Map([[k.toLowerCase(), v as ParameterValue[]]]));
    return out;
  };
  const minTtl = raw.min_wrapping_ttl === undefined ? undefined : parseDurationSeconds(raw.min_wrapping_ttl);
  const maxTtl = raw.max_wrapping_ttl === undefined ? undefined : parseDurationSeconds(raw.max_wrapping_ttl);
  if (raw.min_wrapping_ttl !== undefined && minTtl === undefined) problems.push(`${where}: min_wrapping_ttl is not a valid duration`);
  if (raw.max_wrapping_ttl !== undefined && maxTtl === undefined) problems.push(`${where}: max_wrapping_ttl is not a valid duration`);
  if (minTtl !== undefined && maxTtl !== undefined && maxTtl < minTtl) problems.push(`${where}: max_wrapping_ttl cannot be less than min_wrapping_ttl`);
  return toRule({
    path,
    capabilities: caps,
    allowed: toParams(raw.allowed_parameters),
    denied: toParams(raw.denied_parameters),
    required: new Set((raw.required_parameters ?? []).map((r) => r.toLowerCase())),
    mfa: new Set(raw.mfa_methods ?? []),
    minTtl,
    maxTtl,
  });
}

// ---------------------------------------------------------------------------------------------
// Document → Policy

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * HCL decoders give blocks as lists: HCL1 (`{"path": [{"p": [{...}]}]}`, maps as `[{...}]`) and HCL2
 * (`{"path": {"p": [{...}]}}`). Vault's JSON form is `{"path": {"p": {...}}}`. This flattens all three
 * into (pattern, block) pairs.
 */
function pathEntries(paths: unknown, problems: string[]): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const pushBlocks = (pattern: string, blocks: unknown): void => {
    if (Array.isArray(blocks)) for (const b of blocks) out.push([pattern, b]);
    else out.push([pattern, blocks]);
  };
  if (Array.isArray(paths)) {
    for (const item of paths) {
      if (!isPlainObject(item)) {
        problems.push('"path" must map path patterns to rules');
        continue;
      }
      for (const [pattern, blocks] of Object.entries(item)) pushBlocks(pattern, blocks);
    }
  } else if (isPlainObject(paths)) {
    for (const [pattern, blocks] of Object.entries(paths)) pushBlocks(pattern, blocks);
  } else {
    problems.push('"path" must map path patterns to rules');
  }
  return out;
}

/**
 * Turns parameter maps into entry lists for the schema. HCL1 decodes `x = { ... }` and `x { ... }` as
 * `[{...}]`, so a list of objects is flattened too. Object.entries keeps an own `__proto__` key.
 */
function parameterMapsToEntries(block: unknown): unknown {
  if (!isPlainObject(block)) return block;
  const copy = new Map<string, unknown>(Object.entries(block));
  for (const key of ['allowed_parameters', 'denied_parameters']) {
    const v = copy.get(key);
    if (isPlainObject(v)) copy.set(key, Object.entries(v));
    else if (Array.isArray(v) && v.every(isPlainObject)) copy.set(key, v.flatMap((o) => Object.entries(o)));
    else if (v !== undefined) copy.set(key, 'not a map');
  }
  return Object.fromEntries(copy);
}

/** Validates a decoded policy document (JSON or HCL-decoded) into a normalised Policy. */
export function policyFromDocument(doc: unknown): Policy {
  const problems: string[] = [];
  if (!isPlainObject(doc)) throw invalidInput('invalid policy: the document must be an object with a "path" field');
  for (const key of Object.keys(doc)) {
    if (key !== 'path' && key !== 'name') problems.push(`unknown top-level field "${key}"`);
  }
  const byPattern = new Map<string, PathRule>();
  if (doc['path'] !== undefined) {
    for (const [rawPattern, block] of pathEntries(doc['path'], problems)) {
      const pattern = rawPattern.startsWith('/') ? rawPattern.slice(1) : rawPattern;
      const problem = patternProblem(pattern);
      if (problem !== undefined) {
        problems.push(`path "${rawPattern}": ${problem}`);
        continue;
      }
      const parsed = pathRuleSchema.safeParse(parameterMapsToEntries(block));
      if (!parsed.success) {
        problems.push(formatIssues(`path "${pattern}"`, parsed.error));
        continue;
      }
      const rule = buildRule(pattern, parsed.data, problems);
      if (rule === undefined) continue;
      const existing = byPattern.get(pattern);
      byPattern.set(pattern, existing === undefined ? rule : mergeRules(existing, rule));
    }
  }
  if (problems.length > 0) throw invalidInput(`invalid policy: ${problems.slice(0, 20).join('; ')}`);
  return { rules: [...byPattern.values()] };
}

/** Parses Vault's JSON policy form. */
export function parseJsonPolicy(text: string): Policy {
  if (text.length > MAX_POLICY_TEXT_CHARS) throw invalidInput('invalid policy: document too large');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidInput('invalid policy: not valid JSON');
  }
  return policyFromDocument(doc);
}

/** Parses Vault's HCL policy form through the injected decoder (see HclDecoder). */
export function parseHclPolicy(text: string, decoder: HclDecoder): Policy {
  if (text.length > MAX_POLICY_TEXT_CHARS) throw invalidInput('invalid policy: document too large');
  let doc: unknown;
  try {
    doc = decoder.decode(text);
  } catch (e) {
    // Decoder messages carry line/column, which authors need; policy text is not secret.
    const detail = e instanceof Error ? `: ${e.message.slice(0, 300)}` : '';
    throw invalidInput(`invalid policy: not valid HCL${detail}`);
  }
  return policyFromDocument(doc);
}

/**
 * Parses policy text in either form, as Vault does: a document starting with `{` is JSON; anything
 * else is HCL and needs a decoder.
 */
export function parsePolicyText(text: string, decoder?: HclDecoder): Policy {
  if (text.trimStart().startsWith('{')) return parseJsonPolicy(text);
  if (decoder === undefined) throw invalidInput('invalid policy: HCL policies are not supported here; send the JSON form');
  return parseHclPolicy(text, decoder);
}

// ---------------------------------------------------------------------------------------------
// Policy → document

export interface PolicyDocumentRule {
  capabilities: Capability[];
  allowed_parameters?: Record<string, ParameterValue[]>;
  denied_parameters?: Record<string, ParameterValue[]>;
  required_parameters?: string[];
  mfa_methods?: string[];
  min_wrapping_ttl?: number;
  max_wrapping_ttl?: number;
}
export interface PolicyDocument {
  path: Record<string, PolicyDocumentRule>;
}

const mapToRecord = (m: ParameterRules): Record<string, ParameterValue[]> => {
  const out: Record<string, ParameterValue[]> = {};
  for (const [k, v] of m) Object.defineProperty(out, k, { value: [...v], enumerable: true, writable: true, configurable: true });
  return out;
};

/** The canonical JSON document for a policy; `policyFromDocument(toPolicyDocument(p))` equals `p`. */
export function toPolicyDocument(policy: Policy): PolicyDocument {
  const path: Record<string, PolicyDocumentRule> = {};
  for (const r of policy.rules) {
    const d: PolicyDocumentRule = { capabilities: [...r.capabilities] };
    if (r.allowedParameters.size > 0) d.allowed_parameters = mapToRecord(r.allowedParameters);
    if (r.deniedParameters.size > 0) d.denied_parameters = mapToRecord(r.deniedParameters);
    if (r.requiredParameters.length > 0) d.required_parameters = [...r.requiredParameters];
    if (r.mfaMethods.length > 0) d.mfa_methods = [...r.mfaMethods];
    if (r.minWrappingTtlSeconds !== undefined) d.min_wrapping_ttl = r.minWrappingTtlSeconds;
    if (r.maxWrappingTtlSeconds !== undefined) d.max_wrapping_ttl = r.maxWrappingTtlSeconds;
    Object.defineProperty(path, r.path, { value: d, enumerable: true, writable: true, configurable: true });
  }
  return { path };
}

export function serializePolicy(policy: Policy): string {
  return JSON.stringify(toPolicyDocument(policy), null, 2);
}

// ---------------------------------------------------------------------------------------------
// Built-in policies

/**
 * Vault's `default` policy, narrowed to the endpoints Keyward has: a token may inspect, renew and
 * revoke itself, ask its own capabilities, and use response wrapping. Editable, never deletable.
 */
export const DEFAULT_POLICY: Policy = policyFromDocument({
  path: {
    'auth/token/lookup-self': { capabilities: ['read'] },
    'auth/token/renew-self': { capabilities: ['update'] },
    'auth/token/revoke-self': { capabilities: ['update'] },
    'sys/capabilities-self': { capabilities: ['update'] },
    'sys/wrapping/wrap': { capabilities: ['update'] },
    'sys/wrapping/lookup': { capabilities: ['update'] },
    'sys/wrapping/unwrap': { capabilities: ['update'] },
  },
});

export const defaultPolicy = (): NamedPolicy => ({ name: DEFAULT_POLICY_NAME, policy: DEFAULT_POLICY });
/** The root policy has no document: its name alone allows everything. */
export const rootPolicy = (): NamedPolicy => ({ name: ROOT_POLICY_NAME, policy: { rules: [] } });
