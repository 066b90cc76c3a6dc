/**
 * metricsHook: a PipelineHook that turns every answered request into request counters and latency,
 * and classifies refusals: a 403 with an identity is a denial (policy said no), a 403 without one is
 * an authentication failure (no/invalid token), ERR_MFA_REQUIRED is an MFA failure.
 * Never throws (onResponse contract): a metrics bug must not change an answer.
 */
import type { PipelineHook } from '../http/pipeline-ports.js';
import type { Metrics } from './metrics.js';

/** Error code → auth-failure reason label (closed set, lower-case, no ERR_ prefix). */
function reasonOf(errorCode: string | null): string {
  return errorCode ? errorCode.replace(/^ERR_/, '').toLowerCase() : 'unknown';
}

export function metricsHook(metrics: Metrics): PipelineHook {
  return {
    onResponse(info) {
      try {
        const env = info.ctx?.env ?? 'none';
        metrics.requests.inc({ operation: info.operation, status: String(info.status), env });
        metrics.requestDuration.observe({ operation: info.operation }, info.durationMs / 1000);
        if (info.errorCode === 'ERR_MFA_REQUIRED') {
          metrics.recordMfaFailure();
        } else if (info.status === 403) {
          if (info.ctx?.principal) metrics.denials.inc({ env });
          else metrics.recordAuthFailure(reasonOf(info.errorCode));
        }
      } catch {
        // observers never fail a request
      }
    },
  };
}
