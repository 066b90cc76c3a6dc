/** Request-rate spike: this minute's count > factor × EWMA of past minutes and > floor; once per minute. */
import type { Baseline, Finding, ObservedEvent } from '../baseline.js';
import type { AnomalyThresholds } from '../config.js';

export function detectRateSpike(b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds): Finding | null {
  const c = t.rateSpike;
  if (b.minutesObserved < c.warmupMinutes) return null;
  if (b.minuteCount <= c.floor || b.minuteCount <= c.factor * b.ewmaPerMinute) return null;
  const last = b.lastAlertMs.rate_spike;
  if (last !== undefined && Math.floor(last / 60_000) === Math.floor(e.atMs / 60_000)) return null;
  return {
    kind: 'rate_spike',
    details: { requests_this_minute: b.minuteCount, baseline_per_minute: Math.round(b.ewmaPerMinute * 100) / 100, factor: c.factor, floor: c.floor },
  };
}
