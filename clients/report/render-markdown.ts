/**
 * Markdown rendering of the compliance report. Every value from the API is escaped for a table
 * cell (pipes, backslashes, markdown punctuation, and `<>&` as entities, since markdown viewers
 * render raw HTML), so a hostile key or role name cannot break the table or inject markup.
 */
import type { ComplianceReport } from './model.js';
import { MFA_UNCOVERED_HEAD, SECTION_ORDER, SECTION_TITLES, keyInventoryTable, listSectionTable, overdueKeys, provenanceLine, type SectionKey, type SectionTable } from './render-shared.js';

export function mdEscape(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]{}()#+!|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return '_None._\n';
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`)].join('\n') + '\n';
}

const tableOf = (t: SectionTable): string => table(t.head, t.rows);

function body(r: ComplianceReport, key: SectionKey): string {
  switch (key) {
    case 'keyInventory': {
      const overdue = overdueKeys(r);
      return (
        `${r.keyInventory.data.length} key(s); ${overdue} overdue for rotation (limit: auto_rotate_period, else ${r.defaultMaxKeyAgeDays} days).\n\n` +
        tableOf(keyInventoryTable(r))
      );
    }
    case 'prodDecrypt':
      return tableOf(listSectionTable('prodDecrypt', r));
    case 'mfaCoverage': {
      const c = r.mfaCoverage.data;
      if (!c) return '_Not available._\n';
      return `${c.withMfa} of ${c.criticalGrants} critical grant(s) require MFA.\n\n` + table(MFA_UNCOVERED_HEAD, c.uncovered.map((u) => [u.role, u.path, u.capability]));
    }
    case 'revocations':
      return tableOf(listSectionTable('revocations', r));
    case 'anomalies':
      return tableOf(listSectionTable('anomalies', r));
    case 'incidents':
      return tableOf(listSectionTable('incidents', r));
    case 'auditChain': {
      const a = r.auditChain.data;
      if (!a) return '_Not available._\n';
      return a.ok
        ? `**VERIFIED**: ${a.entries} entries, ${a.checkpoints} signed checkpoint(s), last at seq ${a.lastCheckpointSeq ?? 'none'}; ${a.unprotectedEntries} entries not yet under a checkpoint.\n`
        : `**FAILED**: ${mdEscape(a.problem ?? 'unknown problem')} at seq ${a.firstBadSeq ?? '?'} (${a.entries} entries checked).\n`;
    }
  }
}

export function renderMarkdown(r: ComplianceReport): string {
  const out = [
    `# ${mdEscape(r.title)}`,
    '',
    `- Keyward: ${mdEscape(r.address)}`,
    `- Generated: ${r.generatedAt}`,
    `- Period: ${r.period.since} to ${r.period.until}`,
    `- Environments: ${r.environments.map(mdEscape).join(', ')}`,
    '',
  ];
  for (const key of SECTION_ORDER) {
    out.push(`## ${SECTION_TITLES[key]}`, '', `_${mdEscape(provenanceLine(r[key]))}_`, '', body(r, key));
  }
  return `${out.join('\n').trimEnd()}\n`;
}
