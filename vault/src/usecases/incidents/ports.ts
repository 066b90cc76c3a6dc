/**
 * What the incident playbooks need from the rest of Keyward, each as the narrowest shape (Infisical's
 * `Pick<…>` habit), so the playbooks are testable with fakes and know nothing of HTTP or SQL.
 */
import type { AuditQuery } from '../../audit/audit-store.js';
import type { StoredAuditEntry } from '../../audit/types.js';
import type { Clock } from '../../core/ports/clock.js';
import type { IncidentStore } from '../../core/ports/incident-store.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { TokenRecord } from '../../core/ports/token-store.js';
import type { Environment, KeyName, KeyVersion } from '../../core/types.js';
import type { ConfigPatch } from '../../core/keyring.js';
import type { RewrapJob } from '../rewrap/rewrap-job.js';
import type { UsedVersions } from '../rewrap/used-versions.js';

export interface AuditSearch {
  query(q: Omit<AuditQuery, 'limit'> & { limit?: number }): Promise<StoredAuditEntry[]>;
}

export interface PlaybookTokens {
  /** Tokens issued to `subject`, newest first, revoked ones included. */
  listBySubject(subject: string): Promise<TokenRecord[]>;
  lookupAccessor(accessor: string): Promise<TokenRecord | null>;
  /** The token behind the accessor and its descendants; returns how many were newly revoked. */
  revokeAccessor(accessor: string, reason: string): Promise<number>;
  revokeSubject(subject: string, reason: string): Promise<number>;
}

export interface PlaybookAppRole {
  listSecretIdAccessors(env: Environment, role: string): Promise<string[]>;
  destroyAccessor(env: Environment, role: string, accessor: string): Promise<boolean>;
}

export interface PlaybookKeys {
  readonly keys: Pick<KeyStore, 'getKey'>;
  compromiseVersion(env: Environment, name: KeyName, version: KeyVersion): Promise<void>;
  rotateKey(input: { env: Environment; name: KeyName }): Promise<TransitKeyRecord>;
  updateKeyConfig(input: { env: Environment; name: KeyName; patch: ConfigPatch }): Promise<TransitKeyRecord>;
}

export interface PlaybookRewrap {
  readonly job: Pick<RewrapJob, 'start' | 'status'>;
  runInBackground(env: Environment): void;
  readonly usedVersions: UsedVersions;
}

export interface PlaybookDeps {
  readonly incidents: IncidentStore;
  readonly audit: AuditSearch;
  /** HMAC of a token accessor exactly as the audit trail stores it (`hmac-sha256:<hex>`). */
  readonly hashAccessor: (accessor: string) => Promise<string>;
  readonly tokens: PlaybookTokens;
  readonly clock: Clock;
  readonly newId: () => string;
}

/** Who runs the playbook: recorded as the incident's actor; its own token is never revoked by it. */
export interface PlaybookActor {
  readonly subject: string;
  readonly accessor: string | null;
}
