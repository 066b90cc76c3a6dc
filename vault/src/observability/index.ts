/**
 * createObservability: the composition of Keyward's operational signals for main.ts — one metrics
 * registry, the rate limiter, the anomaly detector/service, their pipeline hooks (in the order they
 * must run) and their routes.
 *
 * Hook order: metrics (observes everything, refuses nothing) → anomaly (suspended identities are
 * refused before they cost a rate-limit token) → rate limit. Pass `hooks` to buildApp as given.
 */
import type { Logger } from 'pino';
import { SqliteObservabilityStore } from '../adapters/sqlite/sqlite-observability-store.js';
import type { SqliteConnection } from '../adapters/sqlite/database.js';
import type { AuditSink } from '../core/ports/audit-sink.js';
import type { Clock } from '../core/ports/clock.js';
import type { Hsm } from '../core/ports/hsm.js';
import type { PipelineHook } from '../http/pipeline-ports.js';
import type { RouteSpec } from '../http/route-spec.js';
import { anomalyRoutes } from '../http/routes/sys/anomalies.js';
import { metricsRoutes } from '../http/routes/sys/metrics.js';
import { quotaRoutes } from '../http/routes/sys/quotas.js';
import { anomalyHook } from './anomaly/anomaly-hook.js';
import { AnomalyService, type WebhookFetch } from './anomaly/anomaly-service.js';
import { AnomalyDetector } from './anomaly/detector.js';
import { instrumentHsm } from './instrumented-hsm.js';
import { createMetrics, type KeyFactsProvider, type Metrics } from './metrics.js';
import { metricsHook } from './metrics-hook.js';
import { rateLimitHook } from './rate-limit/rate-limit-hook.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import type { ObservabilityStore } from './store.js';

export interface ObservabilityDeps {
  readonly db: SqliteConnection;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Per-key rotation facts for the rotation gauges, read on each scrape. */
  readonly keyFacts?: KeyFactsProvider;
  /** Webhook transport (default: global fetch). */
  readonly webhookFetch?: WebhookFetch;
  /** Known environments: quota paths naming another environment are refused. */
  readonly environments?: readonly string[];
  /** Node process metrics on the registry (default true). */
  readonly processMetrics?: boolean;
  /** Use another store than SQLite on `db` (tests). */
  readonly store?: ObservabilityStore;
}

export interface Observability {
  readonly metrics: Metrics;
  readonly hooks: PipelineHook[];
  readonly routes: RouteSpec[];
  readonly instrumentHsm: (hsm: Hsm) => Hsm;
  readonly limiter: RateLimiter;
  readonly anomalies: AnomalyService;
  readonly store: ObservabilityStore;
}

export function createObservability(deps: ObservabilityDeps): Observability {
  const store = deps.store ?? new SqliteObservabilityStore(deps.db);
  const metrics = createMetrics({ clock: deps.clock, ...(deps.keyFacts ? { keyFacts: deps.keyFacts } : {}), processMetrics: deps.processMetrics ?? true });
  const limiter = new RateLimiter({ store, clock: deps.clock, metrics, onStoreError: (err) => deps.logger.error({ err }, 'rate-limit quotas unavailable; keeping the last known') });
  const anomalies = new AnomalyService({
    store,
    detector: new AnomalyDetector(),
    audit: deps.audit,
    clock: deps.clock,
    logger: deps.logger,
    metrics,
    ...(deps.webhookFetch ? { webhookFetch: deps.webhookFetch } : {}),
  });
  // Suspend-roles and thresholds in force from the start (later changes: routes + 5 s refresh).
  void anomalies.loadSettings().catch((err: unknown) => deps.logger.error({ err }, 'anomaly settings unavailable; using defaults'));
  const hooks: PipelineHook[] = [metricsHook(metrics), anomalyHook(anomalies, deps.clock), rateLimitHook(limiter, { audit: deps.audit, clock: deps.clock, logger: deps.logger })];
  const routes: RouteSpec[] = [
    ...metricsRoutes({ metrics }),
    ...quotaRoutes({ store, clock: deps.clock, onChange: () => limiter.invalidate(), ...(deps.environments ? { environments: deps.environments } : {}) }),
    ...anomalyRoutes({ store, service: anomalies }),
  ];
  return { metrics, hooks, routes, instrumentHsm: (hsm) => instrumentHsm(hsm, metrics), limiter, anomalies, store };
}

export { metricsRoutes, quotaRoutes, anomalyRoutes, metricsHook, rateLimitHook, anomalyHook, instrumentHsm, createMetrics };
