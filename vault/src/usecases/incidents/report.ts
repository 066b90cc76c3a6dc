/**
 * The playbook report, in two forms from one model: JSON (for programs) and Markdown (for people),
 * with the incident's own timeline, what was done, what remains (with the commands to run), and the
 * audit timeline of the relevant entries. Holds no secrets: key names, versions, accessors (not
 * secrets), subjects and audit rows only.
 */
import type { IncidentRecord } from '../../core/ports/incident-store.js';
import type { TimelineRow } from './audit-scan.js';

export interface PlaybookReport {
  readonly incident_id: string;
  readonly kind: string;
  readonly env: string;
  readonly status: string;
  readonly summary: string;
  readonly opened_at: string;
  readonly actor: string;
  readonly target: Record<string, unknown>;
  readonly actions: ReadonlyArray<{ readonly step: string; readonly at: string; readonly details: Record<string, unknown> }>;
  readonly findings: Record<string, unknown>;
  readonly next_steps: readonly string[];
  readonly audit_timeline: readonly TimelineRow[];
  readonly audit_timeline_truncated: boolean;
}

export function buildReport(
  incident: IncidentRecord,
  parts: { target: Record<string, unknown>; findings: Record<string, unknown>; nextSteps: readonly string[]; auditTimeline: readonly TimelineRow[]; truncated: boolean },
): PlaybookReport {
  return {
    incident_id: incident.id,
    kind: incident.kind,
    env: incident.env,
    status: incident.status,
    summary: incident.summary,
    opened_at: incident.createdAt.toISOString(),
    actor: incident.actor,
    target: parts.target,
    actions: incident.timeline.map((e) => ({ step: e.event, at: e.time.toISOString(), details: { ...e.details } })),
    findings: parts.findings,
    next_steps: parts.nextSteps,
    audit_timeline: parts.auditTimeline,
    audit_timeline_truncated: parts.truncated,
  };
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : String(typeof v === 'object' ? JSON.stringify(v) : v).replace(/\|/g, '\\|').replace(/\n/g, ' '));

export function renderMarkdown(r: PlaybookReport): string {
  const lines: string[] = [];
  lines.push(`# Incident ${r.incident_id}: ${r.kind}`, '');
  lines.push(`- Environment: \`${r.env}\``, `- Status: ${r.status}`, `- Opened: ${r.opened_at} by \`${r.actor}\``, `- Summary: ${r.summary}`, '');
  lines.push('## Target', '');
  for (const [k, v] of Object.entries(r.target)) lines.push(`- ${k}: ${cell(v)}`);
  lines.push('', '## Actions', '', '| time | step | details |', '|---|---|---|');
  for (const a of r.actions) lines.push(`| ${a.at} | ${cell(a.step)} | ${cell(a.details)} |`);
  lines.push('', '## Findings', '');
  for (const [k, v] of Object.entries(r.findings)) lines.push(`- ${k}: ${cell(v)}`);
  lines.push('', '## Next steps', '');
  if (r.next_steps.length === 0) lines.push('- none');
  for (const s of r.next_steps) lines.push(`- ${s}`);
  lines.push('', `## Audit timeline (${r.audit_timeline.length} entries${r.audit_timeline_truncated ? ', truncated' : ''})`, '');
  lines.push('| seq | time | operation | path | subject | key | version | outcome |', '|---|---|---|---|---|---|---|---|');
  for (const t of r.audit_timeline) {
    lines.push(`| ${t.seq} | ${t.time} | ${cell(t.operation)} | ${cell(t.path)} | ${cell(t.subject)} | ${cell(t.key_name)} | ${cell(t.key_version)} | ${cell(t.outcome)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
