/**
 * Keyward's Prometheus metrics: one prom-client Registry per process (never the global default
 * registry, so tests and embedders can hold several without name clashes) and a small recording API
 * other modules call (caches, auth, MFA) instead of touching prom-client themselves.
 *
 * Invariants:
 * - Label values come from closed sets or from names Keyward itself defines (route operation names,
 *   environments, error codes, quota names, cache names); never from request paths, tokens or
 *   subjects, so series cardinality stays bounded and no secret reaches the exposition.
 * - Per-key rotation gauges are computed on scrape from `keyFacts` (never cached between scrapes);
 *   a failing provider yields no key series rather than a failed scrape.
 */
import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../core/ports/clock.js';
import { systemClock } from '../core/ports/clock.js';

export interface KeyRotationFact {
  readonly env: string;
  readonly name: string;
  readonly lastRotatedAt: Date;
  /** 0 = auto-rotation disabled (no "until" series then). */
  readonly autoRotatePeriodSeconds: number;
  /** When the latest version stops encrypting (`version_ttl`); null = no expiry. */
  readonly latestVersionExpiresAt?: Date | null;
}

export type KeyFactsProvider = () => Promise<ReadonlyArray<KeyRotationFact>>;

export interface MetricsOptions {
  readonly clock?: Clock;
  readonly keyFacts?: KeyFactsProvider;
  /** Node process metrics (CPU, memory, event loop lag, GC) on this registry; default true. */
  readonly processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'operation' | 'status' | 'env'>;
  readonly requestDuration: Histogram<'operation'>;
  readonly hsmOperations: Counter<'op' | 'outcome'>;
  readonly hsmDuration: Histogram<'op'>;
  readonly hsmErrors: Counter<'code'>;
  readonly cacheHits: Counter<'cache'>;
  readonly cacheMisses: Counter<'cache'>;
  readonly authFailures: Counter<'reason'>;
  readonly denials: Counter<'env'>;
  readonly mfaFailures: Counter;
  readonly rateLimited: Counter<'quota'>;
  readonly anomalies: Counter<'kind'>;
  recordCacheHit(cache: string): void;
  recordCacheMiss(cache: string): void;
  recordAuthFailure(reason: string): void;
  recordMfaFailure(): void;
  recordRateLimited(quota: string): void;
  recordAnomaly(kind: string): void;
  /** Prometheus text exposition (format 0.0.4) and its content type. */
  exposition(): Promise<{ contentType: string; body: string }>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const clock = options.clock ?? systemClock;
  if (options.processMetrics ?? true) client.collectDefaultMetrics({ register: registry });

  const requests = new Counter({ name: 'keyward_requests_total', help: 'HTTP requests answered, by route operation, status and environment', labelNames: ['operation', 'status', 'env'] as const, registers });
  const requestDuration = new Histogram({ name: 'keyward_request_duration_seconds', help: 'HTTP request duration in seconds, by route operation', labelNames: ['operation'] as const, buckets: LATENCY_BUCKETS, registers });
  const hsmOperations = new Counter({ name: 'keyward_hsm_operations_total', help: 'HSM port calls, by method and outcome (ok|error)', labelNames: ['op', 'outcome'] as const, registers });
  const hsmDuration = new Histogram({ name: 'keyward_hsm_operation_duration_seconds', help: 'HSM port call duration in seconds, by method', labelNames: ['op'] as const, buckets: LATENCY_BUCKETS, registers });
  const hsmErrors = new Counter({ name: 'keyward_hsm_errors_total', help: 'HSM port call failures, by Keyward error code', labelNames: ['code'] as const, registers });
  const cacheHits = new Counter({ name: 'keyward_cache_hits_total', help: 'Cache hits, by cache', labelNames: ['cache'] as const, registers });
  const cacheMisses = new Counter({ name: 'keyward_cache_misses_total', help: 'Cache misses, by cache', labelNames: ['cache'] as const, registers });
  const authFailures = new Counter({ name: 'keyward_auth_failures_total', help: 'Requests refused before an identity was established, by reason', labelNames: ['reason'] as const, registers });
  const denials = new Counter({ name: 'keyward_denials_total', help: 'Authenticated requests refused with 403, by environment', labelNames: ['env'] as const, registers });
  const mfaFailures = new Counter({ name: 'keyward_mfa_failures_total', help: 'Step-up MFA failures', registers });
  const rateLimited = new Counter({ name: 'keyward_rate_limited_total', help: 'Requests refused by a rate-limit quota, by quota name', labelNames: ['quota'] as const, registers });
  const anomalies = new Counter({ name: 'keyward_anomalies_total', help: 'Anomaly alerts raised, by kind', labelNames: ['kind'] as const, registers });

  const keyFacts = options.keyFacts;
  let lastFacts: Promise<ReadonlyArray<KeyRotationFact>> | null = null;
  // Both gauges are filled from one provider call per scrape: the first gauge's collect starts it,
  // the second reuses it; the next scrape starts afresh.
  const factsForScrape = (first: boolean): Promise<ReadonlyArray<KeyRotationFact>> => {
    if (!keyFacts) return Promise.resolve([]);
    if (first || lastFacts === null) lastFacts = keyFacts().catch(() => []);
    return lastFacts;
  };
  /**
   * One per-key gauge, computed from the key facts on scrape. The first gauge of a scrape
   * (`freshFacts`) reads the facts anew; the later ones reuse that read.
   */
  const keyGauge = (name: string, help: string, freshFacts: boolean, value: (f: KeyRotationFact, nowMs: number) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['env', 'key'] as const,
      registers,
      async collect() {
        this.reset();
        const nowMs = clock.now().getTime();
        for (const f of await factsForScrape(freshFacts)) {
          const v = value(f, nowMs);
          if (v !== null) this.set({ env: f.env, key: f.name }, v);
        }
      },
    });
  };
  keyGauge('keyward_key_seconds_since_rotation', 'Seconds since each transit key was last rotated', true, (f, nowMs) =>
    Math.max(0, (nowMs - f.lastRotatedAt.getTime()) / 1000),
  );
  keyGauge('keyward_key_seconds_until_rotation', 'Seconds until each auto-rotating transit key is due (negative: overdue)', false, (f, nowMs) =>
    f.autoRotatePeriodSeconds > 0 ? (f.lastRotatedAt.getTime() + f.autoRotatePeriodSeconds * 1000 - nowMs) / 1000 : null,
  );
  keyGauge(
    'keyward_key_seconds_until_version_expiry',
    'Seconds until the latest version of each transit key with a version_ttl stops encrypting (negative: expired)',
    false,
    (f, nowMs) => (f.latestVersionExpiresAt ? (f.latestVersionExpiresAt.getTime() - nowMs) / 1000 : null),
  );

  return {
    registry,
    requests,
    requestDuration,
    hsmOperations,
    hsmDuration,
    hsmErrors,
    cacheHits,
    cacheMisses,
    authFailures,
    denials,
    mfaFailures,
    rateLimited,
    anomalies,
    recordCacheHit: (cache) => cacheHits.inc({ cache }),
    recordCacheMiss: (cache) => cacheMisses.inc({ cache }),
    recordAuthFailure: (reason) => authFailures.inc({ reason }),
    recordMfaFailure: () => mfaFailures.inc(),
    recordRateLimited: (quota) => rateLimited.inc({ quota }),
    recordAnomaly: (kind) => anomalies.inc({ kind }),
    exposition: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
