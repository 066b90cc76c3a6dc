/**
 * Composition of the bulk rewrap for main.ts: the stored-data sources over the SecretStore, the job
 * over its store and the key store's lease, `usedVersions` for the lifecycle retention, and a
 * background runner (boot resume + after each start). Reads no environment: main passes options.
 */
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { SecretStore, WrappingTokenStore } from '../../core/ports/secret-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { makeReseal } from './reseal.js';
import { makeRewrapJob, type RewrapJob, type RewrapJobOptions } from './rewrap-job.js';
import type { RewrapJobStore } from './rewrap-job-store.js';
import { kvSource, wrapSource, type StoredDataSource } from './stored-data.js';
import { makeUsedVersions, type UsedVersions } from './used-versions.js';

export interface RewrapWireDeps {
  readonly hsm: Pick<Hsm, 'open' | 'seal' | 'randomBytes'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'acquireLease' | 'releaseLease'>;
  readonly secrets: SecretStore & WrappingTokenStore;
  readonly jobs: RewrapJobStore;
  readonly rotateKey: (input: { env: Environment; name: KeyName }) => Promise<TransitKeyRecord>;
  readonly clock: Clock;
  readonly environments: readonly Environment[];
  readonly logger?: { warn(obj: object, msg: string): void };
  readonly options?: RewrapJobOptions;
}

export interface RewrapWiring {
  readonly job: RewrapJob;
  readonly usedVersions: UsedVersions;
  readonly sources: readonly StoredDataSource[];
  runInBackground(env: Environment): void;
  /** Resume running jobs of every environment (boot). */
  start(): void;
  stop(): Promise<void>;
}

export function wireRewrap(deps: RewrapWireDeps): RewrapWiring {
  const sources = [kvSource(deps.secrets), wrapSource(deps.secrets)];
  const holder = `keyward-rewrap-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
  const job = makeRewrapJob({
    keys: deps.keys,
    jobs: deps.jobs,
    sources,
    reseal: makeReseal(deps.hsm),
    rotateKey: deps.rotateKey,
    clock: deps.clock,
    holder,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.options ? { options: deps.options } : {}),
  });
  const abort = new AbortController();
  const running = new Set<Promise<unknown>>();
  const runInBackground = (env: Environment): void => {
    if (abort.signal.aborted) return;
    const p = job.resume(env, abort.signal).finally(() => running.delete(p));
    running.add(p);
  };
  return {
    job,
    usedVersions: makeUsedVersions(sources),
    sources,
    runInBackground,
    start() {
      for (const env of deps.environments) runInBackground(env);
    },
    async stop() {
      abort.abort();
      await Promise.allSettled([...running]);
    },
  };
}
