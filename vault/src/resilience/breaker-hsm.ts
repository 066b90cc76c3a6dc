/**
 * BreakerHsm: the Hsm port guarded by a per-call timeout and a circuit breaker (circuit-breaker.ts).
 *
 * Why: a dead or hung token must not hold every request for the length of a TCP timeout, nor be
 * hammered by each request while it is down. A hung call fails after `callTimeoutMs`; after
 * `failureThreshold` consecutive availability failures the circuit opens and calls fail fast
 * without reaching the device; after `coolDownMs` one cheap probe (`randomBytes(1)`) decides
 * whether to close it again. Recovery needs no restart.
 *
 * Invariants:
 * - Every availability failure that leaves here is ERR_HSM_UNAVAILABLE with the fixed message
 *   "HSM unavailable, retry later" and a retryAfterSeconds (the remaining open time while open);
 *   the device's own error stays in `cause` (CKR name only, see pkcs11-errors.ts).
 * - Only ERR_HSM_UNAVAILABLE and timeouts count as failures. Any other answer — including
 *   ERR_DECRYPTION_FAILED or ERR_NOT_FOUND — proves the device is alive and passes through as is.
 * - status() never throws and never touches the device while the circuit is open.
 * - close() is never guarded.
 */
import { KeywardError } from '../core/errors.js';
import type { Hsm, HsmStatus, PublicJwk, RootKeyRef, WrappedKeyRef } from '../core/ports/hsm.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot, type StateChangeListener } from './circuit-breaker.js';

export const HSM_UNAVAILABLE_MESSAGE = 'HSM unavailable, retry later';
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

export interface BreakerHsmOptions extends Omit<CircuitBreakerOptions, 'openMessage'> {
  /** A device call that has not settled after this long fails as unavailable. Default 5000 ms. */
  readonly callTimeoutMs?: number;
}

class CallTimeout extends Error {
  constructor(readonly method: string) {
    super(`HSM call ${method} timed out`);
    this.name = 'CallTimeout';
  }
}

export class BreakerHsm implements Hsm {
  readonly breaker: CircuitBreaker;
  private readonly callTimeoutMs: number;
  private lastSeen: Pick<HsmStatus, 'module' | 'tokenLabel'> = { module: 'unknown', tokenLabel: 'unknown' };

  constructor(
    private readonly inner: Hsm,
    options: BreakerHsmOptions = {},
  ) {
    this.breaker = new CircuitBreaker({ ...options, openMessage: HSM_UNAVAILABLE_MESSAGE });
    this.callTimeoutMs = Math.max(1, options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  }

  /** For /v1/sys/health (`hsm_circuit`). */
  snapshot(): CircuitSnapshot {
    return this.breaker.snapshot();
  }

  /** For metrics: subscribe to state changes; returns the unsubscribe function. */
  onStateChange(listener: StateChangeListener): () => void {
    return this.breaker.onStateChange(listener);
  }

  private withTimeout<T>(method: string, op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CallTimeout(method)), this.callTimeoutMs);
      timer.unref?.();
      let pending: Promise<T>;
      try {
        pending = op();
      } catch (e) {
        clearTimeout(timer);
        reject(e);
        return;
      }
      pending.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private probe = async (): Promise<boolean> => {
    try {
      await this.withTimeout('probe', () => this.inner.randomBytes(1));
      return true;
    } catch (e) {
      // A probe that got an answer other than "unavailable" still proves the device is there.
      return !isAvailabilityFailure(e);
    }
  };

  private async guard<T>(method: string, op: () => Promise<T>): Promise<T> {
    await this.breaker.admit(this.probe);
    try {
      const result = await this.withTimeout(method, op);
      this.breaker.recordSuccess();
      return result;
    } catch (e) {
      if (!isAvailabilityFailure(e)) {
        this.breaker.recordSuccess();
        throw e;
      }
      this.breaker.recordFailure();
      const open = this.breaker.remainingOpenMs();
      const retryAfterSeconds = open > 0 ? Math.max(1, Math.ceil(open / 1000)) : ((e as KeywardError).retryAfterSeconds ?? 1);
      throw new KeywardError('ERR_HSM_UNAVAILABLE', HSM_UNAVAILABLE_MESSAGE, { cause: e, retryAfterSeconds });
    }
  }

  ensureRootKey(root: RootKeyRef): Promise<void> {
    return this.guard('ensureRootKey', () => this.inner.ensureRootKey(root));
  }
  hasRootKey(root: RootKeyRef): Promise<boolean> {
    return this.guard('hasRootKey', () => this.inner.hasRootKey(root));
  }
  destroyRootKey(root: RootKeyRef): Promise<void> {
    return this.guard('destroyRootKey', () => this.inner.destroyRootKey(root));
  }
  generateWrappedKey(root: RootKeyRef): Promise<Uint8Array> {
    return this.guard('generateWrappedKey', () => this.inner.generateWrappedKey(root));
  }
  rewrapKey(key: WrappedKeyRef, to: RootKeyRef): Promise<Uint8Array> {
    return this.guard('rewrapKey', () => this.inner.rewrapKey(key, to));
  }
  forgetKey(cacheId: string): Promise<void> {
    return this.guard('forgetKey', () => this.inner.forgetKey(cacheId));
  }
  seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return this.guard('seal', () => this.inner.seal(key, plaintext, aad));
  }
  open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return this.guard('open', () => this.inner.open(key, sealed, aad));
  }
  randomBytes(length: number): Promise<Buffer> {
    return this.guard('randomBytes', () => this.inner.randomBytes(length));
  }
  ensureSigningKey(label: string): Promise<PublicJwk> {
    return this.guard('ensureSigningKey', () => this.inner.ensureSigningKey(label));
  }
  signEs256(label: string, data: Uint8Array): Promise<Buffer> {
    return this.guard('signEs256', () => this.inner.signEs256(label, data));
  }
  ensureMacKey(label: string): Promise<void> {
    return this.guard('ensureMacKey', () => this.inner.ensureMacKey(label));
  }
  hmacSha256(label: string, data: Uint8Array): Promise<Buffer> {
    return this.guard('hmacSha256', () => this.inner.hmacSha256(label, data));
  }
  destroyKeyByLabel(label: string): Promise<void> {
    return this.guard('destroyKeyByLabel', () => this.inner.destroyKeyByLabel(label));
  }

  /** Never throws; while the circuit is open, answers from its state without asking the device. */
  async status(): Promise<HsmStatus> {
    const unavailable = (message: string): HsmStatus => ({ available: false, module: this.lastSeen.module, tokenLabel: this.lastSeen.tokenLabel, message });
    try {
      await this.breaker.admit(this.probe);
    } catch {
      return unavailable('HSM circuit open');
    }
    let status: HsmStatus;
    try {
      status = await this.withTimeout('status', () => this.inner.status());
    } catch (e) {
      if (isAvailabilityFailure(e)) this.breaker.recordFailure();
      return unavailable(HSM_UNAVAILABLE_MESSAGE);
    }
    this.lastSeen = { module: status.module, tokenLabel: status.tokenLabel };
    if (status.available) this.breaker.recordSuccess();
    else this.breaker.recordFailure();
    return status;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function isAvailabilityFailure(e: unknown): boolean {
  return e instanceof CallTimeout || (e instanceof KeywardError && e.code === 'ERR_HSM_UNAVAILABLE');
}
