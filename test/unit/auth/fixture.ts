/** Shared set-up for the auth unit tests: MemoryHsm + MemoryTokenStore + a hand-driven clock. */
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import type { Clock } from '../../../vault/src/core/ports/clock.js';
import type { TokenStore } from '../../../vault/src/core/ports/token-store.js';
import { parseEnvironment } from '../../../vault/src/core/types.js';
import { TokenService, type TokenServiceOptions } from '../../../vault/src/auth/token-service.js';
import { tokenDenialReason } from '../../../vault/src/auth/token-denial.js';
import { MemoryTokenStore } from '../../helpers/memory-token-store.js';

export const PROD = parseEnvironment('prod');
export const DEV = parseEnvironment('dev');
export const ISSUER = 'https://keyward.test:8200';

export class ManualClock implements Clock {
  constructor(private ms = Date.UTC(2030, 0, 1)) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface Fixture {
  hsm: MemoryHsm;
  store: TokenStore;
  clock: ManualClock;
  service: TokenService;
}

export async function makeFixture(options: Partial<TokenServiceOptions> = {}, shared: Partial<Pick<Fixture, 'hsm' | 'store' | 'clock'>> = {}): Promise<Fixture> {
  const hsm = shared.hsm ?? new MemoryHsm();
  const store = shared.store ?? new MemoryTokenStore();
  const clock = shared.clock ?? new ManualClock();
  const service = new TokenService({ hsm, store }, { issuer: ISSUER, clock, ...options });
  await service.ensureActiveKey();
  return { hsm, store, clock, service };
}

/** Asserts the promise rejects with ERR_PERMISSION_DENIED / 'permission denied' and returns the audit reason. */
export async function deniedReason(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code !== 'ERR_PERMISSION_DENIED' || err.message !== 'permission denied') throw e;
    return tokenDenialReason(e);
  }
  throw new Error('expected permission denied, but the call succeeded');
}
