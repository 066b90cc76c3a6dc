import { describe, expect, it } from 'vitest';
import { defaultPrefix, envVarName, mapSecretsToEnv, parseSecretSpec } from '../../../clients/cli/run/env-mapping.js';

describe('keyward run env mapping', () => {
  it('when a secret path and field are mapped, then the variable is PATH_WITHOUT_MOUNT_FIELD uppercased', () => {
    const spec = parseSecretSpec('secret/payments/db');
    expect(spec).toEqual({ path: 'secret/payments/db', prefix: 'PAYMENTS_DB' });
    expect(envVarName(spec.prefix, 'password')).toBe('PAYMENTS_DB_PASSWORD');
  });

  it('when the path or field has -, . or /, then they become _', () => {
    expect(defaultPrefix('secret/team-a/svc.v2/db')).toBe('TEAM_A_SVC_V2_DB');
    expect(envVarName('X', 'api-key.v1')).toBe('X_API_KEY_V1');
  });

  it('when a prefix override is given, then it replaces the derived prefix; an empty one leaves the bare field', () => {
    expect(parseSecretSpec('secret/x/y:DB').prefix).toBe('DB');
    expect(envVarName(parseSecretSpec('secret/x/y:DB').prefix, 'url')).toBe('DB_URL');
    expect(envVarName(parseSecretSpec('secret/x/y:').prefix, 'url')).toBe('URL');
  });

  it('when the spec is invalid, then it is rejected', () => {
    expect(() => parseSecretSpec('secret/x:9BAD')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }));
    expect(() => parseSecretSpec('secret/../x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }));
    expect(() => envVarName('P', 'has space')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }));
  });

  it('when several secrets are mapped, then every field becomes its variable', () => {
    const specs = ['secret/payments/db', 'secret/payments/api'].map(parseSecretSpec);
    const env = mapSecretsToEnv(specs, { 'secret/payments/db': { password: 'pw', user: 'u' }, 'secret/payments/api': { key: 'k' } });
    expect(env).toEqual({ PAYMENTS_DB_PASSWORD: 'pw', PAYMENTS_DB_USER: 'u', PAYMENTS_API_KEY: 'k' });
  });

  it('when two fields map to the same variable, then mapping fails with ERR_CONFLICT naming both and no value', () => {
    // secret/a-b + field c and secret/a + field b-c both give A_B_C.
    const specs = ['secret/a-b', 'secret/a'].map(parseSecretSpec);
    let caught: unknown;
    try {
      mapSecretsToEnv(specs, { 'secret/a-b': { c: 'value-one' }, 'secret/a': { 'b-c': 'value-two' } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'ERR_CONFLICT' });
    const msg = (caught as Error).message;
    expect(msg).toContain('A_B_C');
    expect(msg).toContain('secret/a-b#c');
    expect(msg).toContain('secret/a#b-c');
    expect(msg).not.toContain('value-one');
  });

  it('when prefix overrides make two secrets collide, then mapping fails', () => {
    const specs = ['secret/x:P', 'secret/y:P'].map(parseSecretSpec);
    expect(() => mapSecretsToEnv(specs, { 'secret/x': { k: '1' }, 'secret/y': { k: '2' } })).toThrow(expect.objectContaining({ code: 'ERR_CONFLICT' }));
  });

  it('when the same secret is listed twice, then it is not a collision', () => {
    const specs = ['secret/x', 'secret/x'].map(parseSecretSpec);
    expect(mapSecretsToEnv(specs, { 'secret/x': { k: '1' } })).toEqual({ X_K: '1' });
  });
});
