import { describe, expect, it } from 'vitest';
import { KeywardError } from '../../../vault/src/core/errors.js';
import {
  DEFAULT_POLICY,
  type HclDecoder,
  parseHclPolicy,
  parseJsonPolicy,
  parsePolicyName,
  parsePolicyText,
  policyFromDocument,
  serializePolicy,
  toPolicyDocument,
} from '../../../vault/src/authz/policy.js';

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeywardError);
    expect((e as KeywardError).code).toBe('ERR_INVALID_INPUT');
    return (e as KeywardError).message;
  }
  throw new Error('expected ERR_INVALID_INPUT');
}

describe('parseJsonPolicy', () => {
  it('parses the full Vault JSON form', () => {
    const p = parseJsonPolicy(
      JSON.stringify({
        path: {
          'transit/encrypt/payments': {
            capabilities: ['update', 'create'],
            allowed_parameters: { plaintext: [], Context: ['a*'] },
            denied_parameters: { key_version: [] },
            required_parameters: ['PlainText'],
            mfa_methods: ['totp-ops'],
            min_wrapping_ttl: '1m',
            max_wrapping_ttl: '1h30m',
          },
        },
      }),
    );
    expect(p.rules).toHaveLength(1);
    const r = p.rules[0]!;
    expect(r.path).toBe('transit/encrypt/payments');
    expect(r.capabilities).toEqual(['create', 'update']);
    expect([...r.allowedParameters.entries()]).toEqual([['plaintext', []], ['context', ['a*']]]);
    expect(r.requiredParameters).toEqual(['plaintext']);
    expect(r.mfaMethods).toEqual(['totp-ops']);
    expect(r.minWrappingTtlSeconds).toBe(60);
    expect(r.maxWrappingTtlSeconds).toBe(5400);
  });

  it('normalises deny to deny alone and strips a leading slash', () => {
    const p = policyFromDocument({ path: { '/secret/x': { capabilities: ['read', 'deny'], allowed_parameters: { a: [] } } } });
    expect(p.rules[0]).toMatchObject({ path: 'secret/x', capabilities: ['deny'] });
    expect(p.rules[0]!.allowedParameters.size).toBe(0);
  });

  it.each([
    ['invalid JSON', '{"path": ', /not valid JSON/],
    ['unknown capability', JSON.stringify({ path: { 'secret/*': { capabilities: ['reed'] } } }), /unknown capability "reed"/],
    ['* not at the end', JSON.stringify({ path: { 'secret/*/x': { capabilities: ['read'] } } }), /'\*' is only allowed at the end/],
    ['+ inside a segment', JSON.stringify({ path: { 'secret/a+b': { capabilities: ['read'] } } }), /'\+' must be a whole path segment/],
    ['empty inner segment', JSON.stringify({ path: { 'secret//x': { capabilities: ['read'] } } }), /empty segment/],
    ['empty path', JSON.stringify({ path: { '': { capabilities: ['read'] } } }), /must not be empty/],
    ['unknown rule field', JSON.stringify({ path: { 'secret/x': { capabilities: ['read'], polcy: 'x' } } }), /unknown field\(s\) "polcy"/],
    ['unknown top-level field', JSON.stringify({ paths: {} }), /unknown top-level field "paths"/],
    ['not an object', '[]', /must be an object/],
    ['capabilities not a list', JSON.stringify({ path: { 'secret/x': { capabilities: 'read' } } }), /capabilities/],
    ['bad duration', JSON.stringify({ path: { 'secret/x': { capabilities: ['read'], max_wrapping_ttl: 'soon' } } }), /max_wrapping_ttl is not a valid duration/],
    ['max below min', JSON.stringify({ path: { 'secret/x': { capabilities: ['read'], min_wrapping_ttl: 60, max_wrapping_ttl: 30 } } }), /cannot be less than/],
  ])('rejects %s with ERR_INVALID_INPUT', (_name, text, message) => {
    expect(invalid(() => parseJsonPolicy(text))).toMatch(message);
  });

  it.each(['*', '+', 'a/+/b', 'a/+*', 'secret/metadata/', 'x/+/y*', 'transit/+/payments'])('accepts the pattern %s', (pattern) => {
    expect(policyFromDocument({ path: { [pattern]: { capabilities: ['read'] } } }).rules[0]!.path).toBe(pattern);
  });

  it('merges duplicate blocks for one pattern (as Vault does)', () => {
    const p = policyFromDocument({ path: [{ 'secret/*': [{ capabilities: ['read'] }] }, { 'secret/*': [{ capabilities: ['list'] }] }] });
    expect(p.rules).toHaveLength(1);
    expect(p.rules[0]!.capabilities).toEqual(['read', 'list']);
  });

  it('round-trips through its canonical document', () => {
    const p = parseJsonPolicy(
      '{"path": {"a/*": {"capabilities": ["read"], "allowed_parameters": {"x": [1, "y*"]}, "denied_parameters": {"__proto__": [], "constructor": ["v"]}, "required_parameters": ["x"], "mfa_methods": ["m"], "max_wrapping_ttl": 30}}}',
    );
    const again = parseJsonPolicy(serializePolicy(p));
    expect(toPolicyDocument(again)).toEqual(toPolicyDocument(p));
    expect(again.rules[0]!.deniedParameters.get('__proto__')).toEqual([]);
    expect(again.rules[0]!.deniedParameters.get('constructor')).toEqual(['v']);
  });
});

describe('HCL', () => {
  // Output of js-hcl-parser@1.0.1 (hashicorp/hcl v1) for a policy with duplicate blocks and
  // `allowed_parameters = { ... }` / `denied_parameters { ... }`, captured verbatim.
  const HCL1_OUTPUT = {
    path: [
      { 'secret/*': [{ capabilities: ['read'] }] },
      {
        'transit/encrypt/payments': [
          {
            allowed_parameters: [{ context: ['a*', 'b'], plaintext: [] }],
            capabilities: ['update', 'create'],
            denied_parameters: [{ key_version: [1, 2] }],
            max_wrapping_ttl: '1h',
            mfa_methods: ['totp-ops'],
            required_parameters: ['plaintext'],
          },
        ],
      },
      { 'secret/*': [{ capabilities: ['list'] }] },
    ],
  };
  // Output shape of HCL2 decoders (hcl2-parser, @cdktf/hcl2json) for the same kind of document.
  const HCL2_OUTPUT = {
    path: {
      'secret/*': [{ capabilities: ['read'] }, { capabilities: ['list'] }],
      'transit/encrypt/payments': [{ allowed_parameters: { context: ['a*', 'b'], plaintext: [] }, capabilities: ['update', 'create'] }],
    },
  };
  const fixed = (value: unknown): HclDecoder => ({ decode: () => value });

  it.each([
    ['HCL1 (js-hcl-parser) shape', HCL1_OUTPUT],
    ['HCL2 (hcl2-parser, @cdktf/hcl2json) shape', HCL2_OUTPUT],
  ])('normalises the %s', (_n, out) => {
    const p = parseHclPolicy('path "secret/*" { capabilities = ["read"] }', fixed(out));
    const secret = p.rules.find((r) => r.path === 'secret/*')!;
    expect(secret.capabilities).toEqual(['read', 'list']);
    const enc = p.rules.find((r) => r.path === 'transit/encrypt/payments')!;
    expect(enc.capabilities).toEqual(['create', 'update']);
    expect(enc.allowedParameters.get('context')).toEqual(['a*', 'b']);
  });

  it('a decoder syntax error becomes ERR_INVALID_INPUT carrying the position', () => {
    const broken: HclDecoder = {
      decode: () => {
        throw new Error('At 1:38: object expected closing RBRACE got: EOF');
      },
    };
    expect(invalid(() => parseHclPolicy('path "a" {', broken))).toMatch(/not valid HCL: At 1:38/);
  });

  it('parsePolicyText sends JSON to the JSON parser and HCL to the decoder', () => {
    expect(parsePolicyText('  {"path": {"a": {"capabilities": ["read"]}}}').rules[0]!.path).toBe('a');
    expect(parsePolicyText('path "x" {}', fixed({ path: { x: [{ capabilities: ['list'] }] } })).rules[0]!.capabilities).toEqual(['list']);
    expect(invalid(() => parsePolicyText('path "x" {}'))).toMatch(/HCL policies are not supported/);
  });
});

describe('names and built-ins', () => {
  it('lower-cases names and refuses to write root', () => {
    expect(parsePolicyName('Ops-Team')).toBe('ops-team');
    expect(parsePolicyName('root')).toBe('root');
    expect(invalid(() => parsePolicyName('root', 'write'))).toMatch(/root policy/);
    expect(invalid(() => parsePolicyName('a b'))).toMatch(/invalid policy name/);
  });
  it('the default policy holds the self-service token paths', () => {
    expect(DEFAULT_POLICY.rules.map((r) => r.path).sort()).toEqual([
      'auth/token/lookup-self',
      'auth/token/renew-self',
      'auth/token/revoke-self',
      'sys/capabilities-self',
      'sys/wrapping/lookup',
      'sys/wrapping/unwrap',
      'sys/wrapping/wrap',
    ]);
  });
});
