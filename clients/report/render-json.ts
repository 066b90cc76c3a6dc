/** JSON rendering: the report model as is (it holds no secrets), with a format version for consumers. */
import type { ComplianceReport } from './model.js';

export const REPORT_FORMAT_VERSION = 1;

export function renderJson(r: ComplianceReport): string {
  return `${JSON.stringify({ format_version: REPORT_FORMAT_VERSION, ...r }, null, 2)}\n`;
}
