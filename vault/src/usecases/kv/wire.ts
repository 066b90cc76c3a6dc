/** Composition helper: every KV v2 use case over one Hsm, KeyStore, SecretStore and Clock (for main.ts and tests). */
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { makeDeleteLatest, type DeleteLatest } from './delete-latest.js';
import { makeDeleteMetadataAndAll, type DeleteMetadataAndAll } from './delete-metadata-and-all.js';
import { makeDeleteVersions, type DeleteVersions } from './delete-versions.js';
import { makeDestroyVersions, type DestroyVersions } from './destroy-versions.js';
import { KV_KEY_NAME, makeInternalSealer } from './internal-sealer.js';
import { makeReadKvConfig, makeWriteKvConfig, type ReadKvConfig, type WriteKvConfig } from './kv-config.js';
import { makeListSecrets, type ListSecrets } from './list-secrets.js';
import { makePatchSecret, type PatchSecret } from './patch-secret.js';
import { makeReadMetadata, type ReadMetadata } from './read-metadata.js';
import { makeReadSecret, type ReadSecret } from './read-secret.js';
import { makeUndeleteVersions, type UndeleteVersions } from './undelete-versions.js';
import { makeWriteMetadata, type WriteMetadata } from './write-metadata.js';
import { makeWriteSecret, type WriteSecret } from './write-secret.js';

export interface KvUseCases {
  readonly readSecret: ReadSecret;
  readonly writeSecret: WriteSecret;
  readonly patchSecret: PatchSecret;
  readonly deleteLatest: DeleteLatest;
  readonly deleteVersions: DeleteVersions;
  readonly undeleteVersions: UndeleteVersions;
  readonly destroyVersions: DestroyVersions;
  readonly readMetadata: ReadMetadata;
  readonly writeMetadata: WriteMetadata;
  readonly deleteMetadataAndAll: DeleteMetadataAndAll;
  readonly listSecrets: ListSecrets;
  readonly readKvConfig: ReadKvConfig;
  readonly writeKvConfig: WriteKvConfig;
}

export interface KvWiring {
  readonly hsm: Pick<Hsm, 'seal' | 'open' | 'randomBytes' | 'generateWrappedKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'createKey' | 'getActiveRoot'>;
  readonly secrets: SecretStore;
  readonly clock: Clock;
}

export function makeKvUseCases(deps: KvWiring): KvUseCases {
  const { secrets, clock } = deps;
  const sealer = makeInternalSealer(deps, KV_KEY_NAME);
  const readSecret = makeReadSecret({ secrets, sealer, clock });
  return {
    readSecret,
    writeSecret: makeWriteSecret({ secrets, sealer, clock }),
    patchSecret: makePatchSecret({ secrets, sealer, clock, readSecret }),
    deleteLatest: makeDeleteLatest({ secrets, clock }),
    deleteVersions: makeDeleteVersions({ secrets, clock }),
    undeleteVersions: makeUndeleteVersions({ secrets, clock }),
    destroyVersions: makeDestroyVersions({ secrets, clock }),
    readMetadata: makeReadMetadata({ secrets }),
    writeMetadata: makeWriteMetadata({ secrets, clock }),
    deleteMetadataAndAll: makeDeleteMetadataAndAll({ secrets }),
    listSecrets: makeListSecrets({ secrets }),
    readKvConfig: makeReadKvConfig({ secrets }),
    writeKvConfig: makeWriteKvConfig({ secrets, clock }),
  };
}
