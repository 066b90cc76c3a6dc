/**
 * Which quota governs a request (pure). A quota path is `[<env>/][<mount path>[*]]`:
 *   ''                          global
 *   'prod/'                     everything in environment (Vault namespace) prod
 *   'transit/encrypt/'          that mount path, in every environment
 *   'prod/transit/encrypt/pay'  one path in one environment; a trailing `*` makes it a raw prefix
 * The first segment is an environment unless it is one of Keyward's mounts (transit, secret, sys,
 * auth, identity). Without `*`, matching is by whole segments: `transit/enc` does not match
 * `transit/encrypt/x`.
 *
 * Precedence follows Vault: the most specific quota alone decides. Specificity orders by
 * (role set) > (longer mount path) > (environment-bound), so a role quota beats a path quota, a path
 * quota beats a mount quota, which beats an environment quota, which beats the global one.
 */
import type { QuotaRecord } from '../store.js';

export const MOUNTS: ReadonlySet<string> = new Set(['transit', 'secret', 'sys', 'auth', 'identity']);

export interface ParsedQuotaPath {
  /** null: any environment. */
  readonly env: string | null;
  /** ACL-path prefix below the environment, without leading slash; '' = all. */
  readonly prefix: string;
  /** true when the path ended in `*` (raw string prefix instead of whole segments). */
  readonly glob: boolean;
}

export function parseQuotaPath(raw: string): ParsedQuotaPath {
  let p = raw.trim().replace(/^\/+/, '');
  const glob = p.endsWith('*');
  if (glob) p = p.slice(0, -1);
  const first = p.split('/')[0] ?? '';
  let env: string | null = null;
  if (first !== '' && !MOUNTS.has(first)) {
    env = first;
    p = p.slice(first.length).replace(/^\/+/, '');
  }
  if (!glob) p = p.replace(/\/+$/, '');
  return { env, prefix: p, glob };
}

export function pathMatches(q: ParsedQuotaPath, aclPath: string): boolean {
  if (q.prefix === '') return true;
  if (q.glob) return aclPath.startsWith(q.prefix);
  return aclPath === q.prefix || aclPath.startsWith(`${q.prefix}/`);
}

export interface MatchRequest {
  /** null when not yet known (before authentication). */
  readonly env: string | null;
  readonly aclPath: string;
  /** null when unknown or the principal has no role. */
  readonly role: string | null;
}

export interface CompiledQuota {
  readonly quota: QuotaRecord;
  readonly parsed: ParsedQuotaPath;
}

export function compileQuota(quota: QuotaRecord): CompiledQuota {
  return { quota, parsed: parseQuotaPath(quota.path) };
}

export function quotaMatches(c: CompiledQuota, r: MatchRequest): boolean {
  if (c.parsed.env !== null && c.parsed.env !== r.env) return false;
  if (c.quota.role !== '' && c.quota.role !== r.role) return false;
  return pathMatches(c.parsed, r.aclPath);
}

/** Larger is more specific; compared element by element. */
export function specificity(c: CompiledQuota): [number, number, number, number] {
  return [c.quota.role !== '' ? 1 : 0, c.parsed.prefix.length, c.parsed.glob ? 0 : 1, c.parsed.env !== null ? 1 : 0];
}

function compare(a: CompiledQuota, b: CompiledQuota): number {
  const sa = specificity(a);
  const sb = specificity(b);
  for (let i = 0; i < sa.length; i++) {
    const d = (sa[i] ?? 0) - (sb[i] ?? 0);
    if (d !== 0) return d;
  }
  // Deterministic tie-break between equally specific quotas: the stricter rate, then the name.
  const ra = a.quota.rate / a.quota.intervalSeconds;
  const rb = b.quota.rate / b.quota.intervalSeconds;
  if (ra !== rb) return rb - ra;
  return a.quota.name < b.quota.name ? 1 : a.quota.name > b.quota.name ? -1 : 0;
}

/** The quota that governs `r` among `quotas`, or null when none matches. */
export function mostSpecific(quotas: readonly CompiledQuota[], r: MatchRequest): CompiledQuota | null {
  let best: CompiledQuota | null = null;
  for (const c of quotas) {
    if (!quotaMatches(c, r)) continue;
    if (best === null || compare(c, best) > 0) best = c;
  }
  return best;
}

/** True when `aclPath` is exempt (`sys/health`, or a prefix with a trailing `*`). */
export function isExempt(exemptPaths: readonly string[], aclPath: string): boolean {
  return exemptPaths.some((e) => (e.endsWith('*') ? aclPath.startsWith(e.slice(0, -1)) : aclPath === e.replace(/^\/+|\/+$/g, '')));
}
