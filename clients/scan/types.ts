/**
 * Shapes shared by the leak scanner: a detector's raw match (held in memory only) and the Finding
 * that leaves the scanner. Invariant: a Finding never carries the secret — only its SHA-256
 * fingerprint and a 6-character redacted prefix — so every output format is safe to store and share.
 */
export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type FindingSource = 'worktree' | 'git-history' | 'staged';

/** Which Keyward credential a finding is, for `--revoke`; absent for third-party credentials. */
export type KeywardKind = 'secret-id' | 'wrapping-token' | 'token';

export interface RuleInfo {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly severity: Severity;
  readonly helpUri?: string;
}

/** What a detector returns: offsets into the scanned text. `secret` never leaves the process. */
export interface RawMatch {
  readonly rule: string;
  readonly severity: Severity;
  readonly start: number;
  readonly end: number;
  readonly secret: string;
  readonly keyward?: KeywardKind;
  /** Non-secret facts worth showing (a token's exp/sub); never the credential itself. */
  readonly meta?: Readonly<Record<string, string | number>>;
}

export interface Finding {
  readonly rule: string;
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units as editors and SARIF count by default. */
  readonly column: number;
  /** Hex SHA-256 of the matched secret: lets investigators correlate without holding it. */
  readonly fingerprint: string;
  /** First 6 characters + '…'. */
  readonly redacted: string;
  readonly severity: Severity;
  readonly source: FindingSource;
  readonly commit?: string;
  readonly keyward?: KeywardKind;
  readonly meta?: Readonly<Record<string, string | number>>;
}

export interface ScanOptions {
  /** Accepted `iss` values for Keyward tokens; default ['keyward']. */
  readonly issuers?: readonly string[];
}

/** Keyward credentials found, by fingerprint, kept only in memory for `--revoke`. */
export type RevocableSecrets = Map<string, { readonly kind: KeywardKind; readonly secret: string }>;

export interface ScanResult {
  readonly findings: Finding[];
  readonly filesScanned: number;
  readonly skipped: { readonly binary: number; readonly tooLarge: number };
  /** Only filled when asked for (`retainKeywardSecrets`); never serialised. */
  readonly revocable: RevocableSecrets;
}

export const MAX_FILE_BYTES = 5 * 1024 * 1024;
