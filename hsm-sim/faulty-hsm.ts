/**
 * FaultyHsm: wraps any Hsm and injects device faults, for fault tests (test/faults) and the soak.
 *
 * Faults are drawn from a seeded PRNG (mulberry32), never from the clock: a failing run is replayed
 * by passing the printed `seed` back in (STYLE.md "Not to copy"). Kinds of fault:
 * - random failures per method (probability), as CKR_DEVICE_ERROR, CKR_SESSION_HANDLE_INVALID or
 *   CKR_TOKEN_NOT_PRESENT, surfaced exactly as Pkcs11Hsm surfaces them: a real pkcs11js
 *   Pkcs11Error run through the adapter's own translation (pkcs11-errors.ts `toKeywardError`), i.e.
 *   ERR_HSM_UNAVAILABLE with the CKR name in the cause, never in the message;
 * - latency (fixed, or uniform up to N ms) before every call;
 * - hangs: a call that never settles until `release()` (then it fails as CKR_DEVICE_ERROR, so a
 *   late caller never sees an operation happen after it gave up);
 * - a programmable mode: `failNext(n, kind)`, `hangNext(n)`, `down()` / `up()` (a dead token that
 *   comes back).
 *
 * Invariant: a faulted call never reaches the wrapped device (no half-done operation behind a
 * reported failure). `close()` is never faulted, so tests can always shut down.
 */
import pkcs11js from 'pkcs11js';
import { toKeywardError } from '../vault/src/adapters/pkcs11/pkcs11-errors.js';
import type { Hsm, HsmStatus, PublicJwk, RootKeyRef, WrappedKeyRef } from '../vault/src/core/ports/hsm.js';
import { mulberry32 } from './seeded-random.js';

export const HSM_FAULT_KINDS = ['CKR_DEVICE_ERROR', 'CKR_SESSION_HANDLE_INVALID', 'CKR_TOKEN_NOT_PRESENT'] as const;
export type HsmFaultKind = (typeof HSM_FAULT_KINDS)[number];

export type HsmMethod = Exclude<keyof Hsm, 'close'>;
export const HSM_METHODS: readonly HsmMethod[] = [
  'ensureRootKey', 'hasRootKey', 'destroyRootKey', 'generateWrappedKey', 'rewrapKey', 'forgetKey', 'seal', 'open',
  'randomBytes', 'ensureSigningKey', 'signEs256', 'ensureMacKey', 'hmacSha256', 'destroyKeyByLabel', 'status',
];

/** A probability for every method, or per method (unlisted methods: 0). */
export type PerMethod = number | Partial<Record<HsmMethod, number>>;

export interface FaultyHsmOptions {
  /** PRNG seed (32-bit). Random when absent; read it back from `seed` and print it on failure. */
  readonly seed?: number;
  /** Probability that a call fails with a random kind from `kinds`. Default 0. */
  readonly failureRate?: PerMethod;
  /** Kinds drawn for random failures. Default: all three. */
  readonly kinds?: readonly HsmFaultKind[];
  /** Delay before each call: a fixed number of ms, or `{ maxMs }` for uniform 0..maxMs. Default 0. */
  readonly latency?: number | { readonly maxMs: number };
  /** Probability that a call hangs until `release()`. Default 0. */
  readonly hangRate?: PerMethod;
}

const CKR: Record<HsmFaultKind, number> = {
  CKR_DEVICE_ERROR: pkcs11js.CKR_DEVICE_ERROR,
  CKR_SESSION_HANDLE_INVALID: pkcs11js.CKR_SESSION_HANDLE_INVALID,
  CKR_TOKEN_NOT_PRESENT: pkcs11js.CKR_TOKEN_NOT_PRESENT,
};

function rateFor(rate: PerMethod | undefined, method: HsmMethod): number {
  if (rate === undefined) return 0;
  return typeof rate === 'number' ? rate : (rate[method] ?? 0);
}

/** The error Pkcs11Hsm would throw for this CKR during `method`. */
export function simulatedFault(kind: HsmFaultKind, method: string): Error {
  return toKeywardError(new pkcs11js.Pkcs11Error(kind, CKR[kind], `C_${method}`), method);
}

export class FaultyHsm implements Hsm {
  readonly seed: number;
  private readonly random: () => number;
  private options: FaultyHsmOptions;
  private forced: Array<{ kind: HsmFaultKind | 'hang' }> = [];
  private downKind: HsmFaultKind | null = null;
  private readonly hung = new Set<() => void>();
  /** Calls made to this wrapper, per method (what a breaker in front of it let through). */
  readonly attempts = new Map<HsmMethod, number>();
  /** Calls that reached the wrapped device. */
  deviceCalls = 0;
  /** Faults injected so far (failures and hangs). */
  faults = 0;
  private lastStatus: HsmStatus | undefined;

  constructor(
    private readonly inner: Hsm,
    options: FaultyHsmOptions = {},
  ) {
    this.seed = (options.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
    this.random = mulberry32(this.seed);
    this.options = options;
  }

  /** Change rates/latency at run time (e.g. "faults stop now"). The PRNG stream continues. */
  configure(options: Omit<FaultyHsmOptions, 'seed'>): void {
    this.options = { ...options };
  }

  /** The next `n` calls fail with `kind` (after any already queued). */
  failNext(n: number, kind: HsmFaultKind = 'CKR_DEVICE_ERROR'): void {
    for (let i = 0; i < n; i++) this.forced.push({ kind });
  }

  /** The next `n` calls hang until `release()`. */
  hangNext(n: number): void {
    for (let i = 0; i < n; i++) this.forced.push({ kind: 'hang' });
  }

  /** The token is gone: every call fails with `kind` until `up()`. */
  down(kind: HsmFaultKind = 'CKR_TOKEN_NOT_PRESENT'): void {
    this.downKind = kind;
  }

  up(): void {
    this.downKind = null;
  }

  get isDown(): boolean {
    return this.downKind !== null;
  }

  /** Total calls made to this wrapper. */
  get totalAttempts(): number {
    let n = 0;
    for (const v of this.attempts.values()) n += v;
    return n;
  }

  /** Calls currently hanging. */
  get hanging(): number {
    return this.hung.size;
  }

  /** Settle every hanging call (as CKR_DEVICE_ERROR). */
  release(): void {
    const pending = [...this.hung];
    this.hung.clear();
    for (const settle of pending) settle();
  }

  private async call<T>(method: HsmMethod, fn: () => Promise<T>): Promise<T> {
    this.attempts.set(method, (this.attempts.get(method) ?? 0) + 1);
    const latency = this.options.latency;
    if (latency !== undefined) {
      const ms = typeof latency === 'number' ? latency : Math.floor(this.random() * (latency.maxMs + 1));
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    }
    if (this.downKind !== null) {
      this.faults++;
      throw simulatedFault(this.downKind, method);
    }
    const forced = this.forced.shift();
    if (forced?.kind === 'hang' || (forced === undefined && this.random() < rateFor(this.options.hangRate, method))) {
      this.faults++;
      await new Promise<void>((resolve) => this.hung.add(resolve));
      throw simulatedFault('CKR_DEVICE_ERROR', method);
    }
    if (forced !== undefined) {
      this.faults++;
      throw simulatedFault(forced.kind, method);
    }
    if (this.random() < rateFor(this.options.failureRate, method)) {
      const kinds = this.options.kinds ?? HSM_FAULT_KINDS;
      const kind = kinds[Math.floor(this.random() * kinds.length)] ?? 'CKR_DEVICE_ERROR';
      this.faults++;
      throw simulatedFault(kind, method);
    }
    this.deviceCalls++;
    return fn();
  }

  ensureRootKey(root: RootKeyRef): Promise<void> {
    return this.call('ensureRootKey', () => this.inner.ensureRootKey(root));
  }
  hasRootKey(root: RootKeyRef): Promise<boolean> {
    return this.call('hasRootKey', () => this.inner.hasRootKey(root));
  }
  destroyRootKey(root: RootKeyRef): Promise<void> {
    return this.call('destroyRootKey', () => this.inner.destroyRootKey(root));
  }
  generateWrappedKey(root: RootKeyRef): Promise<Uint8Array> {
    return this.call('generateWrappedKey', () => this.inner.generateWrappedKey(root));
  }
  rewrapKey(key: WrappedKeyRef, to: RootKeyRef): Promise<Uint8Array> {
    return this.call('rewrapKey', () => this.inner.rewrapKey(key, to));
  }
  forgetKey(cacheId: string): Promise<void> {
    return this.call('forgetKey', () => this.inner.forgetKey(cacheId));
  }
  seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return this.call('seal', () => this.inner.seal(key, plaintext, aad));
  }
  open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return this.call('open', () => this.inner.open(key, sealed, aad));
  }
  randomBytes(length: number): Promise<Buffer> {
    return this.call('randomBytes', () => this.inner.randomBytes(length));
  }
  ensureSigningKey(label: string): Promise<PublicJwk> {
    return this.call('ensureSigningKey', () => this.inner.ensureSigningKey(label));
  }
  signEs256(label: string, data: Uint8Array): Promise<Buffer> {
    return this.call('signEs256', () => this.inner.signEs256(label, data));
  }
  ensureMacKey(label: string): Promise<void> {
    return this.call('ensureMacKey', () => this.inner.ensureMacKey(label));
  }
  hmacSha256(label: string, data: Uint8Array): Promise<Buffer> {
    return this.call('hmacSha256', () => this.inner.hmacSha256(label, data));
  }
  destroyKeyByLabel(label: string): Promise<void> {
    return this.call('destroyKeyByLabel', () => this.inner.destroyKeyByLabel(label));
  }

  /** Like Pkcs11Hsm.status(): a failing device is reported, not thrown. */
  async status(): Promise<HsmStatus> {
    try {
      const status = await this.call('status', () => this.inner.status());
      this.lastStatus = status;
      return status;
    } catch (e) {
      // The device is "gone": report the names last seen rather than asking it.
      const seen = this.lastStatus ?? { module: 'unknown', tokenLabel: 'unknown' };
      return { available: false, module: seen.module, tokenLabel: seen.tokenLabel, message: e instanceof Error ? e.message : 'HSM unavailable' };
    }
  }

  async close(): Promise<void> {
    this.release();
    await this.inner.close();
  }
}
