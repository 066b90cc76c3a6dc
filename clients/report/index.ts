/** Compliance evidence report: collection from the API (transport passed in) and renderers. */
export * from './model.js';
export { collectReport, parseSince, REVOKE_OPERATIONS, type ApiGet, type CollectOptions } from './collect.js';
export { renderMarkdown, mdEscape } from './render-markdown.js';
export { renderHtml, htmlEscape } from './render-html.js';
export { renderJson } from './render-json.js';

import type { ComplianceReport } from './model.js';
import { renderHtml } from './render-html.js';
import { renderJson } from './render-json.js';
import { renderMarkdown } from './render-markdown.js';

export type ReportFormat = 'md' | 'json' | 'html';

export function renderReport(r: ComplianceReport, format: ReportFormat): string {
  return format === 'json' ? renderJson(r) : format === 'html' ? renderHtml(r) : renderMarkdown(r);
}
