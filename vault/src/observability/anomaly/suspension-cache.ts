/**
 * SuspensionCache: answers "is this subject suspended?" on every authenticated request without a
 * store read each time. The whole (small) suspension set is re-read at most every `ttlMs` (default
 * 1 s), so a suspension or release made by another process takes effect within that delay; changes
 * made through this process apply at once.
 *
 * Fails closed on a store error only for subjects already known suspended: an unreadable store keeps
 * the last known set (a suspended identity never slips through because the store hiccupped).
 */
import type { Clock } from '../../core/ports/clock.js';
import type { ObservabilityStore } from '../store.js';

export class SuspensionCache {
  private subjects = new Set<string>();
  private loadedAtMs = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<ObservabilityStore, 'listSuspensions'>,
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
    private readonly onStoreError?: (err: unknown) => void,
  ) {}

  async isSuspended(subject: string): Promise<boolean> {
    const nowMs = this.clock.now().getTime();
    if (nowMs - this.loadedAtMs >= this.ttlMs || nowMs < this.loadedAtMs) await this.refresh(nowMs);
    return this.subjects.has(subject);
  }

  /**
   * isSuspended without a promise while the set is fresh; `undefined` when it must be re-read
   * first (then call isSuspended).
   */
  isSuspendedNow(subject: string): boolean | undefined {
    const nowMs = this.clock.now().getTime();
    if (nowMs - this.loadedAtMs >= this.ttlMs || nowMs < this.loadedAtMs) return undefined;
    return this.subjects.has(subject);
  }

  /** Cheap synchronous view of the last loaded set (used to skip feeding suspended identities). */
  knownSuspended(subject: string): boolean {
    return this.subjects.has(subject);
  }

  add(subject: string): void {
    this.subjects.add(subject);
  }

  remove(subject: string): void {
    this.subjects.delete(subject);
  }

  invalidate(): void {
    this.loadedAtMs = Number.NEGATIVE_INFINITY;
  }

  private refresh(nowMs: number): Promise<void> {
    if (!this.loading) {
      this.loading = (async () => {
        try {
          const rows = await this.store.listSuspensions();
          this.subjects = new Set(rows.map((r) => r.subject));
        } catch (e) {
          this.onStoreError?.(e);
        }
        this.loadedAtMs = nowMs;
      })().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }
}
