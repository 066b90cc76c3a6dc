/**
 * performance.hsmCallMode: the config value and how 'auto' resolves from the loaded module's C_GetInfo.
 */
import { describe, expect, it } from 'vitest';
import type { Pkcs11 } from '../../../vault/src/adapters/pkcs11/library.js';
import { resolveCallMode } from '../../../vault/src/adapters/pkcs11/pkcs11-hsm.js';
import { PerformanceSchema } from '../../../vault/src/config.js';

const moduleBy = (manufacturerID: string | Error): Pkcs11 =>
  ({
    C_GetInfo: () => {
      if (manufacturerID instanceof Error) throw manufacturerID;
      return { manufacturerID: manufacturerID.padEnd(32, ' '), libraryDescription: 'Implementation of PKCS11'.padEnd(32, ' ') };
    },
  }) as unknown as Pkcs11;

describe('HSM call mode', () => {
  it('when the config does not set it, then it is auto; unknown values are refused', () => {
    expect(PerformanceSchema.parse({}).hsmCallMode).toBe('auto');
    expect(PerformanceSchema.parse({ hsmCallMode: 'async' }).hsmCallMode).toBe('async');
    expect(PerformanceSchema.safeParse({ hsmCallMode: 'fast' }).success).toBe(false);
  });

  it('when auto and the module is SoftHSM, then sync; any other module, or no answer, then async', () => {
    expect(resolveCallMode(moduleBy('SoftHSM'), 'auto')).toBe('sync');
    expect(resolveCallMode(moduleBy('Thales'), 'auto')).toBe('async');
    expect(resolveCallMode(moduleBy('Utimaco IS GmbH'), 'auto')).toBe('async');
    expect(resolveCallMode(moduleBy(new Error('CKR_GENERAL_ERROR')), 'auto')).toBe('async');
  });

  it('when set explicitly, then it is used whatever the module', () => {
    expect(resolveCallMode(moduleBy('SoftHSM'), 'async')).toBe('async');
    expect(resolveCallMode(moduleBy('Thales'), 'sync')).toBe('sync');
  });
});
