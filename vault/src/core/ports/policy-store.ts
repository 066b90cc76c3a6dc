/**
 * PolicyStore port: ACL policy documents per environment, with every version kept.
 *
 * Invariants every adapter keeps:
 * - versions of one (env, name) are 1, 2, 3 … with no gap and no duplicate, whatever the interleaving
 *   of writers (processes included); `append` assigns the next number atomically;
 * - a version is never changed once written; deleting appends a version with `deleted: true` and no
 *   document, and a later write continues the numbering;
 * - the store does not parse documents: `normalized` is opaque JSON text written by the caller.
 * Nothing here assumes one process owns the store: callers that cache must revalidate by version.
 */
import type { Environment } from '../types.js';

export interface PolicyVersionRecord {
  readonly env: Environment;
  readonly name: string;
  readonly version: number;
  /** The document as submitted (HCL or JSON); '' on a deleted version. */
  readonly text: string;
  /** Canonical JSON of the parsed policy; null on a deleted version. */
  readonly normalized: string | null;
  readonly createdAt: Date;
  /** Subject of the token that made the change. */
  readonly author: string;
  readonly deleted: boolean;
}

export interface AppendPolicyVersion {
  readonly env: Environment;
  readonly name: string;
  readonly text: string;
  readonly normalized: string | null;
  readonly author: string;
  readonly at: Date;
  readonly deleted: boolean;
}

export interface PolicyStore {
  /** Appends the next version (a write, or a delete when `deleted`) and makes it current; returns it. */
  append(input: AppendPolicyVersion): Promise<PolicyVersionRecord>;
  /** The current version of each named policy that was ever written (deleted ones included). */
  getCurrent(env: Environment, names: readonly string[]): Promise<PolicyVersionRecord[]>;
  /** Current version numbers only (cheap revalidation for caches); unknown names are absent. */
  currentVersions(env: Environment, names: readonly string[]): Promise<Map<string, number>>;
  /** Current, non-deleted policies of the environment, by name. */
  listCurrent(env: Environment): Promise<PolicyVersionRecord[]>;
  /** One version, or null. */
  getVersion(env: Environment, name: string, version: number): Promise<PolicyVersionRecord | null>;
  /** Every version, oldest first. */
  history(env: Environment, name: string): Promise<PolicyVersionRecord[]>;
}
