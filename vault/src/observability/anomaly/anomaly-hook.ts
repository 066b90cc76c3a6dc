/**
 * anomalyHook: puts anomaly detection into the request pipeline.
 * - onAuthenticated: a suspended subject is refused with the ordinary 403 "permission denied" (no
 *   hint that it is a suspension; the pipeline audits the refusal). Checked against a cache with a
 *   short TTL, not the store, on every request.
 * - onResponse: every answered request of an identified caller feeds the detector (time from the
 *   injected Clock). Requests of already-suspended subjects are not fed, so their refusals do not
 *   pile up alerts. Never throws.
 */
import { permissionDenied } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { PipelineHook } from '../../http/pipeline-ports.js';
import type { AnomalyService } from './anomaly-service.js';

export function anomalyHook(service: AnomalyService, clock: Clock): PipelineHook {
  return {
    onAuthenticated(ctx) {
      if (!ctx.principal) return undefined;
      // Fresh suspension set: answered without a promise; otherwise re-read first.
      const now = service.suspensions.isSuspendedNow(ctx.principal.subject);
      if (now === false) return undefined;
      if (now === true) return Promise.reject(permissionDenied());
      return service.suspensions.isSuspended(ctx.principal.subject).then((suspended) => {
        if (suspended) throw permissionDenied();
      });
    },
    onResponse(info) {
      const p = info.ctx?.principal;
      if (!info.ctx || !p) return;
      if (service.suspensions.knownSuspended(p.subject)) return;
      try {
        service.observe({
          atMs: clock.now().getTime(),
          subject: p.subject,
          role: p.role,
          authMethod: p.authMethod,
          env: info.ctx.env,
          sourceAddress: info.sourceAddress,
          aclPath: info.ctx.aclPath,
          requestId: info.requestId,
          keyName: info.ctx.audit.keyName ?? null,
          status: info.status,
          errorCode: info.errorCode,
        });
      } catch {
        // observers never fail a request
      }
    },
  };
}
