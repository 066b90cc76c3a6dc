/**
 * Policy and role lint: flags grants a security review would question. Pure: the caller passes
 * policies, roles and which environments are production; findings come back sorted high → low.
 *
 * Rules (id → what it flags):
 * - `wildcard-decrypt`: a wildcard pattern granting `update` over many keys of transit/decrypt or
 *   transit/datakey/plaintext (those return plaintext); high when the policy is used in production.
 * - `sys-wildcard`: a wildcard pattern that covers all of `sys/` with any non-deny capability.
 * - `sudo-grant`: any rule granting `sudo`.
 * - `unused-policy`: a policy no role references (built-ins excepted).
 * - `unbounded-token-ttl`: a role whose token TTL / max TTL is 0 or infinite (never expires).
 * - `secret-id-never-expires`: an AppRole role whose secret_id_ttl is 0 or infinite.
 */
import type { RoleBinding } from './access-review.js';
import { patternMatches } from './evaluate.js';
import { DEFAULT_POLICY_NAME, type NamedPolicy, ROOT_POLICY_NAME, isWildcardPattern, patternShape } from './policy.js';

export type Severity = 'high' | 'medium' | 'low';

export interface LintFinding {
  readonly severity: Severity;
  readonly rule: string;
  readonly policy?: string;
  readonly role?: string;
  readonly path?: string;
  readonly message: string;
}

export interface LintPolicy extends NamedPolicy {
  /** The environment (namespace) the policy belongs to; undefined = applies to every environment. */
  readonly environment?: string;
}

export interface LintRole extends RoleBinding {
  readonly environment?: string;
  /** Seconds; 0 or Infinity = unbounded. */
  readonly tokenTtl?: number;
  readonly tokenMaxTtl?: number;
  readonly secretIdTtl?: number;
}

export interface LintEnvironment {
  readonly name: string;
  /** Defaults to `name === 'prod'`. */
  readonly production?: boolean;
}

export interface LintOptions {
  readonly environments: ReadonlyArray<LintEnvironment>;
}

/** Characters no key name may hold, so a probe path stands for "any key". */
const PROBE = '\u0001any';
const PLAINTEXT_FAMILIES: ReadonlyArray<readonly string[]> = [
  ['transit', 'decrypt'],
  ['transit', 'datakey', 'plaintext'],
];

/**
 * A wildcard pattern that matches more than one key name under `family/<key>`: it matches an
 * arbitrary key, or it globs a partial key name (`transit/decrypt/pay*`).
 */
function coversManyKeys(pattern: string, family: readonly string[]): boolean {
  if (!isWildcardPattern(pattern)) return false;
  const probes = [[...family, PROBE].join('/')];
  const { prefix, isPrefix } = patternShape(pattern);
  const segs = prefix.split('/');
  const keySeg = segs[family.length];
  if (isPrefix && keySeg !== undefined && keySeg !== '+' && segs.length === family.length + 1) probes.push([...family, `${keySeg}${PROBE}`].join('/'));
  return probes.some((probe) => patternMatches(pattern, probe));
}

const unbounded = (seconds: number | undefined): boolean => seconds !== undefined && (seconds === 0 || !Number.isFinite(seconds));
const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { high: 0, medium: 1, low: 2 };

export function lintPolicies(policies: ReadonlyArray<LintPolicy>, roles: ReadonlyArray<LintRole>, options: LintOptions): LintFinding[] {
  const production = new Set(options.environments.filter((e) => e.production ?? e.name === 'prod').map((e) => e.name));
  const isProd = (env: string | undefined): boolean => env !== undefined && production.has(env);
  const sameEnv = (a: string | undefined, b: string | undefined): boolean => a === undefined || b === undefined || a === b;
  const rolesUsing = (p: LintPolicy): LintRole[] => roles.filter((r) => r.policies.includes(p.name) && sameEnv(r.environment, p.environment));
  const findings: LintFinding[] = [];

  for (const p of policies) {
    if (p.name === ROOT_POLICY_NAME) continue;
    const users = rolesUsing(p);
    const usedInProd = isProd(p.environment) || users.some((r) => isProd(r.environment));
    for (const rule of p.policy.rules) {
      const caps = rule.capabilities;
      if (caps.includes('deny')) continue;
      if (caps.includes('update')) {
        for (const family of PLAINTEXT_FAMILIES) {
          if (!coversManyKeys(rule.path, family)) continue;
          findings.push({
            severity: usedInProd ? 'high' : 'medium',
            rule: 'wildcard-decrypt',
            policy: p.name,
            path: rule.path,
            message: `"${rule.path}" grants update on ${family.join('/')}/* for many keys${usedInProd ? ' and the policy is used in production' : ''}; name the keys instead`,
          });
        }
      }
      if (caps.length > 0 && isWildcardPattern(rule.path) && patternMatches(rule.path, `sys/${PROBE}`)) {
        findings.push({ severity: 'high', rule: 'sys-wildcard', policy: p.name, path: rule.path, message: `"${rule.path}" grants ${caps.join(', ')} on all of sys/` });
      }
      if (caps.includes('sudo')) {
        findings.push({ severity: 'medium', rule: 'sudo-grant', policy: p.name, path: rule.path, message: `"${rule.path}" grants sudo (root-protected operations)` });
      }
    }
    if (p.name !== DEFAULT_POLICY_NAME && users.length === 0) {
      findings.push({ severity: 'low', rule: 'unused-policy', policy: p.name, message: `no role uses policy "${p.name}"` });
    }
  }

  for (const r of roles) {
    const prod = isProd(r.environment);
    const maxUnbounded = unbounded(r.tokenMaxTtl) || (r.tokenMaxTtl === undefined && unbounded(r.tokenTtl));
    if (maxUnbounded) {
      findings.push({ severity: prod ? 'high' : 'medium', rule: 'unbounded-token-ttl', role: r.name, message: `tokens of ${r.kind} role "${r.name}" have no maximum lifetime` });
    }
    if (r.kind === 'approle' && unbounded(r.secretIdTtl)) {
      findings.push({ severity: prod ? 'high' : 'medium', rule: 'secret-id-never-expires', role: r.name, message: `secret IDs of AppRole "${r.name}" never expire` });
    }
  }

  return findings.sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rule.localeCompare(b.rule) || (a.policy ?? a.role ?? '').localeCompare(b.policy ?? b.role ?? ''),
  );
}
