/**
 * An audit device: a best-effort copy of the trail outside the database (the database is the source
 * of truth and fails closed on its own). `write` receives whole lines in chain order and resolves
 * once the device accepted them; a device instance serialises its writes so lines never interleave.
 */
import type { DeviceConfig } from '../audit-store.js';

export interface AuditDevice {
  readonly config: DeviceConfig;
  write(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Serialises async writes: each starts after the previous one settled (success or failure). */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
