/**
 * Key and key-version lifecycle transitions (disable, enable, compromise, schedule/cancel deletion,
 * destroy). Which transition is legal comes from keyring's KEY_STATE_TRANSITIONS /
 * VERSION_STATE_TRANSITIONS; this module only reads, asks the table, and writes.
 *
 * Invariants:
 * - Key transitions are a compare-and-set on the state read (`transitionKeyState`): a transition that
 *   raced with another (e.g. the deletion sweep against cancel-deletion) fails with ERR_CONFLICT
 *   instead of overwriting it.
 * - Scheduling deletion (and Vault's DELETE) needs `deletion_allowed`; the window is 7–30 days.
 * - Destroying erases the wrapped material in the store first, then drops every loaded HSM object of
 *   the key, so no cached handle outlives the blob. The key row stays as a tombstone for audit.
 */
import { conflict, invalidInput } from '../../core/errors.js';
import {
  assertDeletable,
  planKeyTransition,
  planVersionTransition,
  validatePendingWindowDays,
  versionCacheId,
  type KeyLifecycleAction,
  type VersionLifecycleAction,
} from '../../core/keyring.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyState, KeyStore, TransitKeyRecord, VersionState } from '../../core/ports/key-store.js';
import type { Environment, KeyName, KeyVersion } from '../../core/types.js';
import { getKeyForWrite } from '../transit/shared.js';

export interface KeyTransitionInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly action: KeyLifecycleAction;
  /** schedule_deletion only; default 30. */
  readonly pendingWindowDays?: number;
}

export interface KeyTransitionResult {
  readonly key: TransitKeyRecord;
  readonly from: KeyState;
  readonly to: KeyState;
  readonly deletionDeadline: Date | null;
}

export type TransitionKey = (input: KeyTransitionInput) => Promise<KeyTransitionResult>;

export interface LifecycleDeps {
  readonly hsm: Pick<Hsm, 'forgetKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'transitionKeyState' | 'setVersionState'>;
  readonly clock: Clock;
}

const DAY_MS = 86_400_000;

/** Drop every loaded HSM object of the key's versions (after their blobs are gone). */
export async function forgetAllVersions(hsm: Pick<Hsm, 'forgetKey'>, key: TransitKeyRecord): Promise<void> {
  for (const v of key.versions) await hsm.forgetKey(versionCacheId(key.env, key.name, v.version, v.rootTerm));
}

export function makeTransitionKey(deps: LifecycleDeps): TransitionKey {
  return async ({ env, name, action, pendingWindowDays }) => {
    const key = await getKeyForWrite(deps.keys, env, name);
    const to = planKeyTransition(key, action);
    const now = deps.clock.now();
    let deadline: Date | null = null;
    if (action === 'schedule_deletion') {
      assertDeletable(key);
      deadline = new Date(now.getTime() + validatePendingWindowDays(pendingWindowDays) * DAY_MS);
    }
    if (action === 'destroy') assertDeletable(key);
    if (!(await deps.keys.transitionKeyState(env, name, [key.state], to, deadline, now))) {
      throw conflict('the key changed state meanwhile; read it again and retry');
    }
    if (to === 'destroyed') await forgetAllVersions(deps.hsm, key);
    const after = (await deps.keys.getKey(env, name)) ?? key;
    return { key: after, from: key.state, to, deletionDeadline: deadline };
  };
}

export interface VersionTransitionInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly version: KeyVersion;
  readonly action: VersionLifecycleAction;
}

export type TransitionVersion = (input: VersionTransitionInput) => Promise<{ key: TransitKeyRecord; from: VersionState; to: VersionState }>;

export function makeTransitionVersion(deps: LifecycleDeps): TransitionVersion {
  return async ({ env, name, version, action }) => {
    const key = await getKeyForWrite(deps.keys, env, name);
    const to = planVersionTransition(key, version, action);
    const v = key.versions.find((x) => x.version === version);
    const from = v?.state ?? 'destroyed';
    await deps.keys.setVersionState(env, name, version, to, deps.clock.now());
    if (to === 'destroyed' && v) await deps.hsm.forgetKey(versionCacheId(env, name, v.version, v.rootTerm));
    return { key: (await deps.keys.getKey(env, name)) ?? key, from, to };
  };
}

/**
 * Vault's DELETE transit/keys/:name under Keyward's lifecycle: with `immediate` (the route demands
 * sudo for it) the key is destroyed now; otherwise it enters pending_deletion with the default window.
 */
export type DeleteKeyLifecycle = (input: { env: Environment; name: KeyName; immediate: boolean; pendingWindowDays?: number }) => Promise<KeyTransitionResult>;

export function makeDeleteKeyLifecycle(transition: TransitionKey, deps: Pick<LifecycleDeps, 'keys'>): DeleteKeyLifecycle {
  return async ({ env, name, immediate, pendingWindowDays }) => {
    const key = await deps.keys.getKey(env, name);
    if (!key) throw invalidInput('could not delete key; not found');
    assertDeletable(key);
    if (immediate) return transition({ env, name, action: 'destroy' });
    return transition({ env, name, action: 'schedule_deletion', ...(pendingWindowDays !== undefined ? { pendingWindowDays } : {}) });
  };
}
