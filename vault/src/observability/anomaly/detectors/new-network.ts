/** First use from a source network (/24, /64) never seen for this identity, after a warm-up. */
import type { Baseline, Finding, ObservedEvent } from '../baseline.js';
import type { AnomalyThresholds } from '../config.js';
import { sourceNetwork } from '../network.js';

export function detectNewNetwork(b: Readonly<Baseline>, e: ObservedEvent, t: AnomalyThresholds): Finding | null {
  if (b.totalRequests < t.newNetwork.warmupRequests) return null;
  const netId = sourceNetwork(e.sourceAddress);
  if (netId === null || b.networks.has(netId)) return null;
  return { kind: 'new_source_network', details: { network: netId, known_networks: b.networks.size } };
}
