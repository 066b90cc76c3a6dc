/**
 * Root KEK rotation of the request's environment (the token's namespace):
 *   POST /v1/sys/rotate      — sudo on sys/rotate; starts the rotation and answers 202-style at once
 *                              with the new term (the re-wrap job runs in the background and resumes
 *                              after a restart). Vault answers 204; Keyward returns the job, so
 *                              operators (and `keyward rotate --root`) can follow it.
 *   GET  /v1/sys/key-status  — Vault's `term` and `install_time` (RFC 3339) of the active root, plus
 *                              Keyward's `rotation` progress and every term with its state.
 * `encryptions` is omitted on purpose: Keyward does not count root-key use (root keys only wrap key
 * versions), and a made-up 0 would mislead; Vault before 1.7 answered without it too.
 */
import type { Environment } from '../../../core/types.js';
import type { RootRotation } from '../../../usecases/lifecycle/rotate-root.js';
import type { RouteSpec } from '../../route-spec.js';

export interface RootRotationRouteDeps {
  readonly rootRotation: RootRotation;
  /** Runs the re-wrap job in the background (main.ts: resume + log failures). */
  readonly runInBackground: (env: Environment) => void;
}

export function rootRotationRoutes(deps: RootRotationRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/rotate',
      operation: 'sys.rotate',
      capability: 'sudo',
      handler: async (_req, ctx) => {
        const job = await deps.rootRotation.start(ctx.env);
        Object.assign(ctx.audit.details, { from_term: job.fromTerm, to_term: job.toTerm, total: job.total });
        deps.runInBackground(ctx.env);
        return { data: { term: job.toTerm, from_term: job.fromTerm, total: job.total, started_at: job.startedAt.toISOString() } };
      },
    },
    {
      method: 'GET',
      path: '/sys/key-status',
      operation: 'sys.key-status',
      handler: async (_req, ctx) => {
        const s = await deps.rootRotation.status(ctx.env);
        const r = s.rotation;
        return {
          data: {
            term: s.term,
            install_time: s.installTime.toISOString(),
            rotation: r
              ? { state: s.rotationState, from_term: r.fromTerm, to_term: r.toTerm, total: r.total, done: r.done, started_at: r.startedAt.toISOString(), finished_at: r.finishedAt?.toISOString() ?? null }
              : { state: s.rotationState },
            terms: s.terms.map((t) => ({ term: t.term, state: t.state, install_time: t.installedAt.toISOString(), retired_at: t.retiredAt?.toISOString() ?? null })),
          },
        };
      },
    },
  ];
}
