/**
 * A fixed pool of logged-in PKCS#11 sessions on one slot.
 *
 * Invariants:
 * - At most one operation in flight per session (PKCS11-NOTES.md pitfall 5): a caller holds a lane
 *   from acquire to release, across the C_*Init and the final (async) call. `runNow` takes a free
 *   lane and releases it before returning: its operation is wholly synchronous, so no other JS can
 *   run while it holds the lane, and it never takes a lane a waiter is queued for (lanes are handed
 *   straight to waiters, so a free lane means an empty queue).
 * - Sessions are kept open for the pool's lifetime, so the process keeps its login (pitfall 4:
 *   the login dies with the last session).
 * - `generation` counts recoveries. When a session is lost, `invalidate(gen)` bumps it once; every
 *   lane then reopens its session lazily on next use and logs in again if the token forgot us.
 *   Session objects (loaded key versions) died with the old sessions: caches compare generations.
 */
import pkcs11js from 'pkcs11js';
import type { Pkcs11 } from './library.js';
import { ckrOf, isCkr } from './pkcs11-errors.js';

type Handle = pkcs11js.Handle;

// PKCS#11 v2.40 §5.6 session states (not exported by pkcs11js typings).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

export interface Lane {
  readonly session: Handle;
  readonly generation: number;
}

interface LaneState {
  session: Handle | null;
  generation: number;
  busy: boolean;
}

/** `runNow`'s answer when no lane is free (nothing was run). */
export const LANES_BUSY: unique symbol = Symbol('lanes busy');

export class SessionPool {
  private readonly lanes: LaneState[];
  private readonly waiters: Array<(lane: LaneState) => void> = [];
  private gen = 0;
  private closed = false;

  constructor(
    private readonly pkcs11: Pkcs11,
    private readonly slot: Handle,
    private readonly pin: string,
    size: number,
  ) {
    this.lanes = Array.from({ length: Math.max(1, size) }, () => ({ session: null, generation: -1, busy: false }));
  }

  get generation(): number {
    return this.gen;
  }

  /** Open the first session and log in now, so a wrong PIN or missing token fails at start-up. */
  open(): void {
    const first = this.lanes[0];
    if (first) this.prepare(first);
  }

  /** Run `fn` on a session of its own; waits for a free lane. */
  async with<T>(fn: (lane: Lane) => Promise<T> | T): Promise<T> {
    const state = await this.acquire();
    try {
      this.prepare(state);
      const session = state.session;
      if (session === null) throw new Error('unreachable: prepared lane has no session');
      return await fn({ session, generation: state.generation });
    } catch (e) {
      // A failure between C_*Init and the final call can leave the operation active
      // (CKR_OPERATION_ACTIVE forever after); a fresh session is the only portable reset.
      // Session objects created on it die with it; the key cache sees that as a stale handle.
      if (mayLeaveOperationActive(e)) state.generation = -1;
      throw e;
    } finally {
      this.release(state);
    }
  }

  /**
   * Run a wholly synchronous `fn` on a free lane right now, with the same session preparation and
   * failure handling as `with`, and no promise. Returns LANES_BUSY (having run nothing) when every
   * lane is held by an in-flight asynchronous operation; the caller then queues through `with`.
   */
  runNow<T>(fn: (lane: Lane) => T): T | typeof LANES_BUSY {
    if (this.closed) throw new PoolClosedError();
    const state = this.freeLane();
    if (state === undefined) return LANES_BUSY;
    state.busy = true;
    try {
      this.prepare(state);
      const session = state.session;
      if (session === null) throw new Error('unreachable: prepared lane has no session');
      return fn({ session, generation: state.generation });
    } catch (e) {
      if (mayLeaveOperationActive(e)) state.generation = -1; // see `with`
      throw e;
    } finally {
      this.release(state);
    }
  }

  /** A session was found dead during generation `seenGen`: bump once for everyone. */
  invalidate(seenGen: number): void {
    if (seenGen === this.gen) this.gen += 1;
  }

  /** Any session handle of the pool that is open right now (for cheap probes), or null. */
  anySession(): Handle | null {
    return this.lanes.find((l) => l.session !== null)?.session ?? null;
  }

  close(): void {
    this.closed = true;
    for (const lane of this.lanes) {
      if (lane.session !== null) {
        try {
          this.pkcs11.C_CloseSession(lane.session);
        } catch {
          // Already closed by the token or C_CloseAllSessions.
        }
        lane.session = null;
      }
    }
    for (const waiter of this.waiters.splice(0)) waiter({ session: null, generation: -1, busy: true });
  }

  private acquire(): Promise<LaneState> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    const free = this.freeLane();
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push((lane) => (this.closed ? reject(new PoolClosedError()) : resolve(lane)));
    });
  }

  private freeLane(): LaneState | undefined {
    for (const lane of this.lanes) if (!lane.busy) return lane;
    return undefined;
  }

  private release(lane: LaneState): void {
    const next = this.waiters.shift();
    if (next) next(lane); // hand the lane over still busy
    else lane.busy = false;
  }

  /** (Re)open the lane's session if it belongs to an older generation, and make sure we are logged in. */
  private prepare(lane: LaneState): void {
    if (this.closed) throw new PoolClosedError();
    if (lane.session !== null && lane.generation === this.gen) return;
    // Open the replacement *before* closing the old session: closing the process's last session
    // drops the login and every object handle (pitfall 4).
    const old = lane.session;
    lane.session = null;
    const session = this.pkcs11.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      const { state } = this.pkcs11.C_GetSessionInfo(session);
      if (state !== CKS_RW_USER_FUNCTIONS && state !== CKS_RO_USER_FUNCTIONS) {
        try {
          this.pkcs11.C_Login(session, pkcs11js.CKU_USER, this.pin);
        } catch (e) {
          if (!isCkr(e, pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) throw e;
        }
      }
    } catch (e) {
      try {
        this.pkcs11.C_CloseSession(session);
      } catch {
        // best effort
      }
      throw e;
    }
    lane.session = session;
    lane.generation = this.gen;
    if (old !== null) {
      try {
        this.pkcs11.C_CloseSession(old);
      } catch {
        // The token already dropped it; that is why we are here.
      }
    }
  }
}

export class PoolClosedError extends Error {
  constructor() {
    super('session pool closed');
    this.name = 'PoolClosedError';
  }
}

/**
 * PKCS#11 §5.2: a failed C_Encrypt/C_Decrypt/C_Sign ends the operation, except for
 * CKR_BUFFER_TOO_SMALL; arguments rejected before the call (CKR_ARGUMENTS_BAD, a JS error between
 * init and final) leave it active. KeywardErrors and errors marked `sessionClean` are raised by the
 * adapter with no operation pending.
 */
function mayLeaveOperationActive(e: unknown): boolean {
  if (typeof e === 'object' && e !== null && ((e as { sessionClean?: unknown }).sessionClean === true || (e as { name?: unknown }).name === 'KeywardError')) {
    return false;
  }
  const ckr = ckrOf(e);
  if (ckr === undefined) return true;
  return ckr === pkcs11js.CKR_ARGUMENTS_BAD || ckr === pkcs11js.CKR_OPERATION_ACTIVE || ckr === pkcs11js.CKR_BUFFER_TOO_SMALL;
}
