/**
 * RateLimiter: Vault-style rate-limit quotas over per-process token buckets.
 *
 * Two stages, because the pipeline offers two places to refuse (pipeline-ports.ts):
 * - source stage (before authentication): quotas keyed by client address (`group_by` ip or none)
 *   that bind neither an environment nor a role — the only ones decidable before the token is read.
 *   Floods of bad tokens are limited here.
 * - identity stage (after authentication): the most specific quota for (environment, ACL path, role).
 *   If that is a source-stage quota it was already charged and nothing more happens; otherwise it is
 *   charged now, keyed as its `group_by` says (entity_* → the principal's subject).
 * Consequence (documented): when an environment- or role-bound quota is the most specific one, a
 * request is also charged to the source-stage quota it passed before authentication.
 *
 * Invariants:
 * - Buckets live in this process only. With N worker processes the effective limit is N × rate; a
 *   store-backed (shared) bucket mode is out of scope.
 * - A quota's buckets restart full when the quota is changed (bucket key includes updatedAt).
 * - Memory is bounded: beyond `maxBuckets`, idle (full, unblocked) buckets are dropped first.
 * - Quotas are re-read from the store at most every `refreshMs` (other processes' changes show up
 *   within that delay); a failing store keeps the last known quotas.
 */
import type { Clock } from '../../core/ports/clock.js';
import type { Environment } from '../../core/types.js';
import type { Metrics } from '../metrics.js';
import type { ObservabilityStore, QuotaConfig, QuotaRecord } from '../store.js';
import { DEFAULT_QUOTA_CONFIG } from '../store.js';
import { compileQuota, isExempt, mostSpecific, type CompiledQuota } from './quota-match.js';
import { isIdle, newBucket, take, type BucketParams, type BucketState } from './token-bucket.js';

export interface RateLimitRefusal {
  readonly quota: string;
  readonly retryAfterSeconds: number;
  readonly stage: 'source' | 'identity';
}

export interface RateLimiterDeps {
  readonly store: Pick<ObservabilityStore, 'listQuotas' | 'getQuotaConfig'>;
  readonly clock: Clock;
  readonly metrics?: Pick<Metrics, 'recordRateLimited'>;
  readonly refreshMs?: number;
  readonly maxBuckets?: number;
  readonly onStoreError?: (err: unknown) => void;
}

export interface IdentityRequest {
  readonly env: Environment | string;
  readonly aclPath: string;
  readonly sourceAddress: string;
  readonly principal: { readonly subject: string; readonly role: string | null } | null;
}

interface Loaded {
  readonly all: readonly CompiledQuota[];
  readonly sourceStage: readonly CompiledQuota[];
  readonly config: QuotaConfig;
  readonly loadedAtMs: number;
}

function isSourceStage(q: QuotaRecord, env: string | null): boolean {
  return q.role === '' && env === null && (q.groupBy === 'ip' || q.groupBy === 'none');
}

/** `/v1/transit/encrypt/x/` → `transit/encrypt/x` (the default ACL path of app.ts). */
export function aclPathOfRequestPath(path: string): string {
  return path.replace(/^\/v1\/?/, '').replace(/^\/+|\/+$/g, '');
}

export class RateLimiter {
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;
  private readonly buckets = new Map<string, { state: BucketState; params: BucketParams }>();
  private readonly refreshMs: number;
  private readonly maxBuckets: number;

  constructor(private readonly deps: RateLimiterDeps) {
    this.refreshMs = deps.refreshMs ?? 1000;
    this.maxBuckets = deps.maxBuckets ?? 100_000;
  }

  /** Forget the cached quotas (after a write through the routes) so the next request re-reads them. */
  invalidate(): void {
    this.loaded = null;
  }

  get bucketCount(): number {
    return this.buckets.size;
  }

  /** Source stage: before authentication. */
  async checkSource(req: { readonly sourceAddress: string; readonly path: string }): Promise<RateLimitRefusal | null> {
    return this.sourceCheck(await this.current(), req);
  }

  /**
   * checkSource without a promise when the quotas are loaded and fresh (the common case);
   * `undefined` when they must be (re)read first — then call checkSource.
   */
  checkSourceNow(req: { readonly sourceAddress: string; readonly path: string }): RateLimitRefusal | null | undefined {
    const l = this.fresh();
    return l === null ? undefined : this.sourceCheck(l, req);
  }

  private sourceCheck(l: Loaded, req: { readonly sourceAddress: string; readonly path: string }): RateLimitRefusal | null {
    // No source-stage quota: nothing to decide (the path is not even parsed).
    if (l.sourceStage.length === 0) return null;
    const aclPath = aclPathOfRequestPath(req.path);
    if (isExempt(l.config.exemptPaths, aclPath)) return null;
    const q = mostSpecific(l.sourceStage, { env: null, aclPath, role: null });
    if (!q) return null;
    return this.charge(q, q.quota.groupBy === 'none' ? '*' : `ip:${req.sourceAddress}`, 'source');
  }

  /** Identity stage: after authentication (principal may be null on `auth: 'none'` routes). */
  async checkIdentity(req: IdentityRequest): Promise<RateLimitRefusal | null> {
    return this.identityCheck(await this.current(), req);
  }

  /** checkIdentity without a promise when the quotas are fresh; `undefined`: call checkIdentity. */
  checkIdentityNow(req: IdentityRequest): RateLimitRefusal | null | undefined {
    const l = this.fresh();
    return l === null ? undefined : this.identityCheck(l, req);
  }

  private identityCheck(l: Loaded, req: IdentityRequest): RateLimitRefusal | null {
    if (l.all.length === 0 || isExempt(l.config.exemptPaths, req.aclPath)) return null;
    const q = mostSpecific(l.all, { env: req.env, aclPath: req.aclPath, role: req.principal?.role ?? null });
    if (!q || isSourceStage(q.quota, q.parsed.env)) return null;
    let key: string;
    switch (q.quota.groupBy) {
      case 'none':
        key = '*';
        break;
      case 'entity_then_none':
        key = req.principal ? `entity:${req.principal.subject}` : '*';
        break;
      case 'entity_then_ip':
        key = req.principal ? `entity:${req.principal.subject}` : `ip:${req.sourceAddress}`;
        break;
      default:
        key = `ip:${req.sourceAddress}`;
    }
    return this.charge(q, key, 'identity');
  }

  private charge(q: CompiledQuota, groupKey: string, stage: RateLimitRefusal['stage']): RateLimitRefusal | null {
    const nowMs = this.deps.clock.now().getTime();
    const params: BucketParams = { rate: q.quota.rate, intervalSeconds: q.quota.intervalSeconds, blockIntervalSeconds: q.quota.blockIntervalSeconds };
    const bucketKey = `${q.quota.name}@${q.quota.updatedAt.getTime()}\u0000${groupKey}`;
    let b = this.buckets.get(bucketKey);
    if (!b) {
      this.prune(nowMs);
      b = { state: newBucket(params, nowMs), params };
      this.buckets.set(bucketKey, b);
    }
    const r = take(b.state, params, nowMs);
    if (r.allowed) return null;
    this.deps.metrics?.recordRateLimited(q.quota.name);
    return { quota: q.quota.name, retryAfterSeconds: r.retryAfterSeconds, stage };
  }

  private prune(nowMs: number): void {
    if (this.buckets.size < this.maxBuckets) return;
    for (const [k, b] of this.buckets) if (isIdle(b.state, b.params, nowMs)) this.buckets.delete(k);
    // Still full of busy buckets: drop the oldest-created ones (a bounded memory beats exactness).
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxBuckets) break;
      this.buckets.delete(k);
    }
  }

  /** The loaded quotas if still fresh, else null (same freshness rule as current()). */
  private fresh(): Loaded | null {
    const l = this.loaded;
    if (l === null) return null;
    const nowMs = this.deps.clock.now().getTime();
    return nowMs - l.loadedAtMs < this.refreshMs && nowMs >= l.loadedAtMs ? l : null;
  }

  private async current(): Promise<Loaded> {
    const nowMs = this.deps.clock.now().getTime();
    const l = this.loaded;
    if (l && nowMs - l.loadedAtMs < this.refreshMs && nowMs >= l.loadedAtMs) return l;
    if (!this.loading) {
      this.loading = this.load(nowMs).finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  private async load(nowMs: number): Promise<Loaded> {
    try {
      const [quotas, config] = await Promise.all([this.deps.store.listQuotas(), this.deps.store.getQuotaConfig()]);
      const all = quotas.map(compileQuota);
      this.loaded = { all, sourceStage: all.filter((c) => isSourceStage(c.quota, c.parsed.env)), config, loadedAtMs: nowMs };
    } catch (e) {
      this.deps.onStoreError?.(e);
      const prev = this.loaded;
      this.loaded = prev ? { ...prev, loadedAtMs: nowMs } : { all: [], sourceStage: [], config: DEFAULT_QUOTA_CONFIG, loadedAtMs: nowMs };
    }
    return this.loaded;
  }
}
