/**
 * ObservabilityStore port: what rate-limit quotas and anomaly detection persist — quota definitions
 * (Vault's sys/quotas/rate-limit), the quota config (sys/quotas/config), anomaly alerts, the anomaly
 * config (webhook, roles to suspend, thresholds) and identity suspensions.
 *
 * Domain operations, not SQL (DESIGN.md §5): the SQLite adapter is the embedded default. Every write
 * is durable when the promise resolves; records are fresh objects. Token buckets and behaviour
 * baselines are NOT here: they are per-process memory (see rate-limit/rate-limiter.ts).
 */

/** Vault's `group_by`: who shares one token bucket of a quota. */
export type QuotaGroupBy = 'ip' | 'none' | 'entity_then_ip' | 'entity_then_none';

export interface QuotaRecord {
  readonly name: string;
  /** '' = global; `prod/`, `transit/encrypt/`, `prod/transit/encrypt/*` … (see rate-limit/quota-match.ts). */
  readonly path: string;
  /** Requests allowed per `intervalSeconds` (a float, > 0). */
  readonly rate: number;
  readonly intervalSeconds: number;
  /** 0 = no blocking beyond the bucket. */
  readonly blockIntervalSeconds: number;
  /** '' = any role. */
  readonly role: string;
  readonly inheritable: boolean;
  readonly groupBy: QuotaGroupBy;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface QuotaConfig {
  /** ACL paths (no /v1/) never rate limited, e.g. `sys/health`. A trailing `*` matches a prefix. */
  readonly exemptPaths: readonly string[];
  readonly enableRateLimitAuditLogging: boolean;
  readonly enableRateLimitResponseHeaders: boolean;
}

export const DEFAULT_QUOTA_CONFIG: QuotaConfig = Object.freeze({
  // Vault's default exemptions that exist in Keyward.
  exemptPaths: Object.freeze(['sys/health']) as readonly string[],
  // Keyward always audits refusals (DESIGN.md: every refusal leaves a trace); the flag is reported as true.
  enableRateLimitAuditLogging: true,
  enableRateLimitResponseHeaders: false,
});

export interface AnomalyAlertRecord {
  readonly id: number;
  readonly at: Date;
  readonly kind: string;
  readonly subject: string;
  readonly env: string;
  readonly role: string | null;
  readonly sourceAddress: string;
  readonly requestId: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly suspended: boolean;
}

export type NewAnomalyAlert = Omit<AnomalyAlertRecord, 'id'>;

export interface AnomalyAlertFilter {
  readonly since?: Date;
  readonly subject?: string;
  readonly kind?: string;
  readonly limit: number;
}

export interface AnomalySettings {
  readonly webhookUrl: string | null;
  readonly suspendRoles: readonly string[];
  /** Partial threshold overrides, merged over DEFAULT_ANOMALY_THRESHOLDS. */
  readonly thresholds: Readonly<Record<string, unknown>>;
  readonly updatedAt: Date | null;
}

export interface SuspensionRecord {
  readonly subject: string;
  readonly role: string | null;
  readonly kind: string;
  readonly alertId: number | null;
  readonly suspendedAt: Date;
}

export interface ObservabilityStore {
  listQuotas(): Promise<QuotaRecord[]>;
  getQuota(name: string): Promise<QuotaRecord | null>;
  putQuota(quota: QuotaRecord): Promise<void>;
  deleteQuota(name: string): Promise<boolean>;
  getQuotaConfig(): Promise<QuotaConfig>;
  putQuotaConfig(config: QuotaConfig): Promise<void>;

  addAlert(alert: NewAnomalyAlert): Promise<AnomalyAlertRecord>;
  listAlerts(filter: AnomalyAlertFilter): Promise<AnomalyAlertRecord[]>;
  getAnomalySettings(): Promise<AnomalySettings>;
  putAnomalySettings(settings: AnomalySettings): Promise<void>;

  /** Idempotent: suspending a suspended subject keeps the first record. */
  suspend(record: SuspensionRecord): Promise<void>;
  release(subject: string): Promise<boolean>;
  listSuspensions(): Promise<SuspensionRecord[]>;
}
