/**
 * SqliteIncidentStore: the embedded IncidentStore adapter (schema in migrations/009-incidents.ts).
 *
 * Invariants kept here:
 * - Every write is one IMMEDIATE transaction: the next timeline seq is read and used under the
 *   write lock, so appends from several processes never collide or get lost.
 * - Reads and updates are keyed by (env, id); another environment's incident is "not found".
 * - JSON details are parsed defensively (a bad row reads as {}), errors are translated by code.
 * The connection is shared with the other Sqlite* adapters: nothing here closes it.
 */
import type { Statement } from 'better-sqlite3';
import type { IncidentEvent, IncidentFilter, IncidentRecord, IncidentStatus, IncidentStore, IncidentUpdate, NewIncident } from '../../core/ports/incident-store.js';
import type { SqliteConnection } from './database.js';
import { withSqliteErrors } from './sqlite-errors.js';

interface IncidentRow {
  id: string;
  env: string;
  kind: string;
  status: string;
  actor: string;
  summary: string;
  report: string;
  created_at: number;
  updated_at: number;
}

interface EventRow {
  seq: number;
  at: number;
  event: string;
  details: string;
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class SqliteIncidentStore implements IncidentStore {
  private readonly s: Record<'insert' | 'get' | 'list' | 'events' | 'nextSeq' | 'addEvent' | 'update', Statement>;

  constructor(private readonly db: SqliteConnection) {
    this.s = withSqliteErrors('prepareIncidentStore', () => ({
      insert: db.prepare(`INSERT INTO incidents (id, env, kind, status, actor, summary, report, created_at, updated_at)
        VALUES (@id, @env, @kind, 'open', @actor, @summary, @report, @now, @now)`),
      get: db.prepare('SELECT * FROM incidents WHERE env = ? AND id = ?'),
      list: db.prepare(`SELECT * FROM incidents WHERE env = @env AND created_at >= @since
        AND (@kind IS NULL OR kind = @kind) AND (@status IS NULL OR status = @status)
        ORDER BY created_at DESC, id DESC LIMIT @limit`),
      events: db.prepare('SELECT seq, at, event, details FROM incident_events WHERE incident_id = ? ORDER BY seq'),
      nextSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM incident_events WHERE incident_id = ?'),
      addEvent: db.prepare('INSERT INTO incident_events (incident_id, seq, at, event, details) VALUES (?, ?, ?, ?, ?)'),
      update: db.prepare(`UPDATE incidents SET status = COALESCE(@status, status), summary = COALESCE(@summary, summary),
        report = COALESCE(@report, report), updated_at = @now WHERE env = @env AND id = @id`),
    }));
  }

  private toRecord(r: IncidentRow): IncidentRecord {
    const timeline: IncidentEvent[] = (this.s.events.all(r.id) as EventRow[]).map((e) => ({ time: new Date(e.at), event: e.event, details: parseDetails(e.details) }));
    return {
      id: r.id,
      env: r.env,
      kind: r.kind,
      status: r.status === 'resolved' ? 'resolved' : 'open',
      actor: r.actor,
      summary: r.summary,
      report: r.report,
      createdAt: new Date(r.created_at),
      updatedAt: new Date(r.updated_at),
      timeline,
    };
  }

  private append(id: string, at: Date, event: string, details: unknown): void {
    const { next } = this.s.nextSeq.get(id) as { next: number };
    this.s.addEvent.run(id, next, at.getTime(), event, JSON.stringify(details ?? {}));
  }

  async createIncident(input: NewIncident): Promise<IncidentRecord> {
    return withSqliteErrors('createIncident', () => {
      const tx = this.db.transaction(() => {
        this.s.insert.run({ id: input.id, env: input.env, kind: input.kind, actor: input.actor, summary: input.summary, report: input.report ?? '', now: input.now.getTime() });
        this.append(input.id, input.now, input.opened.event, input.opened.details);
      });
      tx.immediate();
      return this.toRecord(this.s.get.get(input.env, input.id) as IncidentRow);
    });
  }

  async getIncident(env: string, id: string): Promise<IncidentRecord | null> {
    return withSqliteErrors('getIncident', () => {
      const r = this.s.get.get(env, id) as IncidentRow | undefined;
      return r ? this.toRecord(r) : null;
    });
  }

  async listIncidents(f: IncidentFilter): Promise<IncidentRecord[]> {
    return withSqliteErrors('listIncidents', () =>
      (this.s.list.all({ env: f.env, since: f.since?.getTime() ?? 0, kind: f.kind ?? null, status: f.status ?? null, limit: f.limit }) as IncidentRow[]).map((r) => this.toRecord(r)),
    );
  }

  async updateIncident(env: string, id: string, u: IncidentUpdate, now: Date): Promise<IncidentRecord | null> {
    return withSqliteErrors('updateIncident', () => {
      const tx = this.db.transaction((): boolean => {
        const status: IncidentStatus | null = u.status ?? null;
        const changed = this.s.update.run({ env, id, status, summary: u.summary ?? null, report: u.report ?? null, now: now.getTime() }).changes;
        if (changed === 0) return false;
        for (const e of u.events ?? []) this.append(id, now, e.event, e.details);
        return true;
      });
      if (!tx.immediate()) return null;
      return this.toRecord(this.s.get.get(env, id) as IncidentRow);
    });
  }
}
