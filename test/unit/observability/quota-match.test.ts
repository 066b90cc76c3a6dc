import { describe, expect, it } from 'vitest';
import { compileQuota, isExempt, mostSpecific, parseQuotaPath } from '../../../vault/src/observability/rate-limit/quota-match.js';
import type { QuotaRecord } from '../../../vault/src/observability/store.js';

function q(name: string, path: string, extra: Partial<QuotaRecord> = {}): ReturnType<typeof compileQuota> {
  const at = new Date(0);
  return compileQuota({ name, path, rate: 10, intervalSeconds: 1, blockIntervalSeconds: 0, role: '', inheritable: false, groupBy: 'ip', createdAt: at, updatedAt: at, ...extra });
}

describe('quota paths and matching', () => {
  it('parses environment prefixes, mounts and globs', () => {
    expect(parseQuotaPath('')).toEqual({ env: null, prefix: '', glob: false });
    expect(parseQuotaPath('prod/')).toEqual({ env: 'prod', prefix: '', glob: false });
    expect(parseQuotaPath('transit/encrypt/')).toEqual({ env: null, prefix: 'transit/encrypt', glob: false });
    expect(parseQuotaPath('prod/transit/encrypt/pay*')).toEqual({ env: 'prod', prefix: 'transit/encrypt/pay', glob: true });
  });

  const all = [q('global', ''), q('prod', 'prod/'), q('encrypt', 'transit/encrypt/'), q('prod-pay', 'prod/transit/encrypt/payments'), q('svc-role', 'transit/', { role: 'svc' })];

  it('the most specific matching quota wins (path > mount > environment > global)', () => {
    expect(mostSpecific(all, { env: 'dev', aclPath: 'secret/data/x', role: null })?.quota.name).toBe('global');
    expect(mostSpecific(all, { env: 'prod', aclPath: 'secret/data/x', role: null })?.quota.name).toBe('prod');
    expect(mostSpecific(all, { env: 'prod', aclPath: 'transit/encrypt/orders', role: null })?.quota.name).toBe('encrypt');
    expect(mostSpecific(all, { env: 'dev', aclPath: 'transit/encrypt/payments', role: null })?.quota.name).toBe('encrypt');
    expect(mostSpecific(all, { env: 'prod', aclPath: 'transit/encrypt/payments', role: null })?.quota.name).toBe('prod-pay');
  });

  it('a role quota applies only to principals with that role, and then beats path quotas', () => {
    expect(mostSpecific(all, { env: 'prod', aclPath: 'transit/encrypt/payments', role: 'svc' })?.quota.name).toBe('svc-role');
    expect(mostSpecific(all, { env: 'prod', aclPath: 'transit/encrypt/payments', role: 'other' })?.quota.name).toBe('prod-pay');
    expect(mostSpecific(all, { env: 'prod', aclPath: 'secret/data/x', role: 'svc' })?.quota.name).toBe('prod');
  });

  it('matches whole segments unless the path ends in *', () => {
    const qs = [q('seg', 'transit/enc'), q('glob', 'transit/enc*')];
    expect(mostSpecific([qs[0]!], { env: 'dev', aclPath: 'transit/encrypt/x', role: null })).toBeNull();
    expect(mostSpecific([qs[1]!], { env: 'dev', aclPath: 'transit/encrypt/x', role: null })?.quota.name).toBe('glob');
  });

  it('before authentication (env unknown) environment-bound quotas never match', () => {
    expect(mostSpecific([q('prod', 'prod/')], { env: null, aclPath: 'transit/encrypt/x', role: null })).toBeNull();
  });

  it('exempt paths match exactly or by * prefix', () => {
    expect(isExempt(['sys/health'], 'sys/health')).toBe(true);
    expect(isExempt(['sys/health'], 'sys/healthz')).toBe(false);
    expect(isExempt(['sys/metrics*'], 'sys/metrics')).toBe(true);
  });
});
