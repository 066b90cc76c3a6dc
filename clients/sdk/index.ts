/**
 * Keyward's TypeScript SDK: a typed client for Keyward's (and Vault's) HTTP API with login,
 * automatic re-login, retries with backoff, transit, KV v2 secrets and bulk secret loading.
 * ESM, no runtime dependencies beyond node built-ins.
 */
export { createClient, LOAD_SECRETS_CONCURRENCY, type KeywardClient } from './client.js';
export { KeywardApiError, HttpTransport, type ErrorKind, type TransportOptions } from './http-client.js';
export { KeywardError } from '../../vault/src/core/errors.js';
export { DEFAULT_RETRY_POLICY, isRetryable, backoffDelayMs, type RetryPolicy, type RetryClass } from './retry.js';
export { kvRelativePath, KV_MOUNT, type SecretsApi } from './secrets.js';
export type { TransitApi } from './transit.js';
export type * from './types.js';
