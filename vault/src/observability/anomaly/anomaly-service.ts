/**
 * AnomalyService: what happens when the detector finds something. For each finding, in this order:
 *   1. store the alert (GET sys/anomalies lists it);
 *   2. if the identity's role is in `suspend_roles`, suspend the subject (store + cache) — done even
 *      if step 1 failed, because it is the protective action;
 *   3. audit a `lifecycle` entry, operation `anomaly`, details { kind, subject, … };
 *   4. count it (keyward_anomalies_total{kind});
 *   5. POST it to the webhook, if configured (5 s timeout, best effort, never retried).
 * Handling runs after the response (onResponse must not throw or wait); `flush()` awaits it (tests,
 * shutdown). Failures are logged without secrets; nothing here can fail a request.
 *
 * Alerts hold identity subject, role, environment, network facts and counts — never tokens, keys'
 * material, plaintext or ciphertext.
 */
import type { Logger } from 'pino';
import { invalidInput } from '../../core/errors.js';
import type { AuditSink } from '../../core/ports/audit-sink.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Metrics } from '../metrics.js';
import type { AnomalySettings, ObservabilityStore } from '../store.js';
import type { Finding, ObservedEvent } from './baseline.js';
import { thresholdOverridesSchema, thresholdsFromStored, type AnomalyThresholds, type ThresholdOverrides } from './config.js';
import type { AnomalyDetector } from './detector.js';
import { SuspensionCache } from './suspension-cache.js';

export type WebhookFetch = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ ok: boolean; status: number }>;

export interface AnomalyServiceDeps {
  readonly store: ObservabilityStore;
  readonly detector: AnomalyDetector;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'error' | 'warn'>;
  readonly metrics?: Pick<Metrics, 'recordAnomaly'>;
  readonly webhookFetch?: WebhookFetch;
  readonly webhookTimeoutMs?: number;
  readonly suspensionTtlMs?: number;
  readonly settingsTtlMs?: number;
}

const EMPTY_SETTINGS: AnomalySettings = { webhookUrl: null, suspendRoles: [], thresholds: {}, updatedAt: null };

export class AnomalyService {
  readonly suspensions: SuspensionCache;
  private settings: AnomalySettings = EMPTY_SETTINGS;
  private settingsLoadedAtMs = Number.NEGATIVE_INFINITY;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: AnomalyServiceDeps) {
    this.suspensions = new SuspensionCache(deps.store, deps.clock, deps.suspensionTtlMs ?? 1000, (e) => deps.logger.error({ err: e }, 'suspension list unavailable'));
  }

  /** Feed one answered request; findings are handled in the background. */
  observe(e: ObservedEvent): Finding[] {
    this.maybeRefreshSettings();
    const findings = this.deps.detector.observe(e);
    for (const f of findings) this.track(this.handle(e, f));
    return findings;
  }

  /**
   * A finding detected outside the detectors (e.g. a second unwrap of a wrapping token): stored,
   * audited, counted, sent to the webhook and, for a suspend-listed role, suspended like any other.
   */
  raise(e: ObservedEvent, f: Finding): void {
    this.track(this.handle(e, f));
  }

  /** Resolves when every finding observed so far has been handled. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async loadSettings(): Promise<AnomalySettings> {
    const s = await this.deps.store.getAnomalySettings();
    this.settings = s;
    this.settingsLoadedAtMs = this.deps.clock.now().getTime();
    this.deps.detector.setThresholds(thresholdsFromStored(s.thresholds));
    return s;
  }

  /** Validates and stores a settings change (POST sys/anomalies/config); unspecified fields keep their value. */
  async updateSettings(patch: { webhookUrl?: string | null; suspendRoles?: readonly string[]; thresholds?: unknown }): Promise<AnomalySettings> {
    const current = await this.deps.store.getAnomalySettings();
    let thresholds = current.thresholds;
    if (patch.thresholds !== undefined) {
      const parsed = thresholdOverridesSchema.safeParse(patch.thresholds);
      if (!parsed.success) throw invalidInput('invalid request: thresholds: must be positive numbers for known detectors');
      thresholds = mergeOverrides(thresholdOverridesSchema.safeParse(current.thresholds).data ?? {}, parsed.data);
    }
    const next: AnomalySettings = {
      webhookUrl: patch.webhookUrl !== undefined ? patch.webhookUrl : current.webhookUrl,
      suspendRoles: patch.suspendRoles !== undefined ? [...new Set(patch.suspendRoles)] : current.suspendRoles,
      thresholds,
      updatedAt: this.deps.clock.now(),
    };
    await this.deps.store.putAnomalySettings(next);
    return this.loadSettings();
  }

  /** The thresholds in force (defaults merged with stored overrides). */
  thresholds(): AnomalyThresholds {
    return this.deps.detector.getThresholds();
  }

  async release(subject: string): Promise<boolean> {
    const released = await this.deps.store.release(subject);
    this.suspensions.remove(subject);
    // A fresh start: the burst that caused the suspension must not count again.
    this.deps.detector.forget(subject);
    return released;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private maybeRefreshSettings(): void {
    const nowMs = this.deps.clock.now().getTime();
    if (nowMs - this.settingsLoadedAtMs < (this.deps.settingsTtlMs ?? 5000) && nowMs >= this.settingsLoadedAtMs) return;
    this.settingsLoadedAtMs = nowMs; // one refresh in flight at a time
    this.track(
      this.loadSettings().then(
        () => undefined,
        (err: unknown) => this.deps.logger.error({ err }, 'anomaly settings unavailable'),
      ),
    );
  }

  private async handle(e: ObservedEvent, f: Finding): Promise<void> {
    const { store, logger } = this.deps;
    const at = new Date(e.atMs);
    const settings = this.settings;
    const suspend = e.role !== null && settings.suspendRoles.includes(e.role);
    const details = { kind: f.kind, subject: e.subject, ...f.details, ...(suspend ? { suspended: true } : {}) };

    let alertId: number | null = null;
    try {
      const rec = await store.addAlert({ at, kind: f.kind, subject: e.subject, env: e.env, role: e.role, sourceAddress: e.sourceAddress, requestId: e.requestId, details, suspended: suspend });
      alertId = rec.id;
    } catch (err) {
      logger.error({ err, kind: f.kind }, 'anomaly alert could not be stored');
    }
    if (suspend) {
      this.suspensions.add(e.subject);
      try {
        await store.suspend({ subject: e.subject, role: e.role, kind: f.kind, alertId, suspendedAt: at });
      } catch (err) {
        // The in-process block stands; other processes see it once the store recovers.
        logger.error({ err, kind: f.kind }, 'suspension could not be stored');
      }
    }
    try {
      await this.deps.audit.record({
        type: 'lifecycle',
        time: at,
        requestId: e.requestId,
        env: e.env,
        identity: { subject: e.subject, authMethod: e.authMethod, ...(e.role ? { role: e.role } : {}) },
        sourceAddress: e.sourceAddress,
        operation: 'anomaly',
        path: e.aclPath,
        details: { ...details, ...(alertId !== null ? { alert_id: alertId } : {}) },
      });
    } catch (err) {
      logger.error({ err, kind: f.kind }, 'anomaly alert could not be audited');
    }
    this.deps.metrics?.recordAnomaly(f.kind);
    if (settings.webhookUrl) await this.postWebhook(settings.webhookUrl, { alert_id: alertId, time: at.toISOString(), env: e.env, role: e.role, source_address: e.sourceAddress, request_id: e.requestId, ...details });
  }

  private async postWebhook(url: string, payload: Record<string, unknown>): Promise<void> {
    const doFetch: WebhookFetch = this.deps.webhookFetch ?? ((u, init) => fetch(u, init));
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.deps.webhookTimeoutMs ?? 5000),
      });
      if (!res.ok) this.deps.logger.warn({ status: res.status, kind: payload['kind'] }, 'anomaly webhook answered with an error');
    } catch (err) {
      this.deps.logger.warn({ err: err instanceof Error ? err.name : 'error', kind: payload['kind'] }, 'anomaly webhook failed');
    }
  }
}

function mergeOverrides(base: ThresholdOverrides, patch: ThresholdOverrides): ThresholdOverrides {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = { ...((base as Record<string, object | undefined>)[k] ?? {}), ...v };
  return out as ThresholdOverrides;
}
