/**
 * Bounded LRU of loaded key versions: cacheId → session-object handle, tagged with the session-pool
 * generation it was created in.
 *
 * Invariants:
 * - An entry from an older generation is never returned (its object died with its session).
 * - Capacity 0 keeps nothing: each loaded object is destroyed when its one use ends.
 * - An object is destroyed exactly once, and never while an operation is using it: eviction and
 *   forget only mark an in-use entry; the last `release` hands its handle back for destruction.
 */
import type pkcs11js from 'pkcs11js';

type Handle = pkcs11js.Handle;

export interface CachedKey {
  readonly cacheId: string;
  /** Which root and blob the object came from: a hit must match both (defence against a reused id). */
  readonly rootKey: string;
  readonly wrappedKek: Buffer;
  readonly handle: Handle;
  readonly generation: number;
  users: number;
  dropped: boolean;
}

export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** A live entry for this generation, root and blob, marked in use; else no entry (and handles to destroy). */
  checkout(cacheId: string, generation: number, rootKey: string, wrappedKek: Uint8Array): { entry?: CachedKey; destroy: Handle[] } {
    const entry = this.entries.get(cacheId);
    if (!entry) return { destroy: [] };
    if (entry.generation !== generation) {
      // Stale: the object is already gone with its session, nothing to destroy.
      this.entries.delete(cacheId);
      entry.dropped = true;
      return { destroy: [] };
    }
    if (entry.rootKey !== rootKey || !entry.wrappedKek.equals(wrappedKek)) return { destroy: this.drop(entry) };
    this.entries.delete(cacheId); // re-insert: Map order is our LRU order
    this.entries.set(cacheId, entry);
    entry.users += 1;
    return { entry, destroy: [] };
  }

  /**
   * Insert a freshly loaded object, in use by the caller. Returns handles that may be destroyed now
   * (evicted idle entries, or a replaced idle entry).
   */
  insert(
    cacheId: string,
    source: { rootKey: string; wrappedKek: Uint8Array },
    handle: Handle,
    generation: number,
  ): { entry: CachedKey; destroy: Handle[] } {
    const destroy: Handle[] = [];
    const previous = this.entries.get(cacheId);
    if (previous) destroy.push(...this.drop(previous));
    const entry: CachedKey = {
      cacheId,
      rootKey: source.rootKey,
      wrappedKek: Buffer.from(source.wrappedKek),
      handle,
      generation,
      users: 1,
      dropped: false,
    };
    if (this.capacity === 0) {
      // Cache off (performance.hsmKeyCacheSize = 0): the caller's release destroys the object.
      entry.dropped = true;
      return { entry, destroy };
    }
    this.entries.set(cacheId, entry);
    for (const victim of this.entries.values()) {
      if (this.entries.size <= this.capacity) break;
      if (victim === entry) continue;
      destroy.push(...this.drop(victim));
    }
    return { entry, destroy };
  }

  /** End of use; returns the handle if it must be destroyed now. */
  release(entry: CachedKey): Handle | undefined {
    entry.users -= 1;
    return entry.dropped && entry.users === 0 ? entry.handle : undefined;
  }

  /** Remove an entry (forgetKey, or a stale handle); returns handles to destroy now. */
  forget(cacheId: string): Handle[] {
    const entry = this.entries.get(cacheId);
    return entry ? this.drop(entry) : [];
  }

  /** Remove every entry loaded under this root (the root was destroyed); returns handles to destroy now. */
  forgetRoot(rootKey: string): Handle[] {
    const destroy: Handle[] = [];
    for (const entry of [...this.entries.values()]) if (entry.rootKey === rootKey) destroy.push(...this.drop(entry));
    return destroy;
  }

  /** Remove everything (close); returns idle handles of the current generation to destroy. */
  clear(generation: number): Handle[] {
    const destroy: Handle[] = [];
    for (const entry of [...this.entries.values()]) {
      const handles = this.drop(entry);
      if (entry.generation === generation) destroy.push(...handles);
    }
    return destroy;
  }

  private drop(entry: CachedKey): Handle[] {
    if (this.entries.get(entry.cacheId) === entry) this.entries.delete(entry.cacheId);
    if (entry.dropped) return [];
    entry.dropped = true;
    return entry.users === 0 ? [entry.handle] : [];
  }
}
