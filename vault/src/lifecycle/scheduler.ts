/**
 * The lifecycle scheduler: every `intervalMs` (±10 % jitter, so processes sharing a store drift
 * apart) it takes the `lifecycle-scheduler` lease and, per environment, resumes any unfinished root
 * rotation and maintains every key (deletion sweep, scheduled rotation, retention).
 *
 * Invariants:
 * - At most one process works a tick at a time on one store (lease compare-and-set, TTL 3 ticks, so a
 *   dead holder is replaced within three ticks); even if two ever overlap, rotation stays exactly once
 *   per due period because the store re-checks "due" in the appending write.
 * - A failure on one key is logged and does not stop the others; the next tick retries.
 * - `stop()` waits for a running tick, so shutdown never cuts a batch half-way (a kill may; the
 *   steps are crash-safe on their own).
 */
import crypto from 'node:crypto';
import type { Clock } from '../core/ports/clock.js';
import type { KeyStore } from '../core/ports/key-store.js';
import type { Environment, KeyName } from '../core/types.js';
import { maintainKey, type MaintenanceDeps, type MaintenanceAction } from '../usecases/lifecycle/key-maintenance.js';
import type { RootRotation } from '../usecases/lifecycle/rotate-root.js';

export const SCHEDULER_LEASE = 'lifecycle-scheduler';
export const DEFAULT_TICK_MS = 60_000;

export interface SchedulerLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface SchedulerOptions {
  readonly intervalMs?: number;
  /** Fraction of jitter each way; default 0.1. */
  readonly jitter?: number;
  readonly holder?: string;
}

export interface SchedulerDeps {
  readonly keys: KeyStore;
  readonly clock: Clock;
  readonly environments: readonly Environment[];
  readonly maintenance: Omit<MaintenanceDeps, 'keys' | 'clock'>;
  readonly rootRotation?: RootRotation;
  readonly logger?: SchedulerLogger;
}

export interface TickReport {
  readonly ran: boolean;
  readonly actions: ReadonlyArray<{ env: Environment; key: string; action: MaintenanceAction }>;
  readonly errors: number;
}

export class LifecycleScheduler {
  readonly holder: string;
  private readonly intervalMs: number;
  private readonly jitter: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<TickReport> | null = null;
  private stopped = true;
  private readonly abort = new AbortController();

  constructor(private readonly deps: SchedulerDeps, options: SchedulerOptions = {}) {
    this.intervalMs = options.intervalMs ?? DEFAULT_TICK_MS;
    this.jitter = options.jitter ?? 0.1;
    this.holder = options.holder ?? `scheduler-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    await this.deps.keys.releaseLease(SCHEDULER_LEASE, this.holder).catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    const spread = this.intervalMs * this.jitter;
    const delay = Math.max(1, Math.round(this.intervalMs - spread + Math.random() * 2 * spread));
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  /** One pass; exported for tests and for `keyward` admin commands. Never throws. */
  tick(): Promise<TickReport> {
    if (this.running) return this.running;
    this.running = this.runTick().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runTick(): Promise<TickReport> {
    const { keys, clock, logger } = this.deps;
    const actions: Array<{ env: Environment; key: string; action: MaintenanceAction }> = [];
    let errors = 0;
    let leased = false;
    try {
      leased = await keys.acquireLease(SCHEDULER_LEASE, this.holder, clock.now(), this.intervalMs * 3);
    } catch (e) {
      logger?.warn({ err: e }, 'lifecycle scheduler: lease check failed');
      return { ran: false, actions, errors: 1 };
    }
    if (!leased) return { ran: false, actions, errors };
    const maintenance: MaintenanceDeps = { ...this.deps.maintenance, keys, clock };
    for (const env of this.deps.environments) {
      if (this.abort.signal.aborted) break;
      if (this.deps.rootRotation) {
        try {
          await this.deps.rootRotation.resume(env, this.abort.signal);
        } catch (e) {
          errors++;
          logger?.warn({ err: e, env }, 'lifecycle scheduler: root rotation step failed');
        }
      }
      let names: KeyName[] = [];
      try {
        names = await keys.listKeys(env);
      } catch (e) {
        errors++;
        logger?.warn({ err: e, env }, 'lifecycle scheduler: cannot list keys');
      }
      for (const name of names) {
        if (this.abort.signal.aborted) break;
        try {
          for (const action of await maintainKey(maintenance, env, name)) actions.push({ env, key: name, action });
        } catch (e) {
          errors++;
          logger?.warn({ err: e, env, key: name }, 'lifecycle scheduler: key maintenance failed');
        }
      }
    }
    return { ran: true, actions, errors };
  }
}
