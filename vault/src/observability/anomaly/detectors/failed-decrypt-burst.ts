/**
 * Burst of failed decryptions: ≥ count ERR_DECRYPTION_FAILED answers within the window — someone
 * probing ciphertexts or using the wrong context. (Failures inside a batch that answers 200 are
 * not visible at this level.)
 */
import { isFailedDecrypt, type Baseline, type Finding, type ObservedEvent } from '../baseline.js';
import type { AnomalyThresholds } from '../config.js';

export function detectFailedDecryptBurst(b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds): Finding | null {
  if (!isFailedDecrypt(e) || b.failedDecryptTimes.length < t.failedDecryptBurst.count) return null;
  return { kind: 'failed_decrypt_burst', details: { failures: b.failedDecryptTimes.length, window_seconds: t.failedDecryptBurst.windowSeconds } };
}
