/**
 * Output formats of a scan: text for people, JSON for programs, SARIF 2.1.0 for code-scanning UIs.
 * All three are built from Findings only, which never hold a secret (types.ts), so none can leak one.
 */
import { ruleInfo } from './rules.js';
import type { Finding, ScanResult, Severity } from './types.js';

export type ScanFormat = 'text' | 'json' | 'sarif';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const TOOL_NAME = 'keyward-scan';

export function formatText(result: ScanResult): string {
  const lines: string[] = [];
  for (const f of result.findings) {
    const where = `${f.file}:${f.line}:${f.column}${f.commit ? ` (commit ${f.commit.slice(0, 12)})` : ''}`;
    const meta = f.meta ? ` ${Object.entries(f.meta).map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
    lines.push(`${f.severity.toUpperCase().padEnd(8)} ${f.rule}  ${where}  ${f.redacted}  sha256:${f.fingerprint.slice(0, 16)}${meta}`);
  }
  const skipped = result.skipped.binary + result.skipped.tooLarge;
  lines.push(
    result.findings.length === 0
      ? `No credentials found (${result.filesScanned} files scanned${skipped ? `, ${skipped} skipped` : ''}).`
      : `${result.findings.length} credential(s) found in ${new Set(result.findings.map((f) => f.file)).size} file(s) (${result.filesScanned} files scanned${skipped ? `, ${skipped} skipped` : ''}).`,
  );
  return `${lines.join('\n')}\n`;
}

export function formatJson(result: ScanResult): string {
  return `${JSON.stringify({ findings: result.findings, files_scanned: result.filesScanned, skipped: { binary: result.skipped.binary, too_large: result.skipped.tooLarge } }, null, 2)}\n`;
}

const sarifLevel = (s: Severity): 'error' | 'warning' | 'note' => (s === 'critical' || s === 'high' ? 'error' : s === 'medium' ? 'warning' : 'note');

function sarifResult(f: Finding, ruleIndex: number): Record<string, unknown> {
  return {
    ruleId: f.rule,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: `${ruleInfo(f.rule).name} (${f.redacted}) found${f.commit ? ` in commit ${f.commit}` : ''}.` },
    locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(f.file) }, region: { startLine: f.line, startColumn: f.column } } }],
    partialFingerprints: { 'secretSha256/v1': f.fingerprint },
    properties: { severity: f.severity, source: f.source, redacted: f.redacted, ...(f.commit ? { commit: f.commit } : {}), ...(f.meta ? { meta: f.meta } : {}) },
  };
}

export function toSarif(result: ScanResult, version = '0.1.0'): Record<string, unknown> {
  const ids = [...new Set(result.findings.map((f) => f.rule))].sort();
  const rules = ids.map((id) => {
    const r = ruleInfo(id);
    return {
      id: r.id,
      name: r.name,
      shortDescription: { text: r.name },
      fullDescription: { text: r.description },
      defaultConfiguration: { level: sarifLevel(r.severity) },
      ...(r.helpUri ? { helpUri: r.helpUri } : {}),
      properties: { tags: ['security', 'secret'], severity: r.severity },
    };
  });
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: TOOL_NAME, version, rules } },
        results: result.findings.map((f) => sarifResult(f, ids.indexOf(f.rule))),
      },
    ],
  };
}

export function formatScan(result: ScanResult, format: ScanFormat): string {
  if (format === 'json') return formatJson(result);
  if (format === 'sarif') return `${JSON.stringify(toSarif(result), null, 2)}\n`;
  return formatText(result);
}
