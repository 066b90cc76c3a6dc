/**
 * instrumentHsm: wraps any Hsm so every port call is counted and timed
 * (keyward_hsm_operations_total{op,outcome}, keyward_hsm_operation_duration_seconds{op},
 * keyward_hsm_errors_total{code}). The wrapper is transparent: same arguments, same results, the
 * very same thrown error (metrics are recorded, then it is rethrown).
 */
import { isKeywardError } from '../core/errors.js';
import type { Hsm } from '../core/ports/hsm.js';
import type { Metrics } from './metrics.js';

type HsmMetrics = Pick<Metrics, 'hsmOperations' | 'hsmDuration' | 'hsmErrors'>;

const METHODS = [
  'ensureRootKey',
  'hasRootKey',
  'destroyRootKey',
  'generateWrappedKey',
  'rewrapKey',
  'forgetKey',
  'seal',
  'open',
  'randomBytes',
  'ensureSigningKey',
  'signEs256',
  'ensureMacKey',
  'hmacSha256',
  'destroyKeyByLabel',
  'status',
  'close',
] as const satisfies ReadonlyArray<keyof Hsm>;

// Compile-time check that METHODS names every port method: adding one to Hsm breaks this line.
type Missing = Exclude<keyof Hsm, (typeof METHODS)[number]>;
const _allCovered: Missing extends never ? true : Missing = true;
void _allCovered;

export function instrumentHsm(hsm: Hsm, metrics: HsmMetrics): Hsm {
  const wrapped: Record<string, unknown> = {};
  for (const op of METHODS) {
    const fn = hsm[op] as (...args: unknown[]) => Promise<unknown>;
    // Label sets built once per method, not per call (this wrapper sits on every request's path).
    const ok = { op, outcome: 'ok' };
    const failed = { op, outcome: 'error' };
    const timed = { op };
    wrapped[op] = async (...args: unknown[]): Promise<unknown> => {
      const started = performance.now();
      try {
        const result = await fn.apply(hsm, args);
        metrics.hsmOperations.inc(ok);
        return result;
      } catch (e) {
        metrics.hsmOperations.inc(failed);
        metrics.hsmErrors.inc({ code: isKeywardError(e) ? e.code : 'unknown' });
        throw e;
      } finally {
        metrics.hsmDuration.observe(timed, (performance.now() - started) / 1000);
      }
    };
  }
  return wrapped as unknown as Hsm;
}
