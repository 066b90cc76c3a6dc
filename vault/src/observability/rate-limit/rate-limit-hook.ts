/**
 * rateLimitHook: puts a RateLimiter into the request pipeline.
 * - onRequest (before authentication): source-address quotas. app.ts does not audit refusals made
 *   here, so this hook writes the `rate_limited` lifecycle entry itself. If that write fails the
 *   request is STILL refused (a failed audit must never turn a refusal into an admission); the
 *   failure is logged.
 * - onAuthenticated: identity quotas. A refusal thrown here is audited by the pipeline's response
 *   entry (outcome error, ERR_RATE_LIMITED), so no extra write.
 * Either way the caller gets 429 with Retry-After (`retryAfterSeconds`).
 */
import type { Logger } from 'pino';
import { KeywardError } from '../../core/errors.js';
import type { AuditSink } from '../../core/ports/audit-sink.js';
import type { Clock } from '../../core/ports/clock.js';
import type { PipelineHook } from '../../http/pipeline-ports.js';
import { aclPathOfRequestPath, type RateLimiter, type RateLimitRefusal } from './rate-limiter.js';

export interface RateLimitHookDeps {
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger?: Pick<Logger, 'error'>;
}

export function rateLimited(r: RateLimitRefusal): KeywardError {
  return new KeywardError('ERR_RATE_LIMITED', 'request rate limit exceeded', { retryAfterSeconds: r.retryAfterSeconds });
}

export function rateLimitHook(limiter: RateLimiter, deps: RateLimitHookDeps): PipelineHook {
  /** Audits the source-stage refusal (best effort) and refuses: always rejects. */
  const refuseSource = async (info: SourceInfo, refusal: RateLimitRefusal): Promise<never> => {
    try {
      await deps.audit.record({
        type: 'lifecycle',
        time: deps.clock.now(),
        requestId: info.requestId,
        sourceAddress: info.sourceAddress,
        operation: 'rate_limited',
        path: aclPathOfRequestPath(info.path),
        outcome: 'denied',
        status: 429,
        errorCode: 'ERR_RATE_LIMITED',
        details: { quota: refusal.quota, stage: refusal.stage, method: info.method, retry_after_seconds: refusal.retryAfterSeconds },
      });
    } catch (e) {
      deps.logger?.error({ requestId: info.requestId, err: e }, 'audit of rate-limited request failed; refusing anyway');
    }
    throw rateLimited(refusal);
  };
  // Both checks answer synchronously (no promise, no microtask hop) while the quotas are fresh;
  // a refusal is always a rejected promise, as before.
  return {
    onRequest(info) {
      const now = limiter.checkSourceNow(info);
      if (now === null) return undefined;
      if (now !== undefined) return refuseSource(info, now);
      return limiter.checkSource(info).then((refusal) => (refusal ? refuseSource(info, refusal) : undefined));
    },
    onAuthenticated(ctx) {
      const req = { env: ctx.env, aclPath: ctx.aclPath, sourceAddress: ctx.sourceAddress, principal: ctx.principal };
      const now = limiter.checkIdentityNow(req);
      if (now === null) return undefined;
      if (now !== undefined) return Promise.reject(rateLimited(now));
      return limiter.checkIdentity(req).then((refusal) => {
        if (refusal) throw rateLimited(refusal);
      });
    },
  };
}

type SourceInfo = Parameters<NonNullable<PipelineHook['onRequest']>>[0];
