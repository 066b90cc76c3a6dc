/**
 * ensureEnvironmentRoot: make sure an environment has an active root KEK, in the token and in the store.
 * Run by the bootstrap for each environment before the API serves it.
 *
 * Invariants:
 * - Idempotent: with an active root term recorded, nothing is generated; the token is only checked.
 * - Safe under concurrency (several processes starting at once): `hsm.ensureRootKey` is find-or-generate
 *   and `keys.putRoot` is idempotent on (env, term), so racers converge on term 1.
 * - Never invents term 1 for an environment that already has root history (e.g. mid root rotation with no
 *   term marked active), and never replaces a recorded root that is missing from the token: either would
 *   silently orphan every key version wrapped under the real root.
 */
import { KeywardError } from '../core/errors.js';
import type { Clock } from '../core/ports/clock.js';
import type { Hsm } from '../core/ports/hsm.js';
import type { KeyStore, RootKeyRecord } from '../core/ports/key-store.js';
import type { Environment } from '../core/types.js';

export interface EnsureEnvironmentRootDeps {
  readonly hsm: Pick<Hsm, 'ensureRootKey' | 'hasRootKey'>;
  readonly keys: Pick<KeyStore, 'getActiveRoot' | 'listRoots' | 'putRoot'>;
  readonly clock: Clock;
}

export type EnsureEnvironmentRoot = (env: Environment) => Promise<RootKeyRecord>;

export function makeEnsureEnvironmentRoot(deps: EnsureEnvironmentRootDeps): EnsureEnvironmentRoot {
  return async (env) => {
    const active = await deps.keys.getActiveRoot(env);
    if (active) {
      if (!(await deps.hsm.hasRootKey({ env, term: active.term }))) {
        throw new KeywardError('ERR_SEALED', `root key of environment ${env} (term ${active.term}) is missing from the HSM token`);
      }
      return active;
    }
    if ((await deps.keys.listRoots(env)).length > 0) {
      throw new KeywardError('ERR_SEALED', `environment ${env} has root key history but no active root key`);
    }
    await deps.hsm.ensureRootKey({ env, term: 1 });
    await deps.keys.putRoot(env, 1, 'active', deps.clock.now());
    const now = await deps.keys.getActiveRoot(env);
    if (!now) throw new KeywardError('ERR_SEALED', `environment ${env} has no active root key`);
    return now;
  };
}
