/** Many distinct keys: ≥ count different (env, key) used within the window — enumeration or bulk export. */
import { keyIdOf, type Baseline, type Finding, type ObservedEvent } from '../baseline.js';
import type { AnomalyThresholds } from '../config.js';

export function detectDistinctKeys(b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds): Finding | null {
  if (keyIdOf(e) === null || b.keysLastSeen.size < t.distinctKeys.count) return null;
  return { kind: 'many_distinct_keys', details: { distinct_keys: b.keysLastSeen.size, window_seconds: t.distinctKeys.windowSeconds } };
}
