/**
 * GET /v1/sys/metrics: `?format=prometheus` → Prometheus text exposition; otherwise a Vault-style
 * JSON summary ({Timestamp, Gauges, Counters, Samples}) — both unwrapped, like Vault's answer.
 * Needs a token with `read` on sys/metrics (the default pipeline check): Keyward does not offer
 * Vault's unauthenticated_metrics_access.
 */
import type { Metrics } from '../../../observability/metrics.js';
import type { RouteSpec } from '../../route-spec.js';

export interface MetricsRouteDeps {
  readonly metrics: Pick<Metrics, 'registry' | 'exposition'>;
}

interface JsonMetric {
  name: string;
  type: string;
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

export function metricsRoutes(deps: MetricsRouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/sys/metrics',
      operation: 'sys.metrics',
      handler: async (req) => {
        if (req.query['format'] === 'prometheus') {
          const { contentType, body } = await deps.metrics.exposition();
          return { status: 200, raw: { contentType, body } };
        }
        const all = (await deps.metrics.registry.getMetricsAsJSON()) as unknown as JsonMetric[];
        const Gauges: unknown[] = [];
        const Counters: unknown[] = [];
        const Samples: unknown[] = [];
        for (const m of all) {
          if (m.type === 'counter') {
            for (const v of m.values) Counters.push({ Name: m.name, Count: v.value, Labels: v.labels });
          } else if (m.type === 'gauge') {
            for (const v of m.values) Gauges.push({ Name: m.name, Value: v.value, Labels: v.labels });
          } else {
            // Histograms/summaries: report count and sum per label set, as Vault's Samples do.
            const byLabels = new Map<string, { Name: string; Labels: Record<string, string | number>; Count: number; Sum: number }>();
            for (const v of m.values) {
              const { le: _le, quantile: _q, ...labels } = v.labels;
              const id = JSON.stringify(labels);
              const s = byLabels.get(id) ?? { Name: m.name, Labels: labels, Count: 0, Sum: 0 };
              if (v.metricName?.endsWith('_count')) s.Count = v.value;
              if (v.metricName?.endsWith('_sum')) s.Sum = v.value;
              byLabels.set(id, s);
            }
            Samples.push(...byLabels.values());
          }
        }
        const body = { Timestamp: new Date().toISOString(), Gauges, Counters, Samples };
        return { status: 200, raw: { contentType: 'application/json', body: JSON.stringify(body) } };
      },
    },
  ];
}
