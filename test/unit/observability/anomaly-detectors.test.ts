/**
 * Each detector driven by synthetic traffic (default thresholds): the anomalous pattern yields exactly
 * the expected alert over the whole run, and ordinary traffic yields none.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, ObservedEvent } from '../../../vault/src/observability/anomaly/baseline.js';
import { AnomalyDetector } from '../../../vault/src/observability/anomaly/detector.js';
import { sourceNetwork } from '../../../vault/src/observability/anomaly/network.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 6, 10, 0, 0); // a Monday, 10:00 UTC

function ev(atMs: number, over: Partial<ObservedEvent> = {}): ObservedEvent {
  return { atMs, subject: 'svc-a', role: 'svc', authMethod: 'approle', env: 'prod', sourceAddress: '10.0.0.5', aclPath: 'transit/encrypt/k', requestId: 'r', keyName: 'k', status: 200, errorCode: null, ...over };
}

function run(d: AnomalyDetector, events: ObservedEvent[]): Finding[] {
  return events.flatMap((e) => d.observe(e));
}

/** n requests per minute for `minutes` minutes from `start`, evenly spread. */
function calm(start: number, minutes: number, perMinute: number, over: Partial<ObservedEvent> = {}): ObservedEvent[] {
  const out: ObservedEvent[] = [];
  for (let m = 0; m < minutes; m++) for (let i = 0; i < perMinute; i++) out.push(ev(start + m * MIN + Math.floor((i * MIN) / perMinute), over));
  return out;
}

describe('anomaly detectors', () => {
  it('rate spike: 100 requests in a minute after 20 calm minutes at 5/min → one rate_spike', () => {
    const d = new AnomalyDetector();
    expect(run(d, calm(T0, 20, 5))).toEqual([]);
    const spike = run(d, calm(T0 + 20 * MIN, 1, 100));
    expect(spike.map((f) => f.kind)).toEqual(['rate_spike']);
    expect(spike[0]?.details).toMatchObject({ factor: 5, floor: 60 });
  });

  it('rate spike: steady traffic, even busy, raises nothing', () => {
    const d = new AnomalyDetector();
    expect(run(d, calm(T0, 30, 50))).toEqual([]);
  });

  it('new network: first request from another /24 after warm-up → one new_source_network, then it is known', () => {
    const d = new AnomalyDetector();
    const history = Array.from({ length: 60 }, (_, i) => ev(T0 + i * MIN, { sourceAddress: `10.0.0.${(i % 200) + 1}` }));
    expect(run(d, history)).toEqual([]);
    const f = run(d, [ev(T0 + 61 * MIN, { sourceAddress: '10.0.1.7' }), ev(T0 + 62 * MIN, { sourceAddress: '10.0.1.8' }), ev(T0 + 63 * MIN, { sourceAddress: '10.0.0.250' })]);
    expect(f).toEqual([{ kind: 'new_source_network', details: { network: '10.0.1.0/24', known_networks: 1 } }]);
  });

  it('new network: during warm-up new networks are learned silently', () => {
    const d = new AnomalyDetector();
    expect(run(d, Array.from({ length: 40 }, (_, i) => ev(T0 + i * MIN, { sourceAddress: `10.${i}.0.1` })))).toEqual([]);
  });

  it('source networks: IPv4 /24, IPv4-mapped IPv6, IPv6 /64', () => {
    expect(sourceNetwork('192.168.7.42')).toBe('192.168.7.0/24');
    expect(sourceNetwork('::ffff:192.168.7.42')).toBe('192.168.7.0/24');
    expect(sourceNetwork('2001:db8:0:12::1')).toBe('2001:db8:0:12::/64');
    expect(sourceNetwork('2001:0db8:0000:0012:ffff::9')).toBe('2001:db8:0:12::/64');
    expect(sourceNetwork('unknown')).toBeNull();
  });

  it('denials: 10 × 403 within a minute → one denial_burst; 9 do not', () => {
    const d = new AnomalyDetector();
    const nine = Array.from({ length: 9 }, (_, i) => ev(T0 + i * 1000, { status: 403, errorCode: 'ERR_PERMISSION_DENIED' }));
    expect(run(d, nine)).toEqual([]);
    const f = run(d, [ev(T0 + 9_500, { status: 403, errorCode: 'ERR_PERMISSION_DENIED' })]);
    expect(f).toEqual([{ kind: 'denial_burst', details: { denials: 10, window_seconds: 60 } }]);
    // The burst restarts after an alert: one more denial is not a second alert.
    expect(run(d, [ev(T0 + 10_000, { status: 403, errorCode: 'ERR_PERMISSION_DENIED' })])).toEqual([]);
  });

  it('denials: 10 × 403 spread over 10 minutes raise nothing', () => {
    const d = new AnomalyDetector();
    expect(run(d, Array.from({ length: 10 }, (_, i) => ev(T0 + i * MIN, { status: 403, errorCode: 'ERR_PERMISSION_DENIED' })))).toEqual([]);
  });

  it('failed decryptions: 10 × ERR_DECRYPTION_FAILED within a minute → one failed_decrypt_burst', () => {
    const d = new AnomalyDetector();
    const events = Array.from({ length: 10 }, (_, i) => ev(T0 + i * 2000, { status: 400, errorCode: 'ERR_DECRYPTION_FAILED', aclPath: 'transit/decrypt/k' }));
    expect(run(d, events)).toEqual([{ kind: 'failed_decrypt_burst', details: { failures: 10, window_seconds: 60 } }]);
  });

  it('failed decryptions: other 400s do not count', () => {
    const d = new AnomalyDetector();
    expect(run(d, Array.from({ length: 20 }, (_, i) => ev(T0 + i * 1000, { status: 400, errorCode: 'ERR_INVALID_INPUT' })))).toEqual([]);
  });

  it('distinct keys: 50 different keys within 5 minutes → one many_distinct_keys; 49 do not', () => {
    const d = new AnomalyDetector();
    const keys = Array.from({ length: 50 }, (_, i) => ev(T0 + i * 1000, { keyName: `key-${i}` }));
    const f = run(d, keys);
    expect(f).toEqual([{ kind: 'many_distinct_keys', details: { distinct_keys: 50, window_seconds: 300 } }]);
    const d2 = new AnomalyDetector();
    expect(run(d2, keys.slice(0, 49))).toEqual([]);
    // The same few keys used heavily are ordinary.
    const d3 = new AnomalyDetector();
    expect(run(d3, Array.from({ length: 500 }, (_, i) => ev(T0 + i * 500, { keyName: `key-${i % 5}` })))).toEqual([]);
  });

  it('unusual hour: 3 a.m. use after two weeks of 9-to-5 history → one unusual_hour; a 10:30 request → nothing', () => {
    const d = new AnomalyDetector();
    const history: ObservedEvent[] = [];
    for (let day = 0; day < 10; day++) {
      const midnight = Date.UTC(2025, 0, 6 + day);
      for (let h = 9; h < 17; h++) for (const m of [0, 20, 40]) history.push(ev(midnight + h * 3_600_000 + m * MIN));
    }
    expect(run(d, history)).toEqual([]);
    const lastDay = Date.UTC(2025, 0, 16);
    expect(run(d, [ev(lastDay + 10.5 * 3_600_000)])).toEqual([]);
    const f = run(d, [ev(lastDay + 3 * 3_600_000 + 86_400_000)]);
    expect(f.map((x) => x.kind)).toEqual(['unusual_hour']);
    expect(f[0]?.details).toMatchObject({ hour: 3, share_percent: 0 });
  });

  it('identities are independent: one identity’s burst is not another’s', () => {
    const d = new AnomalyDetector();
    const mixed = Array.from({ length: 18 }, (_, i) => ev(T0 + i * 1000, { subject: i % 2 ? 'a' : 'b', status: 403 }));
    expect(run(d, mixed)).toEqual([]);
  });
});
