/** Burst of denials: ≥ count 403 answers within the window (one alert per burst). */
import { isDenial, type Baseline, type Finding, type ObservedEvent } from '../baseline.js';
import type { AnomalyThresholds } from '../config.js';

export function detectDenialBurst(b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds): Finding | null {
  if (!isDenial(e) || b.denialTimes.length < t.denialBurst.count) return null;
  return { kind: 'denial_burst', details: { denials: b.denialTimes.length, window_seconds: t.denialBurst.windowSeconds } };
}
