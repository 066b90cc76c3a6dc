/**
 * IncidentStore: security incidents per environment — what happened (kind, summary), who opened it,
 * its status (open/resolved), a timeline of events and a markdown report. Generic on purpose: the
 * leak scanner opens `credential-leak` incidents; playbooks append events and resolve them.
 *
 * Invariants every adapter keeps:
 * - Timeline events are append-only and ordered; concurrent appends (any number of processes) all
 *   land, each with the next sequence number.
 * - Every incident belongs to one environment; reads and updates name it, so one environment never
 *   sees another's incidents.
 * - Nothing here holds a secret: callers store fingerprints, rules and file names only.
 */
export type IncidentStatus = 'open' | 'resolved';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'resolved'];

export type IncidentDetails = Readonly<Record<string, unknown>>;

export interface IncidentEvent {
  readonly time: Date;
  readonly event: string;
  readonly details: IncidentDetails;
}

export interface IncidentRecord {
  readonly id: string;
  readonly env: string;
  readonly kind: string;
  readonly status: IncidentStatus;
  /** Subject of the token that opened it. */
  readonly actor: string;
  readonly summary: string;
  /** Markdown; '' until someone writes one. */
  readonly report: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly timeline: readonly IncidentEvent[];
}

export interface NewIncident {
  readonly id: string;
  readonly env: string;
  readonly kind: string;
  readonly actor: string;
  readonly summary: string;
  readonly report?: string;
  readonly now: Date;
  /** The first timeline entry ('opened', with the initial details). */
  readonly opened: { readonly event: string; readonly details: IncidentDetails };
}

export interface IncidentFilter {
  readonly env: string;
  readonly since?: Date;
  readonly kind?: string;
  readonly status?: IncidentStatus;
  readonly limit: number;
}

export interface IncidentUpdate {
  readonly status?: IncidentStatus;
  readonly summary?: string;
  readonly report?: string;
  /** Appended to the timeline in order, in the same transaction as the field updates. */
  readonly events?: readonly { readonly event: string; readonly details: IncidentDetails }[];
}

export interface IncidentStore {
  createIncident(input: NewIncident): Promise<IncidentRecord>;
  getIncident(env: string, id: string): Promise<IncidentRecord | null>;
  /** Newest first; records come with their timelines. */
  listIncidents(filter: IncidentFilter): Promise<IncidentRecord[]>;
  /** False if there is no such incident in `env`. */
  updateIncident(env: string, id: string, update: IncidentUpdate, now: Date): Promise<IncidentRecord | null>;
}
