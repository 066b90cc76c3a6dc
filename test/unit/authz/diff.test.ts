import { describe, expect, it } from 'vitest';
import { diffPolicies, formatPolicyDiff } from '../../../vault/src/authz/diff.js';
import { policyFromDocument } from '../../../vault/src/authz/policy.js';

const doc = (path: Record<string, Record<string, unknown>>) => policyFromDocument({ path });

describe('diffPolicies', () => {
  it('reports nothing for equivalent documents written differently', () => {
    const a = doc({ 'secret/*': { capabilities: ['read', 'list'], allowed_parameters: { a: ['x', 'y'] } } });
    const b = policyFromDocument({ path: [{ 'secret/*': [{ capabilities: ['list'] }, { capabilities: ['read'], allowed_parameters: { A: ['y', 'x'] } }] }] });
    expect(diffPolicies(a, b)).toEqual({ changed: false, paths: [] });
  });

  it('reports added, removed and changed paths with their details', () => {
    const before = doc({
      'secret/*': { capabilities: ['read', 'list'] },
      'transit/encrypt/payments': { capabilities: ['update'], allowed_parameters: { plaintext: [], context: ['a'] }, denied_parameters: { key_version: [] }, mfa_methods: ['totp'] },
    });
    const after = doc({
      'transit/encrypt/payments': { capabilities: ['update', 'create'], allowed_parameters: { plaintext: [], context: ['a', 'b'], nonce: [] }, required_parameters: ['plaintext'], max_wrapping_ttl: 60 },
      'transit/decrypt/payments': { capabilities: ['update'] },
    });
    const d = diffPolicies(before, after);
    expect(d.changed).toBe(true);
    expect(d.paths.map((p) => [p.path, p.change])).toEqual([
      ['secret/*', 'removed'],
      ['transit/decrypt/payments', 'added'],
      ['transit/encrypt/payments', 'changed'],
    ]);
    const enc = d.paths[2]!;
    expect(enc.capabilities).toEqual({ added: ['create'], removed: [] });
    expect(enc.allowedParameters).toEqual({ added: { nonce: [] }, removed: {}, changed: [{ name: 'context', before: ['a'], after: ['a', 'b'] }] });
    expect(enc.deniedParameters.removed).toEqual({ key_version: [] });
    expect(enc.requiredParameters).toEqual({ added: ['plaintext'], removed: [] });
    expect(enc.mfaMethods).toEqual({ added: [], removed: ['totp'] });
    expect(enc.wrappingTtl).toEqual({ before: {}, after: { max: 60 } });
    expect(d.paths[0]!.capabilities).toEqual({ added: [], removed: ['read', 'list'] });
    const text = formatPolicyDiff(d);
    expect(text).toContain('- path "secret/*"');
    expect(text).toContain('+ path "transit/decrypt/payments"');
    expect(text).toContain('~ allowed_parameters.context: ["a"] -> ["a","b"]');
  });

  it('a created or deleted policy diffs against nothing', () => {
    const p = doc({ 'a/b': { capabilities: ['read'] } });
    expect(diffPolicies(undefined, p).paths).toMatchObject([{ path: 'a/b', change: 'added', capabilities: { added: ['read'] } }]);
    expect(diffPolicies(p, undefined).paths).toMatchObject([{ path: 'a/b', change: 'removed', capabilities: { removed: ['read'] } }]);
  });

  it('switching a rule to deny shows the deny and the dropped capabilities', () => {
    const d = diffPolicies(doc({ 'a/b': { capabilities: ['read'] } }), doc({ 'a/b': { capabilities: ['deny'] } }));
    expect(d.paths[0]!.capabilities).toEqual({ added: ['deny'], removed: ['read'] });
  });
});
