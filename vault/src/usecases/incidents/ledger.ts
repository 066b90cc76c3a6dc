/**
 * The incident a playbook works in: found by its playbook key (kind + env + target) while open, or
 * opened; each step is a timeline event, and a step already on the timeline is not done again. That
 * is what makes a playbook idempotent: a re-run with the same parameters continues the same incident
 * and skips what it already did (e.g. it never rotates a key twice).
 *
 * Invariant: within one process, runs with the same playbook key are serialised (a promise chain per
 * key), so two concurrent calls cannot both open an incident or both rotate. Across processes, the
 * store's open-incident lookup is the guard (a tiny window remains; see the report).
 */
import type { IncidentDetails, IncidentRecord, IncidentStore } from '../../core/ports/incident-store.js';
import type { Environment } from '../../core/types.js';
import type { PlaybookActor } from './ports.js';

export const PLAYBOOK_KEY = 'playbook_key';

export interface Ledger {
  readonly incident: () => IncidentRecord;
  readonly created: boolean;
  has(event: string): boolean;
  detailsOf(event: string): IncidentDetails | undefined;
  record(event: string, details: IncidentDetails): Promise<void>;
  setReport(markdown: string, summary?: string): Promise<void>;
}

export async function openLedger(
  store: IncidentStore,
  input: { env: Environment; kind: string; playbookKey: string; summary: string; actor: PlaybookActor; details: IncidentDetails; now: Date; newId: () => string },
): Promise<Ledger> {
  const open = await store.listIncidents({ env: input.env, kind: input.kind, status: 'open', limit: 1000 });
  let incident = open.find((i) => i.timeline[0]?.details[PLAYBOOK_KEY] === input.playbookKey) ?? null;
  const created = incident === null;
  incident ??= await store.createIncident({
    id: input.newId(),
    env: input.env,
    kind: input.kind,
    actor: input.actor.subject,
    summary: input.summary,
    now: input.now,
    opened: { event: 'opened', details: { ...input.details, [PLAYBOOK_KEY]: input.playbookKey } },
  });
  let current = incident;
  return {
    incident: () => current,
    created,
    has: (event) => current.timeline.some((e) => e.event === event),
    detailsOf: (event) => [...current.timeline].reverse().find((e) => e.event === event)?.details,
    async record(event, details) {
      const r = await store.updateIncident(input.env, current.id, { events: [{ event, details }] }, new Date());
      if (r) current = r;
    },
    async setReport(markdown, summary) {
      const r = await store.updateIncident(input.env, current.id, { report: markdown, ...(summary !== undefined ? { summary } : {}) }, new Date());
      if (r) current = r;
    },
  };
}

/** Serialise async runs per key within this process. */
export function makeKeyedMutex(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async (key, fn) => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    tails.set(key, run);
    try {
      return await run;
    } finally {
      if (tails.get(key) === run) tails.delete(key);
    }
  };
}
