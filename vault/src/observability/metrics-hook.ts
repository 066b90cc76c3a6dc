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

type RequestLabels = Readonly<{ operation: string; status: string; env: string }>;

export function metricsHook(metrics: Metrics): PipelineHook {
  // Label objects per (operation, status, env) and per operation, built once: the label sets are
  // closed (see metrics.ts), so these maps stay small; prom-client only reads them.
  const requestLabels = new Map<string, RequestLabels>();
  const durationLabels = new Map<string, Readonly<{ operation: string }>>();
  const labelsOf = (operation: string, status: number, env: string): RequestLabels => {
    const key = `${operation}\u0000${status}\u0000${env}`;
    let l = requestLabels.get(key);
    if (l === undefined) {
      l = { operation, status: String(status), env };
      requestLabels.set(key, l);
    }
    return l;
  };
  const durationOf = (operation: string): Readonly<{ operation: string }> => {
    let l = durationLabels.get(operation);
    if (l === undefined) {
      l = { operation };
      durationLabels.set(operation, l);
    }
    return l;
  };
  return {
    onResponse(info) {
      try {
        const env = info.ctx?.env ?? 'none';
        metrics.requests.inc(labelsOf(info.operation, info.status, env));
        metrics.requestDuration.observe(durationOf(info.operation), info.durationMs / 1000);
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
