/**
 * HTML rendering: one self-contained page (inline CSS, no scripts, no external resources) that can
 * be attached to an audit. Every value from the API goes through `htmlEscape`; the page also sets
 * a CSP that forbids scripts, so even a rendering bug could not run code from a hostile key name.
 */
import type { ComplianceReport } from './model.js';
import { MFA_UNCOVERED_HEAD, SECTION_ORDER, SECTION_TITLES, keyInventoryTable, listSectionTable, overdueKeys, provenanceLine, type SectionKey, type SectionTable } from './render-shared.js';

export function htmlEscape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.prov{color:#57606a;font-size:.85rem}.bad{color:#cf222e;font-weight:600}.good{color:#1a7f37;font-weight:600}
.na{color:#9a6700}`;

function table(head: readonly string[], rows: readonly (readonly unknown[])[], badCol?: (row: readonly unknown[]) => boolean): string {
  if (rows.length === 0) return '<p><em>None.</em></p>';
  const th = head.map((h) => `<th>${htmlEscape(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr${badCol?.(r) ? ' class="bad"' : ''}>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

const tableOf = (t: SectionTable, badCol?: (row: readonly unknown[]) => boolean): string => table(t.head, t.rows, badCol);

function body(r: ComplianceReport, key: SectionKey): string {
  switch (key) {
    case 'keyInventory': {
      const overdue = overdueKeys(r);
      return (
        `<p>${r.keyInventory.data.length} key(s); <span class="${overdue > 0 ? 'bad' : 'good'}">${overdue} overdue</span> for rotation (limit: auto_rotate_period, else ${r.defaultMaxKeyAgeDays} days).</p>` +
        tableOf(keyInventoryTable(r), (row) => row[8] === 'OVERDUE')
      );
    }
    case 'prodDecrypt':
      return tableOf(listSectionTable('prodDecrypt', r));
    case 'mfaCoverage': {
      const c = r.mfaCoverage.data;
      if (!c) return '<p class="na">Not available.</p>';
      return `<p><span class="${c.withMfa === c.criticalGrants ? 'good' : 'bad'}">${c.withMfa} of ${c.criticalGrants}</span> critical grant(s) require MFA.</p>` + table(MFA_UNCOVERED_HEAD, c.uncovered.map((u) => [u.role, u.path, u.capability]));
    }
    case 'revocations':
      return tableOf(listSectionTable('revocations', r));
    case 'anomalies':
      return tableOf(listSectionTable('anomalies', r));
    case 'incidents':
      return tableOf(listSectionTable('incidents', r));
    case 'auditChain': {
      const a = r.auditChain.data;
      if (!a) return '<p class="na">Not available.</p>';
      return a.ok
        ? `<p class="good">VERIFIED: ${a.entries} entries, ${a.checkpoints} signed checkpoint(s), last at seq ${htmlEscape(a.lastCheckpointSeq ?? 'none')}; ${a.unprotectedEntries} entries not yet under a checkpoint.</p>`
        : `<p class="bad">FAILED: ${htmlEscape(a.problem ?? 'unknown problem')} at seq ${htmlEscape(a.firstBadSeq ?? '?')} (${a.entries} entries checked).</p>`;
    }
  }
}

export function renderHtml(r: ComplianceReport): string {
  const sections = SECTION_ORDER.map(
    (key) => `<section id="${key}"><h2>${htmlEscape(SECTION_TITLES[key])}</h2>\n<p class="prov">${htmlEscape(provenanceLine(r[key]))}</p>\n${body(r, key)}</section>`,
  ).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${htmlEscape(r.title)}</title><style>${CSS}</style></head>
<body><h1>${htmlEscape(r.title)}</h1>
<ul><li>Keyward: ${htmlEscape(r.address)}</li><li>Generated: ${htmlEscape(r.generatedAt)}</li><li>Period: ${htmlEscape(r.period.since)} to ${htmlEscape(r.period.until)}</li><li>Environments: ${htmlEscape(r.environments.join(', '))}</li></ul>
${sections}
</body></html>
`;
}
