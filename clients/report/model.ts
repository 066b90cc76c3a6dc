/**
 * The compliance evidence report as data: sections assembled from the Keyward API, each saying
 * where its data came from (method, path, namespace) and when it was fetched, and whether the
 * data was available. Renderers (markdown, JSON, HTML) only present this; none fetches anything.
 * Invariant: nothing here holds a secret — key names, versions, times, roles, policies, counts.
 */
export type SectionStatus = 'ok' | 'not-available' | 'permission-denied' | 'error';

export interface Provenance {
  /** e.g. `GET /v1/sys/access-review?capability=update (namespace prod)`. */
  readonly sources: readonly string[];
  readonly fetchedAt: string;
  readonly status: SectionStatus;
  /** Why a section is empty or partial (never an error message from the server). */
  readonly note?: string;
}

export type RotationStatus = 'ok' | 'overdue';

export interface KeyInventoryRow {
  readonly env: string;
  readonly name: string;
  readonly versions: number;
  readonly latestVersion: number;
  readonly created: string | null;
  readonly lastRotated: string | null;
  readonly ageDays: number | null;
  readonly autoRotatePeriodSeconds: number;
  /** Days allowed by policy: the key's auto_rotate_period, else the default maximum. */
  readonly maxAgeDays: number;
  readonly policyBasis: 'auto_rotate_period' | 'default-max';
  readonly rotation: RotationStatus;
  readonly expiringVersions: readonly number[];
}

export interface DecryptGrant {
  readonly role: string;
  readonly kind: string;
  readonly paths: readonly string[];
  readonly grantingPolicies: readonly string[];
  readonly mfaMethods: readonly string[];
}

export interface MfaCoverage {
  readonly criticalGrants: number;
  readonly withMfa: number;
  readonly uncovered: readonly { readonly role: string; readonly path: string; readonly capability: string }[];
}

export interface RevocationEvent {
  readonly time: string;
  readonly operation: string;
  readonly subject: string;
  readonly env: string;
  readonly path: string;
}

export interface AnomalyEvent {
  readonly time: string;
  readonly kind: string;
  readonly subject: string;
  readonly env: string;
  readonly suspended: boolean;
}

export interface IncidentSummary {
  readonly id: string;
  readonly env: string;
  readonly kind: string;
  readonly status: string;
  readonly createdAt: string;
  readonly summary: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  readonly checkpoints: number;
  readonly lastCheckpointSeq: number | null;
  readonly unprotectedEntries: number;
  readonly problem?: string;
  readonly firstBadSeq?: number;
}

export interface Section<T> extends Provenance {
  readonly data: T;
}

export interface ComplianceReport {
  readonly title: string;
  readonly generatedAt: string;
  readonly address: string;
  readonly period: { readonly since: string; readonly until: string };
  readonly environments: readonly string[];
  readonly defaultMaxKeyAgeDays: number;
  readonly keyInventory: Section<KeyInventoryRow[]>;
  readonly prodDecrypt: Section<DecryptGrant[]>;
  readonly mfaCoverage: Section<MfaCoverage | null>;
  readonly revocations: Section<RevocationEvent[]>;
  readonly anomalies: Section<AnomalyEvent[]>;
  readonly incidents: Section<IncidentSummary[]>;
  readonly auditChain: Section<AuditVerification | null>;
}
