import { describe, expect, it } from 'vitest';
import { type LintFinding, type LintPolicy, type LintRole, lintPolicies } from '../../../vault/src/authz/lint.js';
import { pol } from './helpers.js';

const envs = { environments: [{ name: 'dev' }, { name: 'prod' }] };
const withEnv = (p: ReturnType<typeof pol>, environment?: string): LintPolicy => ({ ...p, ...(environment === undefined ? {} : { environment }) });
const role = (name: string, policies: string[], extra: Partial<LintRole> = {}): LintRole => ({ kind: 'approle', name, policies, tokenTtl: 3600, tokenMaxTtl: 86400, secretIdTtl: 86400, ...extra });
const only = (findings: LintFinding[], rule: string): LintFinding[] => findings.filter((f) => f.rule === rule);

describe('lintPolicies', () => {
  it.each([
    ['transit/decrypt/*', true],
    ['transit/decrypt/pay*', true],
    ['transit/decrypt/+', true],
    ['transit/*', true],
    ['*', true],
    ['transit/+/payments*', true],
    ['transit/datakey/plaintext/*', true],
    ['transit/datakey/+/+', true],
    ['transit/decrypt/payments', false],
    ['+/decrypt/payments', false],
    ['transit/encrypt/*', false],
    ['transit/datakey/wrapped/*', false],
  ])('wildcard-decrypt on %s → %s', (path, flagged) => {
    const f = lintPolicies([withEnv(pol('p', { [path]: ['update'] }))], [role('r', ['p'])], envs);
    expect(only(f, 'wildcard-decrypt').length > 0).toBe(flagged);
  });

  it('wildcard-decrypt is high when the policy is used in prod, medium otherwise', () => {
    const p = pol('p', { 'transit/decrypt/*': ['update'] });
    expect(only(lintPolicies([withEnv(p, 'prod')], [role('r', ['p'], { environment: 'prod' })], envs), 'wildcard-decrypt')[0]!.severity).toBe('high');
    expect(only(lintPolicies([withEnv(p, 'dev')], [role('r', ['p'], { environment: 'dev' })], envs), 'wildcard-decrypt')[0]!.severity).toBe('medium');
    expect(only(lintPolicies([withEnv(p)], [role('r', ['p'], { environment: 'prod' })], envs), 'wildcard-decrypt')[0]!.severity).toBe('high');
  });

  it('read-only or denied wildcards on decrypt are not flagged', () => {
    const f = lintPolicies([withEnv(pol('p', { 'transit/decrypt/*': ['read'], 'transit/datakey/*': ['deny'] }))], [role('r', ['p'])], envs);
    expect(only(f, 'wildcard-decrypt')).toEqual([]);
  });

  it('flags sudo, sys wildcards and unused policies', () => {
    const f = lintPolicies(
      [withEnv(pol('admin', { 'sys/*': ['read', 'update'], 'sys/rotate': ['update', 'sudo'] })), withEnv(pol('orphan', { 'secret/x': ['read'] })), withEnv(pol('default', { 'sys/capabilities-self': ['update'] }))],
      [role('ops', ['admin'])],
      envs,
    );
    expect(only(f, 'sys-wildcard')).toMatchObject([{ severity: 'high', policy: 'admin', path: 'sys/*' }]);
    expect(only(f, 'sudo-grant')).toMatchObject([{ severity: 'medium', policy: 'admin', path: 'sys/rotate' }]);
    expect(only(f, 'unused-policy')).toMatchObject([{ severity: 'low', policy: 'orphan' }]);
    expect(f.map((x) => x.severity)).toEqual([...f.map((x) => x.severity)].sort((a, b) => ['high', 'medium', 'low'].indexOf(a) - ['high', 'medium', 'low'].indexOf(b)));
  });

  it('a policy in another environment than its role is unused', () => {
    const f = lintPolicies([withEnv(pol('p', { 'secret/x': ['read'] }), 'dev')], [role('r', ['p'], { environment: 'prod' })], envs);
    expect(only(f, 'unused-policy')).toHaveLength(1);
  });

  it.each([
    [{ tokenTtl: 3600, tokenMaxTtl: 0 }, true],
    [{ tokenTtl: 0, tokenMaxTtl: 3600 }, false],
    [{ tokenTtl: 0, tokenMaxTtl: undefined }, true],
    [{ tokenTtl: 3600, tokenMaxTtl: Number.POSITIVE_INFINITY }, true],
    [{ tokenTtl: 3600, tokenMaxTtl: 7200 }, false],
  ])('unbounded-token-ttl for %j → %s', (ttl, flagged) => {
    const f = lintPolicies([], [role('r', [], ttl)], envs);
    expect(only(f, 'unbounded-token-ttl').length > 0).toBe(flagged);
  });

  it('secret IDs that never expire are flagged for AppRole only, high in prod', () => {
    const f = lintPolicies([], [role('svc', [], { secretIdTtl: 0, environment: 'prod' }), { kind: 'jwt', name: 'human', policies: [], secretIdTtl: 0 }], envs);
    expect(only(f, 'secret-id-never-expires')).toMatchObject([{ severity: 'high', role: 'svc' }]);
  });
});
