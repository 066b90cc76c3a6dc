/**
 * Where `keyward run` gets its secrets: the vault, or - only when the vault is unreachable and the
 * operator configured one - the encrypted fallback cache. "Unreachable" means a network error, a
 * timeout or 503 after the SDK's retries; a 403/404 or any other answer fails closed even with a
 * cache, because the vault *did* answer and said no.
 */
import { KeywardError } from '../../../vault/src/core/errors.js';
import { KeywardApiError } from '../../sdk/http-client.js';
import type { KeywardClient } from '../../sdk/client.js';
import { readCache, writeCache } from './fallback-cache.js';
import type { SecretSpec } from './env-mapping.js';

export interface FallbackConfig {
  readonly file: string;
  readonly cacheKey: Buffer;
  readonly namespace: string | null;
}

export type SecretValues = Record<string, Record<string, string>>;

export interface FetchOutcome {
  readonly values: SecretValues;
  readonly source: 'vault' | 'cache';
  /** For source 'cache': when the cache was written. */
  readonly cachedAt?: string;
}

export function isUnreachable(err: unknown): boolean {
  return err instanceof KeywardApiError && (err.kind === 'network' || err.kind === 'timeout' || err.status === 503);
}

export async function fetchSecrets(client: KeywardClient, specs: readonly SecretSpec[], fallback: FallbackConfig | undefined): Promise<FetchOutcome> {
  const paths = [...new Set(specs.map((s) => s.path))];
  try {
    const values = await client.loadSecrets(paths);
    if (fallback) writeCache(fallback.file, fallback.cacheKey, fallback.namespace, values);
    return { values, source: 'vault' };
  } catch (err) {
    if (!fallback || !isUnreachable(err)) throw err;
    const cached = readCache(fallback.file, fallback.cacheKey, fallback.namespace);
    const missing = paths.filter((p) => !cached.secrets[p]);
    if (missing.length > 0) throw new KeywardError('ERR_NOT_FOUND', `vault unreachable and the fallback cache lacks ${missing.join(', ')}`, { cause: err });
    const values: SecretValues = {};
    for (const p of paths) values[p] = cached.secrets[p]!;
    return { values, source: 'cache', cachedAt: cached.writtenAt };
  }
}
