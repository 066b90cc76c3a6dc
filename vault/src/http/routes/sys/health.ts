/**
 * GET /v1/sys/health: Vault's fields at the top level (no envelope), plus Keyward's `hsm` block
 * and lifecycle warnings. Like Vault it takes `standbyok`, `activecode`, `sealedcode` … query
 * overrides; an unavailable HSM answers `sealedcode` (503 by default): nothing can be served.
 */
import type { Hsm } from '../../../core/ports/hsm.js';
import type { RouteSpec } from '../../route-spec.js';

export interface HealthDeps {
  readonly hsm: Pick<Hsm, 'status'>;
  readonly version: string;
  readonly clusterName: string;
  readonly clusterId: string;
  /** Optional extra health facts (circuit breaker, expiring keys) contributed by other modules. */
  readonly extras?: () => Promise<Record<string, unknown>>;
}

function codeFrom(raw: unknown, fallback: number): number {
  if (typeof raw !== 'string' || !/^\d{3}$/.test(raw)) return fallback;
  const n = Number(raw);
  return n >= 200 && n <= 599 ? n : fallback;
}

export function healthRoutes(deps: HealthDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/sys/health',
      auth: 'none',
      operation: 'sys.health',
      handler: async (req) => {
        let hsm;
        try {
          hsm = await deps.hsm.status();
        } catch {
          hsm = { available: false, module: 'unknown', tokenLabel: 'unknown', message: 'status probe failed' };
        }
        const sealed = !hsm.available;
        const body = {
          initialized: true,
          sealed,
          standby: false,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000),
          version: deps.version,
          cluster_name: deps.clusterName,
          cluster_id: deps.clusterId,
          hsm: { available: hsm.available, module: hsm.module, token_label: hsm.tokenLabel, ...(hsm.message ? { message: hsm.message } : {}) },
          ...(deps.extras ? await deps.extras() : {}),
        };
        const status = sealed ? codeFrom(req.query['sealedcode'], 503) : codeFrom(req.query['activecode'], 200);
        return { status, raw: { contentType: 'application/json', body: JSON.stringify(body) } };
      },
    },
  ];
}
