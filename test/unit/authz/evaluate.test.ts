import { describe, expect, it } from 'vitest';
import type { OperationCapability } from '../../../vault/src/authz/capability.js';
import { capabilities, compileAcl, evaluate, globbedStringMatch, patternMatches } from '../../../vault/src/authz/evaluate.js';
import { type NamedPolicy, defaultPolicy, rootPolicy } from '../../../vault/src/authz/policy.js';
import { pol } from './helpers.js';

type Row = { name: string; policies: NamedPolicy[]; path: string; cap: OperationCapability; allowed: boolean; reason: string; granting?: string[]; pattern?: string | null };

describe('path precedence (Vault priority rules)', () => {
  const rows: Row[] = [
    { name: 'exact beats glob', policies: [pol('a', { 'secret/*': ['read', 'update'], 'secret/foo': ['read'] })], path: 'secret/foo', cap: 'update', allowed: false, reason: 'capability-missing', pattern: 'secret/foo' },
    { name: 'exact beats glob (granting)', policies: [pol('a', { 'secret/*': ['deny'], 'secret/foo': ['read'] })], path: 'secret/foo', cap: 'read', allowed: true, reason: 'granted', pattern: 'secret/foo' },
    { name: 'glob applies beneath its prefix', policies: [pol('a', { 'secret/*': ['read'] })], path: 'secret/a/b/c', cap: 'read', allowed: true, reason: 'granted', pattern: 'secret/*' },
    { name: 'glob does not match its bare parent', policies: [pol('a', { 'secret/*': ['read'] })], path: 'secret', cap: 'read', allowed: false, reason: 'no-matching-path' },
    { name: 'glob is a string prefix, not a segment prefix', policies: [pol('a', { 'secret/fo*': ['read'] })], path: 'secret/foobar/x', cap: 'read', allowed: true, reason: 'granted' },
    { name: 'longer glob prefix wins', policies: [pol('a', { 'secret/*': ['read'], 'secret/team/*': ['list'] })], path: 'secret/team/x', cap: 'read', allowed: false, reason: 'capability-missing', pattern: 'secret/team/*' },
    { name: 'shorter glob still governs outside the longer one', policies: [pol('a', { 'secret/*': ['read'], 'secret/team/*': ['list'] })], path: 'secret/other', cap: 'read', allowed: true, reason: 'granted', pattern: 'secret/*' },
    { name: '+ matches exactly one segment', policies: [pol('a', { 'transit/encrypt/+': ['update'] })], path: 'transit/encrypt/payments', cap: 'update', allowed: true, reason: 'granted' },
    { name: '+ does not match two segments', policies: [pol('a', { 'transit/encrypt/+': ['update'] })], path: 'transit/encrypt/a/b', cap: 'update', allowed: false, reason: 'no-matching-path' },
    { name: '+ in the middle', policies: [pol('a', { 'secret/+/config': ['read'] })], path: 'secret/app1/config', cap: 'read', allowed: true, reason: 'granted' },
    { name: '+ in the middle needs the literal tail', policies: [pol('a', { 'secret/+/config': ['read'] })], path: 'secret/app1/other', cap: 'read', allowed: false, reason: 'no-matching-path' },
    { name: '+ with a trailing glob', policies: [pol('a', { 'secret/+/team-*': ['read'] })], path: 'secret/x/team-a/deep', cap: 'read', allowed: true, reason: 'granted' },
    { name: 'later first wildcard wins: glob at 13 beats + at 7', policies: [pol('a', { 'secret/+/foo': ['read'], 'secret/bar/fo*': ['update'] })], path: 'secret/bar/foo', cap: 'read', allowed: false, reason: 'capability-missing', pattern: 'secret/bar/fo*' },
    { name: 'later first wildcard wins: + at 11 beats glob at 7', policies: [pol('a', { 'secret/*': ['update'], 'secret/bar/+': ['read'] })], path: 'secret/bar/foo', cap: 'update', allowed: false, reason: 'capability-missing', pattern: 'secret/bar/+' },
    { name: 'same first wildcard: non-glob beats glob', policies: [pol('a', { 'secret/+/foo*': ['update'], 'secret/+/foo': ['read'] })], path: 'secret/x/foo', cap: 'read', allowed: true, reason: 'granted', pattern: 'secret/+/foo' },
    { name: 'same first wildcard, both non-glob: fewer + wins', policies: [pol('a', { 'secret/+/+': ['update'], 'secret/+/foo': ['read'] })], path: 'secret/x/foo', cap: 'update', allowed: false, reason: 'capability-missing', pattern: 'secret/+/foo' },
    { name: 'same first wildcard, both glob: longer wins', policies: [pol('a', { 'secret/+/a*': ['update'], 'secret/+/ab*': ['read'] })], path: 'secret/x/abc', cap: 'update', allowed: false, reason: 'capability-missing', pattern: 'secret/+/ab*' },
    { name: 'no match → default deny', policies: [pol('a', { 'secret/*': ['read'] })], path: 'transit/keys/x', cap: 'read', allowed: false, reason: 'no-matching-path', pattern: null },
    { name: 'no policies → default deny', policies: [], path: 'secret/x', cap: 'read', allowed: false, reason: 'no-matching-path' },
    { name: 'leading slash in the request path is ignored', policies: [pol('a', { 'secret/x': ['read'] })], path: '/secret/x', cap: 'read', allowed: true, reason: 'granted' },
    { name: '* alone matches everything', policies: [pol('a', { '*': ['read'] })], path: 'anything/at/all', cap: 'read', allowed: true, reason: 'granted' },
  ];
  it.each(rows)('$name', (row) => {
    const d = evaluate(row.policies, { path: row.path, capability: row.cap });
    expect(d.allowed).toBe(row.allowed);
    expect(d.reason).toBe(row.reason);
    if (row.pattern !== undefined) expect(d.matchedPattern).toBe(row.pattern);
  });

  it('lexicographic tie-break picks the larger pattern', () => {
    // 'secret/+/a/+' > 'secret/+/+/b' because 'a' (0x61) > '+' (0x2b)
    const p = [pol('x', { 'secret/+/a/+': ['update'], 'secret/+/+/b': ['read'] })];
    expect(evaluate(p, { path: 'secret/x/a/b', capability: 'update' })).toMatchObject({ allowed: true, matchedPattern: 'secret/+/a/+' });
    expect(evaluate(p, { path: 'secret/x/a/b', capability: 'read' })).toMatchObject({ allowed: false, reason: 'capability-missing' });
  });

  it('a list request on "foo/" is governed by an exact rule "foo"', () => {
    const p = [pol('x', { 'secret/metadata': ['list'] })];
    expect(evaluate(p, { path: 'secret/metadata/', capability: 'list' }).allowed).toBe(true);
    expect(evaluate(p, { path: 'secret/metadata/', capability: 'read' }).allowed).toBe(false);
  });
});

describe('several policies', () => {
  const rows: Row[] = [
    { name: 'same pattern: capabilities are unioned', policies: [pol('r', { 'secret/*': ['read'] }), pol('w', { 'secret/*': ['update'] })], path: 'secret/a', cap: 'update', allowed: true, reason: 'granted', granting: ['w'] },
    { name: 'same pattern: both grant → both listed', policies: [pol('b', { 'secret/*': ['read'] }), pol('a', { 'secret/*': ['read', 'list'] })], path: 'secret/a', cap: 'read', allowed: true, reason: 'granted', granting: ['a', 'b'] },
    { name: 'same pattern: deny in one policy wins', policies: [pol('r', { 'secret/a': ['read', 'update'] }), pol('d', { 'secret/a': ['deny'] })], path: 'secret/a', cap: 'read', allowed: false, reason: 'explicit-deny', granting: [] },
    { name: 'deny wins whatever the order', policies: [pol('d', { 'secret/a': ['deny'] }), pol('r', { 'secret/a': ['read'] })], path: 'secret/a', cap: 'read', allowed: false, reason: 'explicit-deny' },
    { name: 'deny with other caps in one rule is deny', policies: [pol('d', { 'secret/a': ['read', 'deny'] })], path: 'secret/a', cap: 'read', allowed: false, reason: 'explicit-deny' },
    { name: 'a more specific pattern in another policy takes over', policies: [pol('broad', { 'secret/*': ['read', 'update'] }), pol('narrow', { 'secret/a': ['read'] })], path: 'secret/a', cap: 'update', allowed: false, reason: 'capability-missing' },
    { name: 'deny on a less specific pattern does not reach a more specific grant', policies: [pol('d', { 'secret/*': ['deny'] }), pol('r', { 'secret/a': ['read'] })], path: 'secret/a', cap: 'read', allowed: true, reason: 'granted', granting: ['r'] },
    { name: 'deny on a glob covers what it wins', policies: [pol('d', { 'secret/*': ['deny'] }), pol('r', { 'secret/a': ['read'] })], path: 'secret/b', cap: 'read', allowed: false, reason: 'explicit-deny' },
    { name: 'root allows everything', policies: [rootPolicy()], path: 'sys/rotate', cap: 'sudo', allowed: true, reason: 'root', granting: ['root'] },
    { name: 'root beside a deny still allows', policies: [pol('d', { '*': ['deny'] }), rootPolicy()], path: 'secret/a', cap: 'delete', allowed: true, reason: 'root', granting: ['root'] },
  ];
  it.each(rows)('$name', (row) => {
    const d = evaluate(row.policies, { path: row.path, capability: row.cap });
    expect(d.allowed).toBe(row.allowed);
    expect(d.reason).toBe(row.reason);
    if (row.granting !== undefined) expect(d.grantingPolicies).toEqual(row.granting);
  });

  it('an explicit deny reports the capability list ["deny"] and no granting policies', () => {
    const d = evaluate([pol('r', { 'secret/a': ['read'] }), pol('d', { 'secret/a': ['deny'] })], { path: 'secret/a', capability: 'read' });
    expect(d).toMatchObject({ capabilities: ['deny'], grantingPolicies: [], mfaMethods: [] });
  });
});

describe('default policy', () => {
  const rows: Array<[string, OperationCapability, boolean]> = [
    ['auth/token/lookup-self', 'read', true],
    ['auth/token/renew-self', 'update', true],
    ['auth/token/revoke-self', 'update', true],
    ['sys/capabilities-self', 'update', true],
    ['sys/wrapping/lookup', 'update', true],
    ['sys/wrapping/unwrap', 'update', true],
    ['sys/wrapping/wrap', 'update', true],
    ['auth/token/create', 'update', false],
    ['auth/token/lookup-self', 'delete', false],
    ['sys/policies/acl/default', 'update', false],
    ['transit/decrypt/payments', 'update', false],
    ['secret/data/x', 'read', false],
  ];
  it.each(rows)('%s %s → %s', (path, cap, allowed) => {
    expect(evaluate([defaultPolicy()], { path, capability: cap }).allowed).toBe(allowed);
  });
});

describe('parameters', () => {
  const p = (rule: Record<string, unknown>): NamedPolicy[] => [pol('p', { 'transit/encrypt/payments': { capabilities: ['create', 'update', 'read', 'delete', 'list'], ...rule } })];
  const rows: Array<{ name: string; rule: Record<string, unknown>; params?: Record<string, unknown>; cap?: OperationCapability; allowed: boolean; reason: string; parameter?: string }> = [
    { name: 'no parameter rules: anything goes', rule: {}, params: { plaintext: 'x', other: 1 }, allowed: true, reason: 'granted' },
    { name: 'allowed "*": [] allows all', rule: { allowed_parameters: { '*': [] } }, params: { a: 1, b: 'x' }, allowed: true, reason: 'granted' },
    { name: 'allowed key with [] allows any value', rule: { allowed_parameters: { plaintext: [] } }, params: { plaintext: 'anything' }, allowed: true, reason: 'granted' },
    { name: 'an unlisted parameter is refused', rule: { allowed_parameters: { plaintext: [] } }, params: { plaintext: 'x', key_version: 2 }, allowed: false, reason: 'parameter-not-allowed', parameter: 'key_version' },
    { name: 'listed values restrict the value', rule: { allowed_parameters: { type: ['aes256-gcm96'] } }, params: { type: 'rsa-4096' }, allowed: false, reason: 'parameter-not-allowed', parameter: 'type' },
    { name: 'listed value accepted', rule: { allowed_parameters: { type: ['aes256-gcm96'] } }, params: { type: 'aes256-gcm96' }, allowed: true, reason: 'granted' },
    { name: 'suffix glob in an allowed value', rule: { allowed_parameters: { context: ['tenant-*'] } }, params: { context: 'tenant-42' }, allowed: true, reason: 'granted' },
    { name: 'prefix glob in an allowed value', rule: { allowed_parameters: { context: ['*-eu'] } }, params: { context: 'pay-eu' }, allowed: true, reason: 'granted' },
    { name: 'prefix glob refuses others', rule: { allowed_parameters: { context: ['*-eu'] } }, params: { context: 'pay-us' }, allowed: false, reason: 'parameter-not-allowed' },
    { name: 'contains glob in an allowed value', rule: { allowed_parameters: { context: ['*pay*'] } }, params: { context: 'xpayx' }, allowed: true, reason: 'granted' },
    { name: 'a lone "*" value is literal (Vault)', rule: { allowed_parameters: { context: ['*'] } }, params: { context: 'x' }, allowed: false, reason: 'parameter-not-allowed' },
    { name: 'non-string values compare deeply', rule: { allowed_parameters: { key_version: [1, 2] } }, params: { key_version: 2 }, allowed: true, reason: 'granted' },
    { name: 'a string does not equal a number', rule: { allowed_parameters: { key_version: [1] } }, params: { key_version: '1' }, allowed: false, reason: 'parameter-not-allowed' },
    { name: '"*" plus a restricted key restricts that key', rule: { allowed_parameters: { '*': [], type: ['a'] } }, params: { other: 1, type: 'b' }, allowed: false, reason: 'parameter-not-allowed', parameter: 'type' },
    { name: 'a list value passes when every element is allowed', rule: { allowed_parameters: { tags: ['a', 'b'] } }, params: { tags: ['a', 'b'] }, allowed: true, reason: 'granted' },
    { name: 'a list value fails when one element is not allowed', rule: { allowed_parameters: { tags: ['a', 'b'] } }, params: { tags: ['a', 'c'] }, allowed: false, reason: 'parameter-not-allowed' },
    { name: 'denied key with [] denies any value', rule: { denied_parameters: { key_version: [] } }, params: { key_version: 1 }, allowed: false, reason: 'parameter-denied', parameter: 'key_version' },
    { name: 'denied values deny only those values', rule: { denied_parameters: { type: ['rsa-*'] } }, params: { type: 'aes256-gcm96' }, allowed: true, reason: 'granted' },
    { name: 'denied value glob', rule: { denied_parameters: { type: ['rsa-*'] } }, params: { type: 'rsa-2048' }, allowed: false, reason: 'parameter-denied' },
    { name: 'denied "*" denies any parameter', rule: { denied_parameters: { '*': [] } }, params: { x: 1 }, allowed: false, reason: 'parameter-denied' },
    { name: 'denied "*" allows a request without parameters', rule: { denied_parameters: { '*': [] } }, params: {}, allowed: true, reason: 'granted' },
    { name: 'denied wins over allowed', rule: { allowed_parameters: { type: [] }, denied_parameters: { type: ['rsa-*'] } }, params: { type: 'rsa-1' }, allowed: false, reason: 'parameter-denied' },
    { name: 'a list value is denied when any element is denied', rule: { denied_parameters: { tags: ['secret'] } }, params: { tags: ['ok', 'secret'] }, allowed: false, reason: 'parameter-denied' },
    { name: 'required parameter missing', rule: { required_parameters: ['plaintext'] }, params: { context: 'x' }, allowed: false, reason: 'parameter-required', parameter: 'plaintext' },
    { name: 'required parameter present', rule: { required_parameters: ['plaintext'] }, params: { plaintext: 'x' }, allowed: true, reason: 'granted' },
    { name: 'required parameter missing with no parameters at all', rule: { required_parameters: ['plaintext'] }, params: undefined, allowed: false, reason: 'parameter-required' },
    { name: 'parameter names compare case-insensitively', rule: { allowed_parameters: { PlainText: [] } }, params: { PLAINTEXT: 'x' }, allowed: true, reason: 'granted' },
    { name: 'a prototype name is just an unlisted parameter', rule: { allowed_parameters: { plaintext: [] } }, params: { constructor: 'x' }, allowed: false, reason: 'parameter-not-allowed' },
    { name: 'delete requests skip parameter rules', rule: { required_parameters: ['plaintext'], denied_parameters: { '*': [] } }, params: { x: 1 }, cap: 'delete', allowed: true, reason: 'granted' },
    { name: 'list requests skip parameter rules', rule: { allowed_parameters: { a: [] } }, params: { b: 1 }, cap: 'list', allowed: true, reason: 'granted' },
    { name: 'read requests apply parameter rules', rule: { allowed_parameters: { a: [] } }, params: { b: 1 }, cap: 'read', allowed: false, reason: 'parameter-not-allowed' },
  ];
  it.each(rows)('$name', (row) => {
    const d = evaluate(p(row.rule), { path: 'transit/encrypt/payments', capability: row.cap ?? 'update', ...(row.params === undefined ? {} : { parameters: row.params }) });
    expect(d.allowed).toBe(row.allowed);
    expect(d.reason).toBe(row.reason);
    if (row.parameter !== undefined) expect(d.parameter).toBe(row.parameter);
  });

  it('merging a policy with parameter rules into one without restricts the merged rule (Vault merge)', () => {
    const open = pol('open', { 'transit/encrypt/payments': ['update'] });
    const strict = pol('strict', { 'transit/encrypt/payments': { capabilities: ['update'], allowed_parameters: { plaintext: [] } } });
    expect(evaluate([open], { path: 'transit/encrypt/payments', capability: 'update', parameters: { context: 'x' } }).allowed).toBe(true);
    expect(evaluate([open, strict], { path: 'transit/encrypt/payments', capability: 'update', parameters: { context: 'x' } }).reason).toBe('parameter-not-allowed');
  });

  it('merging allowed values across policies concatenates them; an empty list absorbs', () => {
    const a = pol('a', { 'k/x': { capabilities: ['update'], allowed_parameters: { type: ['a'] } } });
    const b = pol('b', { 'k/x': { capabilities: ['update'], allowed_parameters: { type: ['b'] } } });
    const any = pol('any', { 'k/x': { capabilities: ['update'], allowed_parameters: { type: [] } } });
    expect(evaluate([a, b], { path: 'k/x', capability: 'update', parameters: { type: 'b' } }).allowed).toBe(true);
    expect(evaluate([a, b], { path: 'k/x', capability: 'update', parameters: { type: 'c' } }).allowed).toBe(false);
    expect(evaluate([a, any], { path: 'k/x', capability: 'update', parameters: { type: 'c' } }).allowed).toBe(true);
  });
});

describe('mfa and wrapping on the decision', () => {
  it('when granted, the rule\'s mfa methods (merged across policies) are reported', () => {
    const d = evaluate(
      [pol('a', { 'transit/decrypt/payments': { capabilities: ['update'], mfa_methods: ['totp-ops'] } }), pol('b', { 'transit/decrypt/payments': { capabilities: ['read'], mfa_methods: ['duo'] } })],
      { path: 'transit/decrypt/payments', capability: 'update' },
    );
    expect(d).toMatchObject({ allowed: true, grantingPolicies: ['a'] });
    expect([...d.mfaMethods].sort()).toEqual(['duo', 'totp-ops']);
  });
  it('when denied, no mfa methods are reported', () => {
    const d = evaluate([pol('a', { 'transit/decrypt/payments': { capabilities: ['read'], mfa_methods: ['totp-ops'] } })], { path: 'transit/decrypt/payments', capability: 'update' });
    expect(d.mfaMethods).toEqual([]);
  });
  it('wrapping TTL bounds are reported', () => {
    const d = evaluate([pol('a', { 'secret/data/x': { capabilities: ['read'], min_wrapping_ttl: '1m', max_wrapping_ttl: 3600 } })], { path: 'secret/data/x', capability: 'read' });
    expect(d).toMatchObject({ minWrappingTtlSeconds: 60, maxWrappingTtlSeconds: 3600 });
  });
});

describe('capabilities() for sys/capabilities', () => {
  const rows: Array<[string, NamedPolicy[], string, string[]]> = [
    ['root', [rootPolicy()], 'anything', ['root']],
    ['no match', [pol('a', { 'secret/*': ['read'] })], 'transit/keys/x', ['deny']],
    ['explicit deny', [pol('a', { 'secret/x': ['deny'] })], 'secret/x', ['deny']],
    ['empty capability list', [pol('a', { 'secret/x': [] })], 'secret/x', ['deny']],
    ['sorted union of same-pattern rules', [pol('a', { 'secret/*': ['update', 'read'] }), pol('b', { 'secret/*': ['list', 'create'] })], 'secret/x', ['create', 'list', 'read', 'update']],
    ['most specific only', [pol('a', { 'secret/*': ['update', 'read'], 'secret/x': ['list'] })], 'secret/x', ['list']],
    ['includes sudo', [pol('a', { 'sys/rotate': ['update', 'sudo'] })], 'sys/rotate', ['sudo', 'update']],
  ];
  it.each(rows)('%s', (_n, policies, path, expected) => {
    expect(capabilities(policies, path)).toEqual(expected);
    expect(compileAcl(policies).capabilities(path)).toEqual(expected);
  });
});

describe('pattern helpers', () => {
  it.each([
    ['secret/*', 'secret/', true],
    ['secret/+', 'secret/', true], // Vault: + matches an empty segment
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['+/*', 'a/b/c', true],
    ['a/+*', 'a/x/y', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/', false],
  ])('patternMatches(%s, %s) = %s', (pattern, path, expected) => {
    expect(patternMatches(pattern, path)).toBe(expected);
  });
  it.each([
    ['a*', 'abc', true],
    ['*c', 'abc', true],
    ['*b*', 'abc', true],
    ['a*', 'ba', false],
    ['*', '*', true],
    ['*', 'x', false],
    ['abc', 'abc', true],
  ])('globbedStringMatch(%s, %s) = %s', (p, v, e) => {
    expect(globbedStringMatch(p, v)).toBe(e);
  });
});
