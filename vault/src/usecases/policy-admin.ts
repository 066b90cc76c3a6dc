/**
 * Policy administration: read, write, delete, list, history and diff of ACL policies per environment
 * (Vault's sys/policies/acl and sys/policy, Keyward's history/diff). Encodes Vault's rules on the two
 * built-ins and leaves HTTP to the routes.
 *
 * Invariants:
 * - `root` is never stored: it reads as an empty document and cannot be written or deleted (400).
 * - `default` always exists in every environment: until first written it reads as Vault's default
 *   (version 0, "built-in"); it can be edited like any policy and never deleted (400).
 * - every stored document has passed `parsePolicyText`; the normalised JSON is what enforcement loads,
 *   the submitted text is what `read` returns (Vault returns the raw text too).
 * - `onChange` fires after every successful write/delete so an in-process cache drops stale ACLs at
 *   once; other processes see the change through the authorizer's version check.
 */
import { diffPolicies, type PolicyDiff } from '../authz/diff.js';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_NAME,
  type HclDecoder,
  type NamedPolicy,
  type Policy,
  ROOT_POLICY_NAME,
  parsePolicyName,
  parsePolicyText,
  serializePolicy,
} from '../authz/policy.js';
import { invalidInput, notFound } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports/clock.js';
import type { PolicyStore, PolicyVersionRecord } from '../core/ports/policy-store.js';
import type { Environment } from '../core/types.js';
import { policyOfRecord } from './authorize.js';

export interface PolicyAdminDeps {
  readonly store: PolicyStore;
  /** Without it only JSON policies are accepted. */
  readonly decoder?: HclDecoder;
  readonly clock?: Clock;
  readonly onChange?: (env: Environment, name: string) => void;
}

export interface PolicyView {
  readonly name: string;
  /** As submitted; the built-in default and root read as generated JSON / ''. */
  readonly text: string;
  /** 0 = built-in (never written). */
  readonly version: number;
  readonly policy: Policy;
}

export interface PolicyChange {
  readonly name: string;
  readonly version: number;
  readonly diff: PolicyDiff;
}

export interface PolicyHistoryEntry {
  readonly version: number;
  readonly createdAt: Date | null;
  readonly author: string;
  readonly deleted: boolean;
}

export interface PolicyAdmin {
  read(env: Environment, rawName: string): Promise<PolicyView | null>;
  write(env: Environment, rawName: string, text: string, author: string): Promise<PolicyChange>;
  /** Null when there was nothing to delete (Vault answers 204 either way). */
  remove(env: Environment, rawName: string, author: string): Promise<PolicyChange | null>;
  /** Names for listing: stored ones plus `default`, and `root` last, as Vault lists them. */
  list(env: Environment): Promise<string[]>;
  history(env: Environment, rawName: string): Promise<PolicyHistoryEntry[]>;
  diff(env: Environment, rawName: string, from: number, to: number): Promise<PolicyDiff>;
  /** Every current policy of the environment, `default` included (for review and lint). */
  loadAll(env: Environment): Promise<NamedPolicy[]>;
}

export const DEFAULT_POLICY_TEXT = serializePolicy(DEFAULT_POLICY);
const EMPTY: Policy = { rules: [] };

export function makePolicyAdmin(deps: PolicyAdminDeps): PolicyAdmin {
  const clock = deps.clock ?? systemClock;

  async function current(env: Environment, name: string): Promise<PolicyVersionRecord | null> {
    const [record] = await deps.store.getCurrent(env, [name]);
    return record ?? null;
  }

  async function view(env: Environment, name: string): Promise<PolicyView | null> {
    if (name === ROOT_POLICY_NAME) return { name, text: '', version: 0, policy: EMPTY };
    const record = await current(env, name);
    if (record === null || record.deleted) {
      return name === DEFAULT_POLICY_NAME ? { name, text: DEFAULT_POLICY_TEXT, version: 0, policy: DEFAULT_POLICY } : null;
    }
    return { name, text: record.text, version: record.version, policy: policyOfRecord(record) };
  }

  async function policyAt(env: Environment, name: string, version: number): Promise<Policy | undefined> {
    if (version === 0 && name === DEFAULT_POLICY_NAME) return DEFAULT_POLICY;
    const record = await deps.store.getVersion(env, name, version);
    if (record === null) throw notFound(`policy "${name}" has no version ${version}`);
    return record.deleted ? undefined : policyOfRecord(record);
  }

  return {
    read: (env, rawName) => view(env, parsePolicyName(rawName)),

    async write(env, rawName, text, author) {
      const name = parsePolicyName(rawName, 'write');
      if (typeof text !== 'string' || text.trim() === '') throw invalidInput("missing 'policy' parameter");
      const policy = parsePolicyText(text, deps.decoder);
      const before = await view(env, name);
      const record = await deps.store.append({ env, name, text, normalized: serializePolicy(policy), author, at: clock.now(), deleted: false });
      deps.onChange?.(env, name);
      return { name, version: record.version, diff: diffPolicies(before?.policy, policy) };
    },

    async remove(env, rawName, author) {
      const name = parsePolicyName(rawName);
      if (name === ROOT_POLICY_NAME) throw invalidInput('cannot delete root policy');
      if (name === DEFAULT_POLICY_NAME) throw invalidInput('cannot delete default policy');
      const before = await current(env, name);
      if (before === null || before.deleted) return null;
      const record = await deps.store.append({ env, name, text: '', normalized: null, author, at: clock.now(), deleted: true });
      deps.onChange?.(env, name);
      return { name, version: record.version, diff: diffPolicies(policyOfRecord(before), undefined) };
    },

    async list(env) {
      const names = new Set((await deps.store.listCurrent(env)).map((r) => r.name));
      names.delete(DEFAULT_POLICY_NAME);
      return [DEFAULT_POLICY_NAME, ...[...names].sort(), ROOT_POLICY_NAME];
    },

    async history(env, rawName) {
      const name = parsePolicyName(rawName);
      const versions = (await deps.store.history(env, name)).map((r) => ({ version: r.version, createdAt: r.createdAt, author: r.author, deleted: r.deleted }));
      if (name === DEFAULT_POLICY_NAME) return [{ version: 0, createdAt: null, author: 'built-in', deleted: false }, ...versions];
      if (versions.length === 0) throw notFound();
      return versions;
    },

    async diff(env, rawName, from, to) {
      const name = parsePolicyName(rawName);
      return diffPolicies(await policyAt(env, name, from), await policyAt(env, name, to));
    },

    async loadAll(env) {
      const stored = (await deps.store.listCurrent(env)).map((r): NamedPolicy => ({ name: r.name, policy: policyOfRecord(r) }));
      return stored.some((p) => p.name === DEFAULT_POLICY_NAME) ? stored : [{ name: DEFAULT_POLICY_NAME, policy: DEFAULT_POLICY }, ...stored];
    },
  };
}
