/**
 * SessionPool.runNow (call mode 'sync'): a synchronous operation takes a free lane without a
 * promise, never a busy one, and a failure that may leave an operation active replaces the session.
 */
import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import type { Pkcs11 } from '../../../vault/src/adapters/pkcs11/library.js';
import { LANES_BUSY, PoolClosedError, SessionPool } from '../../../vault/src/adapters/pkcs11/session-pool.js';

/** Just enough of a PKCS#11 module for the pool: sessions that are already logged in. */
function fakeModule(): { pkcs11: Pkcs11; opened: number[]; closed: number[] } {
  let next = 1;
  const opened: number[] = [];
  const closed: number[] = [];
  const fake = {
    C_OpenSession: () => {
      const n = next++;
      opened.push(n);
      return Buffer.from([n]);
    },
    C_GetSessionInfo: () => ({ state: 3 }), // CKS_RW_USER_FUNCTIONS
    C_Login: () => undefined,
    C_CloseSession: (s: Buffer) => void closed.push(s[0] as number),
  };
  return { pkcs11: fake as unknown as Pkcs11, opened, closed };
}

const slot = Buffer.from([0]);
const sessionNo = (s: Buffer): number => s[0] as number;

describe('SessionPool.runNow', () => {
  it('when a lane is free, then the function runs at once on it and the lane is free again afterwards', () => {
    const { pkcs11 } = fakeModule();
    const pool = new SessionPool(pkcs11, slot, 'pin', 1);
    const first = pool.runNow((lane) => sessionNo(lane.session));
    const second = pool.runNow((lane) => sessionNo(lane.session));
    expect(first).toBe(1);
    expect(second).toBe(1); // same session reused: it was released
  });

  it('when every lane is held by an async operation, then it runs nothing and answers LANES_BUSY; the queued waiter gets the lane first', async () => {
    const { pkcs11 } = fakeModule();
    const pool = new SessionPool(pkcs11, slot, 'pin', 1);
    let finish!: () => void;
    const holding = pool.with(() => new Promise<void>((resolve) => (finish = resolve)));
    await Promise.resolve(); // let `with` take the lane
    let ran = false;
    expect(
      pool.runNow(() => {
        ran = true;
      }),
    ).toBe(LANES_BUSY);
    expect(ran).toBe(false);
    const queued = pool.with((lane) => sessionNo(lane.session));
    finish();
    await holding;
    // the lane went straight to the waiter: still busy for a synchronous caller until it is done
    expect(pool.runNow(() => 'x')).toBe(LANES_BUSY);
    expect(await queued).toBe(1);
    expect(pool.runNow(() => 'x')).toBe('x');
  });

  it('when the function fails with an error that may leave an operation active, then the next use gets a fresh session', () => {
    const { pkcs11, opened, closed } = fakeModule();
    const pool = new SessionPool(pkcs11, slot, 'pin', 1);
    const bad = Object.assign(new Error('bad args'), { code: pkcs11js.CKR_ARGUMENTS_BAD });
    expect(() =>
      pool.runNow(() => {
        throw bad;
      }),
    ).toThrow(bad);
    expect(pool.runNow((lane) => sessionNo(lane.session))).toBe(2);
    expect(opened).toEqual([1, 2]);
    expect(closed).toEqual([1]);
    // a failure that ends the operation (e.g. a GCM tag error) keeps the session
    const ended = Object.assign(new Error('general'), { code: pkcs11js.CKR_GENERAL_ERROR });
    expect(() =>
      pool.runNow(() => {
        throw ended;
      }),
    ).toThrow(ended);
    expect(pool.runNow((lane) => sessionNo(lane.session))).toBe(2);
  });

  it('when the pool is closed, then it throws PoolClosedError', () => {
    const { pkcs11 } = fakeModule();
    const pool = new SessionPool(pkcs11, slot, 'pin', 2);
    pool.close();
    expect(() => pool.runNow(() => 1)).toThrow(PoolClosedError);
  });
});
