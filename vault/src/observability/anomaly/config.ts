/**
 * Anomaly thresholds: one object, defaults here, operator overrides (POST sys/anomalies/config
 * `thresholds`) merged over them per detector and validated by zod (positive numbers only).
 * Defaults aim at "a human would want to look": rare enough not to page on normal service traffic.
 */
import { z } from 'zod';

export interface AnomalyThresholds {
  /** Current minute > factor × EWMA(requests/minute) and > floor, once the EWMA has warmupMinutes. */
  readonly rateSpike: { readonly factor: number; readonly floor: number; readonly warmupMinutes: number; readonly alpha: number };
  /** A /24 or /64 not seen before, once the identity has made warmupRequests requests. */
  readonly newNetwork: { readonly warmupRequests: number; readonly maxNetworks: number };
  /** ≥ count 403s within windowSeconds. */
  readonly denialBurst: { readonly count: number; readonly windowSeconds: number };
  /** ≥ count ERR_DECRYPTION_FAILED within windowSeconds. */
  readonly failedDecryptBurst: { readonly count: number; readonly windowSeconds: number };
  /** ≥ count distinct (env, key) used within windowSeconds. */
  readonly distinctKeys: { readonly count: number; readonly windowSeconds: number };
  /** Hour of day (UTC + utcOffsetMinutes) holding < minSharePercent of the history, after warmupRequests. */
  readonly unusualHour: {
    readonly warmupRequests: number;
    readonly minSharePercent: number;
    readonly cooldownSeconds: number;
    readonly utcOffsetMinutes: number;
  };
}

export const DEFAULT_ANOMALY_THRESHOLDS: AnomalyThresholds = Object.freeze({
  rateSpike: { factor: 5, floor: 60, warmupMinutes: 10, alpha: 0.1 },
  newNetwork: { warmupRequests: 50, maxNetworks: 256 },
  denialBurst: { count: 10, windowSeconds: 60 },
  failedDecryptBurst: { count: 10, windowSeconds: 60 },
  distinctKeys: { count: 50, windowSeconds: 300 },
  unusualHour: { warmupRequests: 200, minSharePercent: 1, cooldownSeconds: 3600, utcOffsetMinutes: 0 },
});

const pos = z.number().positive().finite();
const posInt = z.number().int().positive();
const window = z.object({ count: posInt, windowSeconds: pos }).partial().strict();

export const thresholdOverridesSchema = z
  .object({
    rateSpike: z.object({ factor: pos, floor: z.number().nonnegative(), warmupMinutes: posInt, alpha: z.number().gt(0).lte(1) }).partial().strict(),
    newNetwork: z.object({ warmupRequests: z.number().int().nonnegative(), maxNetworks: posInt }).partial().strict(),
    denialBurst: window,
    failedDecryptBurst: window,
    distinctKeys: window,
    unusualHour: z
      .object({ warmupRequests: posInt, minSharePercent: z.number().gt(0).lt(100), cooldownSeconds: z.number().nonnegative(), utcOffsetMinutes: z.number().int().min(-14 * 60).max(14 * 60) })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export type ThresholdOverrides = z.output<typeof thresholdOverridesSchema>;

export function mergeThresholds(overrides: ThresholdOverrides, base: AnomalyThresholds = DEFAULT_ANOMALY_THRESHOLDS): AnomalyThresholds {
  return {
    rateSpike: { ...base.rateSpike, ...overrides.rateSpike },
    newNetwork: { ...base.newNetwork, ...overrides.newNetwork },
    denialBurst: { ...base.denialBurst, ...overrides.denialBurst },
    failedDecryptBurst: { ...base.failedDecryptBurst, ...overrides.failedDecryptBurst },
    distinctKeys: { ...base.distinctKeys, ...overrides.distinctKeys },
    unusualHour: { ...base.unusualHour, ...overrides.unusualHour },
  };
}

/** Stored overrides that no longer validate (older schema) are ignored rather than trusted. */
export function thresholdsFromStored(stored: Readonly<Record<string, unknown>>): AnomalyThresholds {
  const parsed = thresholdOverridesSchema.safeParse(stored);
  return mergeThresholds(parsed.success ? parsed.data : {});
}
