/**
 * Per-identity behaviour baseline and its bookkeeping. The detection cycle for one event is:
 *   advance(b, e)  → roll the minute counter into the EWMA, add the event to the sliding windows
 *   detectors      → read-only over (b, e): compare the event with what was learned BEFORE it
 *   learn(b, e)    → fold the event into the long-term history (networks, hours)
 *   noteAlert      → remember the alert; burst windows restart so one burst gives one alert
 * Baselines are per process, in memory: a restart (or another worker) starts learning afresh.
 *
 * Invariants: every window holds only entries within its configured span after advance();
 * `networks` never exceeds maxNetworks (oldest forgotten first); hour counts sum to hourTotal.
 */
import type { AnomalyThresholds } from './config.js';
import { sourceNetwork } from './network.js';

export type AnomalyKind =
  | 'rate_spike'
  | 'new_source_network'
  | 'denial_burst'
  | 'failed_decrypt_burst'
  | 'many_distinct_keys'
  | 'unusual_hour'
  // Raised outside the detectors: a consumed wrapping token presented again (interception).
  | 'wrapping_reuse';

export interface ObservedEvent {
  readonly atMs: number;
  readonly subject: string;
  readonly role: string | null;
  readonly authMethod: string;
  readonly env: string;
  readonly sourceAddress: string;
  readonly aclPath: string;
  readonly requestId: string;
  readonly keyName: string | null;
  readonly status: number;
  readonly errorCode: string | null;
}

export interface Baseline {
  readonly subject: string;
  /** Requests seen before the current event. */
  totalRequests: number;
  minuteIndex: number;
  minuteCount: number;
  ewmaPerMinute: number;
  minutesObserved: number;
  readonly networks: Set<string>;
  readonly hourCounts: number[];
  hourTotal: number;
  denialTimes: number[];
  failedDecryptTimes: number[];
  readonly keysLastSeen: Map<string, number>;
  readonly lastAlertMs: Partial<Record<AnomalyKind, number>>;
  lastSeenMs: number;
}

export interface Finding {
  readonly kind: AnomalyKind;
  readonly details: Readonly<Record<string, unknown>>;
}

const MINUTE_MS = 60_000;

export function newBaseline(subject: string, atMs: number): Baseline {
  return {
    subject,
    totalRequests: 0,
    minuteIndex: Math.floor(atMs / MINUTE_MS),
    minuteCount: 0,
    ewmaPerMinute: 0,
    minutesObserved: 0,
    networks: new Set(),
    hourCounts: Array<number>(24).fill(0),
    hourTotal: 0,
    denialTimes: [],
    failedDecryptTimes: [],
    keysLastSeen: new Map(),
    lastAlertMs: {},
    lastSeenMs: atMs,
  };
}

export function hourOf(atMs: number, utcOffsetMinutes: number): number {
  return new Date(atMs + utcOffsetMinutes * 60_000).getUTCHours();
}

export const isDenial = (e: ObservedEvent): boolean => e.status === 403;
export const isFailedDecrypt = (e: ObservedEvent): boolean => e.errorCode === 'ERR_DECRYPTION_FAILED';
export const keyIdOf = (e: ObservedEvent): string | null => (e.keyName ? `${e.env}/${e.keyName}` : null);

export function advance(b: Baseline, e: ObservedEvent, t: AnomalyThresholds): void {
  const minute = Math.floor(e.atMs / MINUTE_MS);
  if (minute > b.minuteIndex) {
    const alpha = t.rateSpike.alpha;
    // The finished minute, then one zero per idle minute in between (a quiet hour lowers the rate).
    b.ewmaPerMinute = b.minutesObserved === 0 ? b.minuteCount : alpha * b.minuteCount + (1 - alpha) * b.ewmaPerMinute;
    const idle = Math.min(minute - b.minuteIndex - 1, 100_000);
    b.ewmaPerMinute *= Math.pow(1 - alpha, idle);
    b.minutesObserved += 1 + idle;
    b.minuteIndex = minute;
    b.minuteCount = 0;
  }
  b.minuteCount += 1;
  b.lastSeenMs = Math.max(b.lastSeenMs, e.atMs);

  const denialFrom = e.atMs - t.denialBurst.windowSeconds * 1000;
  b.denialTimes = b.denialTimes.filter((x) => x > denialFrom);
  if (isDenial(e)) b.denialTimes.push(e.atMs);

  const decryptFrom = e.atMs - t.failedDecryptBurst.windowSeconds * 1000;
  b.failedDecryptTimes = b.failedDecryptTimes.filter((x) => x > decryptFrom);
  if (isFailedDecrypt(e)) b.failedDecryptTimes.push(e.atMs);

  const keysFrom = e.atMs - t.distinctKeys.windowSeconds * 1000;
  for (const [k, at] of b.keysLastSeen) if (at <= keysFrom) b.keysLastSeen.delete(k);
  const keyId = keyIdOf(e);
  if (keyId) {
    b.keysLastSeen.delete(keyId); // re-insert: Map order stays oldest-first
    b.keysLastSeen.set(keyId, e.atMs);
  }
}

export function learn(b: Baseline, e: ObservedEvent, t: AnomalyThresholds): void {
  b.totalRequests += 1;
  const netId = sourceNetwork(e.sourceAddress);
  if (netId && !b.networks.has(netId)) {
    b.networks.add(netId);
    while (b.networks.size > t.newNetwork.maxNetworks) {
      const oldest = b.networks.values().next().value;
      if (oldest === undefined) break;
      b.networks.delete(oldest);
    }
  }
  const h = hourOf(e.atMs, t.unusualHour.utcOffsetMinutes);
  b.hourCounts[h] = (b.hourCounts[h] ?? 0) + 1;
  b.hourTotal += 1;
}

export function noteAlert(b: Baseline, kind: AnomalyKind, atMs: number): void {
  b.lastAlertMs[kind] = atMs;
  if (kind === 'denial_burst') b.denialTimes = [];
  if (kind === 'failed_decrypt_burst') b.failedDecryptTimes = [];
  if (kind === 'many_distinct_keys') b.keysLastSeen.clear();
}
