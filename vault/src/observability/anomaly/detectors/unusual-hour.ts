/** Use outside usual hours: the hour of day holds < minSharePercent of the history (after warm-up). */
import { hourOf, type Baseline, type Finding, type ObservedEvent } from '../baseline.js';
import type { AnomalyThresholds } from '../config.js';

export function detectUnusualHour(b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds): Finding | null {
  const c = t.unusualHour;
  if (b.hourTotal < c.warmupRequests) return null;
  const hour = hourOf(e.atMs, c.utcOffsetMinutes);
  const share = ((b.hourCounts[hour] ?? 0) / b.hourTotal) * 100;
  if (share >= c.minSharePercent) return null;
  const last = b.lastAlertMs.unusual_hour;
  if (last !== undefined && e.atMs - last < c.cooldownSeconds * 1000) return null;
  return { kind: 'unusual_hour', details: { hour, share_percent: Math.round(share * 100) / 100, history_requests: b.hourTotal } };
}
