/**
 * Composition of the incident playbooks for main.ts: both playbooks over one set of narrow ports.
 * Everything is passed in (no environment, no adapters constructed here).
 */
import crypto from 'node:crypto';
import type { TransitionVersion } from '../lifecycle/key-transitions.js';
import type { RotateKey } from '../transit/rotate-key.js';
import type { UpdateKeyConfig } from '../transit/update-key-config.js';
import { makeCredentialLeak, type CredentialLeak } from './credential-leak.js';
import { makeKeyCompromise, type KeyCompromise } from './key-compromise.js';
import type { PlaybookAppRole, PlaybookDeps, PlaybookKeys, PlaybookRewrap } from './ports.js';

export interface IncidentPlaybooks {
  readonly keyCompromise: KeyCompromise;
  readonly credentialLeak: CredentialLeak;
}

export interface IncidentPlaybookWiring extends Omit<PlaybookDeps, 'newId'> {
  readonly keys: PlaybookKeys['keys'];
  readonly transitionVersion: TransitionVersion;
  readonly rotateKey: RotateKey;
  readonly updateKeyConfig: UpdateKeyConfig;
  readonly rewrap: PlaybookRewrap;
  readonly approle: PlaybookAppRole;
  readonly rewrapWaitMs?: number;
}

export function wireIncidentPlaybooks(w: IncidentPlaybookWiring): IncidentPlaybooks {
  const base: PlaybookDeps = { incidents: w.incidents, audit: w.audit, hashAccessor: w.hashAccessor, tokens: w.tokens, clock: w.clock, newId: () => crypto.randomUUID() };
  const keyOps: PlaybookKeys = {
    keys: w.keys,
    compromiseVersion: async (env, name, version) => {
      await w.transitionVersion({ env, name, version, action: 'compromise' });
    },
    rotateKey: w.rotateKey,
    updateKeyConfig: w.updateKeyConfig,
  };
  return {
    keyCompromise: makeKeyCompromise({ ...base, keyOps, rewrap: w.rewrap, ...(w.rewrapWaitMs !== undefined ? { rewrapWaitMs: w.rewrapWaitMs } : {}) }),
    credentialLeak: makeCredentialLeak({ ...base, approle: w.approle }),
  };
}
