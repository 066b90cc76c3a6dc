/**
 * Transit operations (Vault's /v1/transit/{encrypt,decrypt,rewrap,datakey}/:name). Plaintext goes
 * out base64-encoded and comes back as a Buffer; the SDK never logs either.
 */
import { KeywardError } from '../../vault/src/core/errors.js';
import type { AuthedCall } from './client.js';
import type { BatchDecryptResult, BatchEncryptResult, DataKeyResult, EncryptResult, TransitOptions, VaultResponse } from './types.js';

export interface TransitApi {
  encrypt(key: string, plaintext: Buffer | string, opts?: TransitOptions): Promise<EncryptResult>;
  decrypt(key: string, ciphertext: string, opts?: TransitOptions): Promise<Buffer>;
  rewrap(key: string, ciphertext: string, opts?: TransitOptions): Promise<EncryptResult>;
  datakey(key: string, opts: { type: 'plaintext' | 'wrapped'; bits?: 128 | 256 | 512; context?: Buffer | string }): Promise<DataKeyResult>;
  encryptBatch(key: string, items: ReadonlyArray<{ plaintext: Buffer | string; context?: Buffer | string }>, opts?: { keyVersion?: number }): Promise<BatchEncryptResult[]>;
  decryptBatch(key: string, items: ReadonlyArray<{ ciphertext: string; context?: Buffer | string }>): Promise<BatchDecryptResult[]>;
}

interface CipherData {
  readonly ciphertext?: string;
  readonly plaintext?: string;
  readonly key_version?: number;
  readonly error?: string;
}

const b64 = (v: Buffer | string): string => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64');
/** A string context is taken as already base64, exactly as Vault's API expects it. */
const ctx = (v: Buffer | string | undefined): { context?: string } => (v === undefined ? {} : { context: typeof v === 'string' ? v : v.toString('base64') });
const keyPath = (op: string, key: string): string => `/v1/transit/${op}/${encodeURIComponent(key)}`;

function versionOf(d: CipherData): number | undefined {
  if (typeof d.key_version === 'number') return d.key_version;
  const m = /^vault:v(\d+):/.exec(d.ciphertext ?? '');
  return m ? Number(m[1]) : undefined;
}

function need<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new KeywardError('ERR_INTERNAL', `server response is missing ${what}`);
  return v;
}

export function makeTransit(call: AuthedCall): TransitApi {
  return {
    async encrypt(key, plaintext, opts) {
      const res = await call<VaultResponse<CipherData>>('POST', keyPath('encrypt', key), {
        body: { plaintext: b64(plaintext), ...ctx(opts?.context), ...(opts?.keyVersion !== undefined ? { key_version: opts.keyVersion } : {}) },
        retry: 'idempotent',
      });
      const d = need(res.data, 'data');
      return { ciphertext: need(d.ciphertext, 'ciphertext'), keyVersion: versionOf(d) };
    },
    async decrypt(key, ciphertext, opts) {
      const res = await call<VaultResponse<CipherData>>('POST', keyPath('decrypt', key), { body: { ciphertext, ...ctx(opts?.context) }, retry: 'idempotent' });
      return Buffer.from(need(res.data?.plaintext, 'plaintext'), 'base64');
    },
    async rewrap(key, ciphertext, opts) {
      const res = await call<VaultResponse<CipherData>>('POST', keyPath('rewrap', key), {
        body: { ciphertext, ...ctx(opts?.context), ...(opts?.keyVersion !== undefined ? { key_version: opts.keyVersion } : {}) },
        retry: 'idempotent',
      });
      const d = need(res.data, 'data');
      return { ciphertext: need(d.ciphertext, 'ciphertext'), keyVersion: versionOf(d) };
    },
    async datakey(key, opts) {
      if (opts.type !== 'plaintext' && opts.type !== 'wrapped') throw new KeywardError('ERR_INVALID_INPUT', "datakey type must be 'plaintext' or 'wrapped'");
      const res = await call<VaultResponse<CipherData>>('POST', `/v1/transit/datakey/${opts.type}/${encodeURIComponent(key)}`, {
        body: { ...(opts.bits !== undefined ? { bits: opts.bits } : {}), ...ctx(opts.context) },
        retry: 'idempotent',
      });
      const d = need(res.data, 'data');
      return { ciphertext: need(d.ciphertext, 'ciphertext'), plaintext: d.plaintext ? Buffer.from(d.plaintext, 'base64') : undefined, keyVersion: versionOf(d) };
    },
    async encryptBatch(key, items, opts) {
      const res = await call<VaultResponse<{ batch_results?: CipherData[] }>>('POST', keyPath('encrypt', key), {
        body: { batch_input: items.map((i) => ({ plaintext: b64(i.plaintext), ...ctx(i.context) })), ...(opts?.keyVersion !== undefined ? { key_version: opts.keyVersion } : {}) },
        retry: 'idempotent',
      });
      const results = need(res.data?.batch_results, 'batch_results');
      return results.map((r): BatchEncryptResult => (r.error || !r.ciphertext ? { error: r.error ?? 'no ciphertext' } : { ciphertext: r.ciphertext, keyVersion: versionOf(r) }));
    },
    async decryptBatch(key, items) {
      const res = await call<VaultResponse<{ batch_results?: CipherData[] }>>('POST', keyPath('decrypt', key), {
        body: { batch_input: items.map((i) => ({ ciphertext: i.ciphertext, ...ctx(i.context) })) },
        retry: 'idempotent',
      });
      const results = need(res.data?.batch_results, 'batch_results');
      return results.map((r): BatchDecryptResult => (r.error || r.plaintext === undefined ? { error: r.error ?? 'no plaintext' } : { plaintext: Buffer.from(r.plaintext, 'base64') }));
    },
  };
}
