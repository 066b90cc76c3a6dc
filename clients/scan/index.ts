/** Keyward's leaked-credential scanner: a library (no HTTP); `keyward scan` is its CLI. */
export * from './types.js';
export { scanText, detectAll, DEFAULT_ISSUERS } from './scan-content.js';
export { scanWorktree, scanGitHistory, scanStaged, type ScanRunOptions } from './scanner.js';
export { formatScan, formatText, formatJson, toSarif, SARIF_SCHEMA, type ScanFormat } from './format.js';
export { installPreCommitHook, hookScript, HOOK_MARKER, CHAINED_NAME } from './pre-commit.js';
export { BUILTIN_RULES, ruleInfo } from './rules.js';
export { fingerprintOf, redact } from './fingerprint.js';
