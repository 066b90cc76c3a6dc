/**
 * SqliteObservabilityStore: the embedded ObservabilityStore adapter (schema in migrations/008-quotas.ts).
 *
 * Invariants kept here:
 * - Statements are prepared once; every call goes through withSqliteErrors (codes, never messages).
 * - JSON columns are parsed defensively: a row that no longer parses yields the default, never a crash
 *   of the request path that reads it (config rows are written only by this adapter).
 * - `suspend` is INSERT OR IGNORE: the first suspension of a subject is the one kept.
 *
 * The connection is shared with the other Sqlite* adapters: nothing here closes it.
 */
import type { Statement } from 'better-sqlite3';
import type {
  AnomalyAlertFilter,
  AnomalyAlertRecord,
  AnomalySettings,
  NewAnomalyAlert,
  ObservabilityStore,
  QuotaConfig,
  QuotaGroupBy,
  QuotaRecord,
  SuspensionRecord,
} from '../../observability/store.js';
import { DEFAULT_QUOTA_CONFIG } from '../../observability/store.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface QuotaRow {
  name: string;
  path: string;
  rate: number;
  interval_ms: number;
  block_interval_ms: number;
  role: string;
  inheritable: number;
  group_by: string;
  created_at: number;
  updated_at: number;
}

interface AlertRow {
  id: number;
  at: number;
  kind: string;
  subject: string;
  env: string;
  role: string | null;
  source_address: string;
  request_id: string;
  details: string;
  suspended: number;
}

interface SuspensionRow {
  subject: string;
  role: string | null;
  kind: string;
  alert_id: number | null;
  suspended_at: number;
}

const GROUP_BY: readonly QuotaGroupBy[] = ['ip', 'none', 'entity_then_ip', 'entity_then_none'];

function parseJson<T>(text: string | null, fallback: T, accept: (v: unknown) => boolean): T {
  if (text === null) return fallback;
  try {
    const v: unknown = JSON.parse(text);
    return accept(v) ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

function toQuota(r: QuotaRow): QuotaRecord {
  return {
    name: r.name,
    path: r.path,
    rate: r.rate,
    intervalSeconds: r.interval_ms / 1000,
    blockIntervalSeconds: r.block_interval_ms / 1000,
    role: r.role,
    inheritable: r.inheritable === 1,
    groupBy: (GROUP_BY as readonly string[]).includes(r.group_by) ? (r.group_by as QuotaGroupBy) : 'ip',
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

function toAlert(r: AlertRow): AnomalyAlertRecord {
  return {
    id: r.id,
    at: new Date(r.at),
    kind: r.kind,
    subject: r.subject,
    env: r.env,
    role: r.role,
    sourceAddress: r.source_address,
    requestId: r.request_id,
    details: parseJson<Record<string, unknown>>(r.details, {}, isObject),
    suspended: r.suspended === 1,
  };
}

function toSuspension(r: SuspensionRow): SuspensionRecord {
  return { subject: r.subject, role: r.role, kind: r.kind, alertId: r.alert_id, suspendedAt: new Date(r.suspended_at) };
}

export class SqliteObservabilityStore implements ObservabilityStore {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: SqliteConnection) {
    this.s = withSqliteErrors('prepareObservabilityStore', () => ({
      listQuotas: db.prepare('SELECT * FROM rate_limit_quotas ORDER BY name'),
      getQuota: db.prepare('SELECT * FROM rate_limit_quotas WHERE name = ?'),
      putQuota: db.prepare(`INSERT INTO rate_limit_quotas (name, path, rate, interval_ms, block_interval_ms, role, inheritable, group_by, created_at, updated_at)
        VALUES (@name, @path, @rate, @interval_ms, @block_interval_ms, @role, @inheritable, @group_by, @created_at, @updated_at)
        ON CONFLICT (name) DO UPDATE SET path = excluded.path, rate = excluded.rate, interval_ms = excluded.interval_ms,
          block_interval_ms = excluded.block_interval_ms, role = excluded.role, inheritable = excluded.inheritable,
          group_by = excluded.group_by, updated_at = excluded.updated_at`),
      deleteQuota: db.prepare('DELETE FROM rate_limit_quotas WHERE name = ?'),
      getQuotaConfig: db.prepare('SELECT * FROM quota_config WHERE id = 1'),
      putQuotaConfig: db.prepare(`INSERT INTO quota_config (id, exempt_paths, audit_logging, response_headers, updated_at) VALUES (1, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET exempt_paths = excluded.exempt_paths, audit_logging = excluded.audit_logging,
          response_headers = excluded.response_headers, updated_at = excluded.updated_at`),
      addAlert: db.prepare(`INSERT INTO anomaly_alerts (at, kind, subject, env, role, source_address, request_id, details, suspended)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      listAlerts: db.prepare(`SELECT * FROM anomaly_alerts
        WHERE at >= @since AND (@subject IS NULL OR subject = @subject) AND (@kind IS NULL OR kind = @kind)
        ORDER BY id DESC LIMIT @limit`),
      getSettings: db.prepare('SELECT * FROM anomaly_settings WHERE id = 1'),
      putSettings: db.prepare(`INSERT INTO anomaly_settings (id, webhook_url, suspend_roles, thresholds, updated_at) VALUES (1, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET webhook_url = excluded.webhook_url, suspend_roles = excluded.suspend_roles,
          thresholds = excluded.thresholds, updated_at = excluded.updated_at`),
      suspend: db.prepare('INSERT OR IGNORE INTO identity_suspensions (subject, role, kind, alert_id, suspended_at) VALUES (?, ?, ?, ?, ?)'),
      release: db.prepare('DELETE FROM identity_suspensions WHERE subject = ?'),
      listSuspensions: db.prepare('SELECT * FROM identity_suspensions ORDER BY suspended_at, subject'),
    }));
  }

  private stmt(name: string): Statement {
    const s = this.s[name];
    if (!s) throw new Error(`unprepared statement ${name}`);
    return s;
  }

  async listQuotas(): Promise<QuotaRecord[]> {
    return withSqliteErrors('listQuotas', () => (this.stmt('listQuotas').all() as QuotaRow[]).map(toQuota));
  }

  async getQuota(name: string): Promise<QuotaRecord | null> {
    return withSqliteErrors('getQuota', () => {
      const r = this.stmt('getQuota').get(name) as QuotaRow | undefined;
      return r ? toQuota(r) : null;
    });
  }

  async putQuota(q: QuotaRecord): Promise<void> {
    withSqliteErrors('putQuota', () =>
      this.stmt('putQuota').run({
        name: q.name,
        path: q.path,
        rate: q.rate,
        interval_ms: Math.round(q.intervalSeconds * 1000),
        block_interval_ms: Math.round(q.blockIntervalSeconds * 1000),
        role: q.role,
        inheritable: q.inheritable ? 1 : 0,
        group_by: q.groupBy,
        created_at: q.createdAt.getTime(),
        updated_at: q.updatedAt.getTime(),
      }),
    );
  }

  async deleteQuota(name: string): Promise<boolean> {
    return withSqliteErrors('deleteQuota', () => this.stmt('deleteQuota').run(name).changes > 0);
  }

  async getQuotaConfig(): Promise<QuotaConfig> {
    return withSqliteErrors('getQuotaConfig', () => {
      const r = this.stmt('getQuotaConfig').get() as { exempt_paths: string; audit_logging: number; response_headers: number } | undefined;
      if (!r) return DEFAULT_QUOTA_CONFIG;
      return {
        exemptPaths: parseJson<string[]>(r.exempt_paths, [...DEFAULT_QUOTA_CONFIG.exemptPaths], isStringArray),
        enableRateLimitAuditLogging: r.audit_logging === 1,
        enableRateLimitResponseHeaders: r.response_headers === 1,
      };
    });
  }

  async putQuotaConfig(c: QuotaConfig): Promise<void> {
    withSqliteErrors('putQuotaConfig', () =>
      this.stmt('putQuotaConfig').run(JSON.stringify(c.exemptPaths), c.enableRateLimitAuditLogging ? 1 : 0, c.enableRateLimitResponseHeaders ? 1 : 0, Date.now()),
    );
  }

  async addAlert(a: NewAnomalyAlert): Promise<AnomalyAlertRecord> {
    return withSqliteErrors('addAlert', () => {
      const info = this.stmt('addAlert').run(a.at.getTime(), a.kind, a.subject, a.env, a.role, a.sourceAddress, a.requestId, JSON.stringify(a.details), a.suspended ? 1 : 0);
      return { ...a, id: Number(info.lastInsertRowid) };
    });
  }

  async listAlerts(f: AnomalyAlertFilter): Promise<AnomalyAlertRecord[]> {
    return withSqliteErrors('listAlerts', () =>
      (this.stmt('listAlerts').all({ since: f.since ? f.since.getTime() : 0, subject: f.subject ?? null, kind: f.kind ?? null, limit: f.limit }) as AlertRow[]).map(toAlert),
    );
  }

  async getAnomalySettings(): Promise<AnomalySettings> {
    return withSqliteErrors('getAnomalySettings', () => {
      const r = this.stmt('getSettings').get() as { webhook_url: string | null; suspend_roles: string; thresholds: string; updated_at: number } | undefined;
      if (!r) return { webhookUrl: null, suspendRoles: [], thresholds: {}, updatedAt: null };
      return {
        webhookUrl: r.webhook_url,
        suspendRoles: parseJson<string[]>(r.suspend_roles, [], isStringArray),
        thresholds: parseJson<Record<string, unknown>>(r.thresholds, {}, isObject),
        updatedAt: new Date(r.updated_at),
      };
    });
  }

  async putAnomalySettings(s: AnomalySettings): Promise<void> {
    withSqliteErrors('putAnomalySettings', () =>
      this.stmt('putSettings').run(s.webhookUrl, JSON.stringify(s.suspendRoles), JSON.stringify(s.thresholds), (s.updatedAt ?? new Date()).getTime()),
    );
  }

  async suspend(r: SuspensionRecord): Promise<void> {
    withSqliteErrors('suspend', () => this.stmt('suspend').run(r.subject, r.role, r.kind, r.alertId, r.suspendedAt.getTime()));
  }

  async release(subject: string): Promise<boolean> {
    return withSqliteErrors('release', () => this.stmt('release').run(subject).changes > 0);
  }

  async listSuspensions(): Promise<SuspensionRecord[]> {
    return withSqliteErrors('listSuspensions', () => (this.stmt('listSuspensions').all() as SuspensionRow[]).map(toSuspension));
  }
}
