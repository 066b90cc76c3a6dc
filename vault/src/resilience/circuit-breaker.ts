/**
 * A circuit breaker for one dependency (the HSM): closed → open after `failureThreshold`
 * consecutive availability failures → half-open after `coolDownMs` (one probe) → closed on the
 * probe's success, open again on its failure. Recovery needs no restart.
 *
 * Invariants:
 * - While open (and before the cool-down ends) `admit()` rejects at once: no call reaches the
 *   dependency, and the rejection carries the remaining open time as retryAfterSeconds.
 * - At most one probe runs at a time; callers arriving during the probe wait for its verdict.
 * - Only what the caller reports as an availability failure counts; any answer from the dependency
 *   (including "decryption failed") proves it is alive and resets the count.
 * - State changes are reported synchronously to every listener (metrics, logs); a throwing listener
 *   never breaks the breaker.
 */
import { KeywardError } from '../core/errors.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitSnapshot {
  readonly state: CircuitState;
  readonly consecutive_failures: number;
  /** ISO time the circuit last opened while it is open or half-open, else null. */
  readonly opened_at: string | null;
}

export type StateChangeListener = (state: CircuitState, previous: CircuitState, snapshot: CircuitSnapshot) => void;

export interface CircuitBreakerOptions {
  /** Consecutive availability failures that open the circuit. Default 5. */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before a probe is allowed. Default 5000 ms. */
  readonly coolDownMs?: number;
  /** Injected for tests; default Date.now. */
  readonly now?: () => number;
  readonly onStateChange?: StateChangeListener;
  /** Message of the fail-fast error (the HTTP layer shows it to clients). */
  readonly openMessage?: string;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOL_DOWN_MS = 5_000;

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAtMs: number | null = null;
  private probing: Promise<boolean> | null = null;
  private readonly listeners = new Set<StateChangeListener>();
  private readonly threshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;
  private readonly openMessage: string;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = Math.max(1, options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD);
    this.coolDownMs = Math.max(0, options.coolDownMs ?? DEFAULT_COOL_DOWN_MS);
    this.now = options.now ?? Date.now;
    this.openMessage = options.openMessage ?? 'unavailable, retry later';
    if (options.onStateChange) this.listeners.add(options.onStateChange);
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Subscribe to state changes; returns the unsubscribe function. */
  onStateChange(listener: StateChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): CircuitSnapshot {
    return {
      state: this.current,
      consecutive_failures: this.failures,
      opened_at: this.openedAtMs === null ? null : new Date(this.openedAtMs).toISOString(),
    };
  }

  /** Milliseconds until a probe is allowed (0 when closed or due). */
  remainingOpenMs(): number {
    if (this.current !== 'open' || this.openedAtMs === null) return 0;
    return Math.max(0, this.openedAtMs + this.coolDownMs - this.now());
  }

  /**
   * Let a call through, or refuse it. When the cool-down is over, runs `probe` (once, shared by
   * concurrent callers): true closes the circuit and admits, false re-opens it and refuses.
   */
  async admit(probe: () => Promise<boolean>): Promise<void> {
    if (this.current === 'closed') return;
    if (this.current === 'open') {
      const remaining = this.remainingOpenMs();
      if (remaining > 0) throw this.refusal(remaining);
      this.probing ??= this.runProbe(probe);
    }
    const ok = await (this.probing ?? Promise.resolve((this.current as CircuitState) === 'closed'));
    if (!ok) throw this.refusal(this.remainingOpenMs());
  }

  /** The dependency answered (whatever the answer). */
  recordSuccess(): void {
    this.failures = 0;
    if (this.current !== 'closed' && this.probing === null) {
      this.openedAtMs = null;
      this.transition('closed');
    }
  }

  /** The dependency was unavailable (device error, lost token, timeout). */
  recordFailure(): void {
    this.failures += 1;
    if (this.current === 'closed' && this.failures >= this.threshold) this.open();
  }

  private async runProbe(probe: () => Promise<boolean>): Promise<boolean> {
    this.transition('half-open');
    let ok = false;
    try {
      ok = await probe();
    } catch {
      ok = false;
    }
    this.probing = null;
    if (ok) {
      this.failures = 0;
      this.openedAtMs = null;
      this.transition('closed');
    } else {
      this.failures += 1;
      this.open();
    }
    return ok;
  }

  private open(): void {
    this.openedAtMs = this.now();
    this.transition('open');
  }

  private refusal(remainingMs: number): KeywardError {
    return new KeywardError('ERR_HSM_UNAVAILABLE', this.openMessage, { retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) });
  }

  private transition(next: CircuitState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    const snap = this.snapshot();
    for (const l of this.listeners) {
      try {
        l(next, previous, snap);
      } catch {
        // a listener's failure must not change the breaker's behaviour
      }
    }
  }
}
