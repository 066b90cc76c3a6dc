/** Text pieces the renderers share: section titles, provenance lines and status words. */
import type { ComplianceReport, Provenance } from './model.js';

export const SECTION_TITLES = {
  keyInventory: 'Key inventory and rotation',
  prodDecrypt: 'Roles that can decrypt in production',
  mfaCoverage: 'MFA coverage of critical paths',
  revocations: 'Credentials revoked in the period',
  anomalies: 'Anomalies in the period',
  incidents: 'Incidents in the period',
  auditChain: 'Audit chain verification',
} as const satisfies Record<keyof Omit<ComplianceReport, 'title' | 'generatedAt' | 'address' | 'period' | 'environments' | 'defaultMaxKeyAgeDays'>, string>;

export type SectionKey = keyof typeof SECTION_TITLES;
export const SECTION_ORDER: readonly SectionKey[] = ['keyInventory', 'prodDecrypt', 'mfaCoverage', 'revocations', 'anomalies', 'incidents', 'auditChain'];

export function provenanceLine(p: Provenance): string {
  return `Source: ${p.sources.join('; ')}. Fetched ${p.fetchedAt}.${p.status === 'ok' ? '' : ` Status: ${p.status}.`}${p.note ? ` ${p.note}.` : ''}`;
}

export function days(n: number): string {
  return Number.isInteger(n) ? `${n}` : n.toFixed(1);
}
