/**
 * AnomalyDetector: keeps one Baseline per identity (subject) and runs every detector over each
 * observed request. Synchronous and side-effect free apart from its own baselines: what to do with
 * a finding (audit, store, webhook, suspension) is the AnomalyService's job.
 *
 * Invariants: memory is bounded by maxSubjects (least recently seen identity forgotten first);
 * detectors see the baseline as it was before the event's long-term learning.
 */
import { advance, learn, newBaseline, noteAlert, type Baseline, type Finding, type ObservedEvent } from './baseline.js';
import { DEFAULT_ANOMALY_THRESHOLDS, type AnomalyThresholds } from './config.js';
import { detectDenialBurst } from './detectors/denial-burst.js';
import { detectDistinctKeys } from './detectors/distinct-keys.js';
import { detectFailedDecryptBurst } from './detectors/failed-decrypt-burst.js';
import { detectNewNetwork } from './detectors/new-network.js';
import { detectRateSpike } from './detectors/rate-spike.js';
import { detectUnusualHour } from './detectors/unusual-hour.js';

export type Detector = (b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds) => Finding | null;

export const DETECTORS: readonly Detector[] = [detectRateSpike, detectNewNetwork, detectDenialBurst, detectFailedDecryptBurst, detectDistinctKeys, detectUnusualHour];

export class AnomalyDetector {
  private readonly baselines = new Map<string, Baseline>();
  private thresholds: AnomalyThresholds;
  private readonly maxSubjects: number;

  constructor(options: { thresholds?: AnomalyThresholds; maxSubjects?: number } = {}) {
    this.thresholds = options.thresholds ?? DEFAULT_ANOMALY_THRESHOLDS;
    this.maxSubjects = options.maxSubjects ?? 50_000;
  }

  setThresholds(t: AnomalyThresholds): void {
    this.thresholds = t;
  }

  getThresholds(): AnomalyThresholds {
    return this.thresholds;
  }

  observe(e: ObservedEvent): Finding[] {
    let b = this.baselines.get(e.subject);
    if (b) {
      this.baselines.delete(e.subject); // re-insert keeps Map order = least recently seen first
    } else {
      b = newBaseline(e.subject, e.atMs);
      while (this.baselines.size >= this.maxSubjects) {
        const oldest = this.baselines.keys().next().value;
        if (oldest === undefined) break;
        this.baselines.delete(oldest);
      }
    }
    this.baselines.set(e.subject, b);
    const t = this.thresholds;
    advance(b, e, t);
    const findings: Finding[] = [];
    for (const d of DETECTORS) {
      const f = d(b, e, t);
      if (f) findings.push(f);
    }
    learn(b, e, t);
    for (const f of findings) noteAlert(b, f.kind, e.atMs);
    return findings;
  }

  forget(subject: string): void {
    this.baselines.delete(subject);
  }
}
