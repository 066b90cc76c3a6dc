/**
 * Keyward's anomaly API (no Vault counterpart):
 *   GET  /v1/sys/anomalies              alerts, newest first; query since (RFC 3339 or unix seconds),
 *                                       subject, kind, limit (≤ 1000, default 100)
 *   GET  /v1/sys/anomalies/config       webhook_url, suspend_roles, effective thresholds
 *   POST /v1/sys/anomalies/config       { webhook_url?, suspend_roles?, thresholds? } (partial update)
 *   POST /v1/sys/anomalies/release      { subject }: lift a suspension
 *   GET  /v1/sys/anomalies/suspensions  suspended subjects
 * Authorisation is the pipeline's: read on the GETs, update on the POSTs of these ACL paths.
 */
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { AnomalyService } from '../../../observability/anomaly/anomaly-service.js';
import type { AnomalyAlertRecord, ObservabilityStore } from '../../../observability/store.js';
import { parseInput } from '../../schema.js';
import type { RouteSpec } from '../../route-spec.js';

export interface AnomalyRouteDeps {
  readonly store: ObservabilityStore;
  readonly service: AnomalyService;
}

const configBody = z.object({
  webhook_url: z
    .union([z.string().max(2048), z.null()])
    .optional()
    .refine((u) => u === undefined || u === null || u === '' || isHttpUrl(u), { message: 'must be an http(s) URL' }),
  suspend_roles: z.array(z.string().min(1).max(128)).max(256).optional(),
  thresholds: z.record(z.string(), z.unknown()).optional(),
});

const releaseBody = z.object({ subject: z.string().min(1).max(512) });

function isHttpUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function parseSince(raw: unknown): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw invalidInput('invalid request: since: invalid time');
  const d = /^\d{1,12}$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
  if (Number.isNaN(d.getTime())) throw invalidInput('invalid request: since: invalid time');
  return d;
}

function optionalString(raw: unknown, field: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > 512) throw invalidInput(`invalid request: ${field}: invalid`);
  return raw;
}

function alertView(a: AnomalyAlertRecord): Record<string, unknown> {
  return {
    id: a.id,
    time: a.at.toISOString(),
    kind: a.kind,
    subject: a.subject,
    env: a.env,
    role: a.role,
    source_address: a.sourceAddress,
    request_id: a.requestId,
    suspended: a.suspended,
    details: a.details,
  };
}

export function anomalyRoutes(deps: AnomalyRouteDeps): RouteSpec[] {
  const configView = async (): Promise<Record<string, unknown>> => {
    const s = await deps.service.loadSettings();
    return { webhook_url: s.webhookUrl ?? '', suspend_roles: s.suspendRoles, thresholds: deps.service.thresholds() };
  };
  return [
    {
      method: 'GET',
      path: '/sys/anomalies',
      operation: 'sys.anomalies.list',
      handler: async (req) => {
        const limitRaw = optionalString(req.query['limit'], 'limit');
        const limit = limitRaw === undefined ? 100 : Number(limitRaw);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidInput('invalid request: limit: must be 1..1000');
        const since = parseSince(req.query['since']);
        const subject = optionalString(req.query['subject'], 'subject');
        const kind = optionalString(req.query['kind'], 'kind');
        const alerts = await deps.store.listAlerts({ limit, ...(since ? { since } : {}), ...(subject ? { subject } : {}), ...(kind ? { kind } : {}) });
        return { data: { alerts: alerts.map(alertView) } };
      },
    },
    {
      method: 'GET',
      path: '/sys/anomalies/config',
      operation: 'sys.anomalies.config.read',
      handler: async () => ({ data: await configView() }),
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/anomalies/config',
      operation: 'sys.anomalies.config.write',
      handler: async (req) => {
        const body = parseInput(configBody, req.body);
        await deps.service.updateSettings({
          ...(body.webhook_url !== undefined ? { webhookUrl: body.webhook_url === '' ? null : body.webhook_url } : {}),
          ...(body.suspend_roles !== undefined ? { suspendRoles: body.suspend_roles } : {}),
          ...(body.thresholds !== undefined ? { thresholds: body.thresholds } : {}),
        });
        return { data: await configView() };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/anomalies/release',
      operation: 'sys.anomalies.release',
      handler: async (req, ctx) => {
        const { subject } = parseInput(releaseBody, req.body);
        ctx.audit.details['released_subject'] = subject;
        const released = await deps.service.release(subject);
        return { data: { subject, released } };
      },
    },
    {
      method: 'GET',
      path: '/sys/anomalies/suspensions',
      operation: 'sys.anomalies.suspensions',
      handler: async () => {
        const rows = await deps.store.listSuspensions();
        return {
          data: {
            suspensions: rows.map((r) => ({ subject: r.subject, role: r.role, kind: r.kind, alert_id: r.alertId, suspended_at: r.suspendedAt.toISOString() })),
          },
        };
      },
    },
  ];
}
