/**
 * Keyward's incident API (no Vault counterpart), per environment (X-Vault-Namespace):
 *   POST /v1/sys/incidents       { kind, summary?, findings?, details?, report? } → the new incident
 *   GET  /v1/sys/incidents       ?since=&kind=&status=&limit= (also LIST) → { incidents }, newest first
 *   GET  /v1/sys/incidents/:id   → the incident with its timeline
 *   POST /v1/sys/incidents/:id   { status?, summary?, report?, event?: { event, details? } } → updated
 * The opening timeline event is `opened` with `details` plus `findings`. Callers send fingerprints,
 * rules and files, never secrets; the actor is the caller's token subject. Authorisation is the
 * pipeline's (update on POST, read/list on GET of these ACL paths).
 */
import crypto from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { invalidInput, notFound } from '../../../core/errors.js';
import type { Clock } from '../../../core/ports/clock.js';
import { INCIDENT_STATUSES, type IncidentRecord, type IncidentStatus, type IncidentStore } from '../../../core/ports/incident-store.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vInt } from '../../schema.js';

export interface IncidentRouteDeps {
  readonly store: IncidentStore;
  readonly clock: Clock;
  /** Default crypto.randomUUID (ids are identifiers, not secrets). */
  readonly newId?: () => string;
}

const KIND = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a lowercase identifier');
const STATUS = z.enum(INCIDENT_STATUSES as [IncidentStatus, ...IncidentStatus[]]);
const details = z.record(z.string(), z.unknown());
const EVENT = z.object({ event: z.string().min(1).max(128), details: details.optional() });

const createBody = z.object({
  kind: KIND,
  summary: z.string().max(4000).optional(),
  findings: z.array(z.record(z.string(), z.unknown())).max(10_000).optional(),
  details: details.optional(),
  report: z.string().max(1_000_000).optional(),
});

const updateBody = z.object({
  status: STATUS.optional(),
  summary: z.string().max(4000).optional(),
  report: z.string().max(1_000_000).optional(),
  event: EVENT.optional(),
});

const listQuery = z.object({ since: z.string().max(64).optional(), kind: KIND.optional(), status: STATUS.optional(), limit: vInt.optional() });
const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function parseSince(raw: string | undefined): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const d = /^\d{1,12}$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
  if (Number.isNaN(d.getTime())) throw invalidInput('since must be RFC 3339 or unix seconds');
  return d;
}

export function incidentView(r: IncidentRecord, withTimeline = true): Record<string, unknown> {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    env: r.env,
    actor: r.actor,
    summary: r.summary,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    ...(withTimeline ? { timeline: r.timeline.map((e) => ({ time: e.time.toISOString(), event: e.event, details: e.details })), report: r.report } : { events: r.timeline.length }),
  };
}

const idOf = (req: Request): string => {
  const id = String(req.params['id'] ?? '');
  if (!ID_RE.test(id)) throw notFound('');
  return id;
};

export function incidentRoutes(deps: IncidentRouteDeps): RouteSpec[] {
  const newId = deps.newId ?? (() => crypto.randomUUID());
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/incidents',
      operation: 'sys.incidents.create',
      handler: async (req, ctx) => {
        const b = parseInput(createBody, req.body);
        const record = await deps.store.createIncident({
          id: newId(),
          env: ctx.env,
          kind: b.kind,
          actor: ctx.principal?.subject ?? 'unknown',
          summary: b.summary ?? '',
          ...(b.report !== undefined ? { report: b.report } : {}),
          now: deps.clock.now(),
          opened: { event: 'opened', details: { ...(b.details ?? {}), ...(b.findings ? { findings: b.findings } : {}) } },
        });
        ctx.audit.details['incident_id'] = record.id;
        ctx.audit.details['incident_kind'] = record.kind;
        return { data: incidentView(record) };
      },
    },
    {
      method: ['GET', 'LIST'],
      path: '/sys/incidents',
      operation: 'sys.incidents.list',
      handler: async (req, ctx) => {
        const q = parseInput(listQuery, req.query);
        const limit = q.limit ?? 100;
        if (limit < 1 || limit > 1000) throw invalidInput('limit must be 1..1000');
        const since = parseSince(q.since);
        const rows = await deps.store.listIncidents({ env: ctx.env, limit, ...(since ? { since } : {}), ...(q.kind ? { kind: q.kind } : {}), ...(q.status ? { status: q.status } : {}) });
        return { data: { incidents: rows.map((r) => incidentView(r, false)), keys: rows.map((r) => r.id) } };
      },
    },
    {
      method: 'GET',
      path: '/sys/incidents/:id',
      operation: 'sys.incidents.read',
      handler: async (req, ctx) => {
        const r = await deps.store.getIncident(ctx.env, idOf(req));
        if (!r) throw notFound('');
        return { data: incidentView(r) };
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/incidents/:id',
      operation: 'sys.incidents.update',
      handler: async (req, ctx) => {
        const id = idOf(req);
        const b = parseInput(updateBody, req.body);
        const events: { event: string; details: Record<string, unknown> }[] = [];
        if (b.status) events.push({ event: `status:${b.status}`, details: { by: ctx.principal?.subject ?? 'unknown' } });
        if (b.event) events.push({ event: b.event.event, details: b.event.details ?? {} });
        const r = await deps.store.updateIncident(
          ctx.env,
          id,
          { ...(b.status ? { status: b.status } : {}), ...(b.summary !== undefined ? { summary: b.summary } : {}), ...(b.report !== undefined ? { report: b.report } : {}), events },
          deps.clock.now(),
        );
        if (!r) throw notFound('');
        ctx.audit.details['incident_id'] = id;
        return { data: incidentView(r) };
      },
    },
  ];
}
