import { describe, expect, it } from 'vitest';
import { accessReview, csvField, toCsv } from '../../../vault/src/authz/access-review.js';
import { pol } from './helpers.js';

const policies = [
  pol('payments-decrypt', { 'transit/decrypt/payments': { capabilities: ['update'], mfa_methods: ['totp-ops'] } }),
  pol('transit-all', { 'transit/*': ['update', 'read'] }),
  pol('payments-deny', { 'transit/decrypt/payments': ['deny'] }),
  pol('encrypt-only', { 'transit/encrypt/payments': { capabilities: ['update'], allowed_parameters: { plaintext: [] } } }),
];
const roles = [
  { kind: 'approle' as const, name: 'billing', policies: ['payments-decrypt'] },
  { kind: 'jwt' as const, name: 'sre', policies: ['transit-all'] },
  { kind: 'jwt' as const, name: 'contractor', policies: ['transit-all', 'payments-deny'] },
  { kind: 'approle' as const, name: 'checkout', policies: ['encrypt-only', 'ghost'] },
  { kind: 'token' as const, name: 'break-glass', policies: ['root'] },
];

describe('accessReview', () => {
  it('answers "who can decrypt with payments" with the granting policies', () => {
    const rows = accessReview({ roles, policies, paths: 'transit/decrypt/payments', capabilities: ['update'], onlyAllowed: true });
    expect(rows.map((r) => [r.role, r.grantingPolicies])).toEqual([
      ['billing', ['payments-decrypt']],
      ['sre', ['transit-all']],
      ['break-glass', ['root']],
    ]);
    expect(rows[0]!.mfaMethods).toEqual(['totp-ops']);
  });

  it('an exact deny in another policy removes the role (contractor)', () => {
    const rows = accessReview({ roles, policies, paths: ['transit/decrypt/payments'], capabilities: ['update'] });
    expect(rows.find((r) => r.role === 'contractor')).toMatchObject({ allowed: false, grantingPolicies: [], matchedPattern: 'transit/decrypt/payments' });
  });

  it('covers every (role, path, capability) and reports missing policies and parameter constraints', () => {
    const rows = accessReview({ roles, policies, paths: ['transit/encrypt/payments', 'transit/keys/payments'] });
    expect(rows).toHaveLength(roles.length * 2 * 7);
    const checkout = rows.find((r) => r.role === 'checkout' && r.path === 'transit/encrypt/payments' && r.capability === 'update')!;
    expect(checkout).toMatchObject({ allowed: true, parameterConstraints: true, missingPolicies: ['ghost'] });
  });

  it('implicit policies are added to every role', () => {
    const rows = accessReview({ roles: [{ kind: 'approle', name: 'x', policies: [] }], policies: [pol('default', { 'sys/capabilities-self': ['update'] })], paths: 'sys/capabilities-self', capabilities: ['update'], implicitPolicies: ['default'] });
    expect(rows[0]).toMatchObject({ allowed: true, grantingPolicies: ['default'] });
  });
});

describe('toCsv', () => {
  it('writes a header and RFC 4180 rows with CRLF', () => {
    const rows = accessReview({ roles: roles.slice(0, 1), policies, paths: 'transit/decrypt/payments', capabilities: ['update'] });
    expect(toCsv(rows)).toBe(
      'kind,role,path,capability,allowed,granting_policies,matched_pattern,parameter_constraints,mfa_methods,missing_policies\r\n' +
        'approle,billing,transit/decrypt/payments,update,true,payments-decrypt,transit/decrypt/payments,false,totp-ops,\r\n',
    );
  });
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['cr\rx', '"cr\rx"'],
    ['=cmd()', "'=cmd()"],
    ['+1,2', `"'+1,2"`],
  ])('csvField(%j) = %j', (input, expected) => {
    expect(csvField(input)).toBe(expected);
  });
  it('formula neutralisation can be turned off', () => {
    expect(csvField('=x', false)).toBe('=x');
  });
});
