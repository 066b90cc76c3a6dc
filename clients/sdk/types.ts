/**
 * Wire shapes of the Vault-compatible HTTP API the SDK speaks (DESIGN.md §2), and the SDK's public
 * option/result types. Field names on the wire are Vault's snake_case; the SDK's own are camelCase.
 */
import type { RetryPolicy } from './retry.js';
import type { HttpTransport } from './http-client.js';

export interface VaultAuthBlock {
  readonly client_token: string;
  readonly accessor?: string;
  readonly policies?: readonly string[] | null;
  readonly token_policies?: readonly string[] | null;
  readonly lease_duration?: number;
  readonly renewable?: boolean;
}

export interface VaultResponse<D> {
  readonly request_id?: string;
  readonly lease_duration?: number;
  readonly renewable?: boolean;
  readonly data?: D | null;
  readonly auth?: VaultAuthBlock | null;
  readonly warnings?: readonly string[] | null;
}

/** How the client authenticates. Exactly one shape. */
export type AuthConfig =
  | { readonly token: string }
  | { readonly appRole: { readonly roleId: string; readonly secretId: string; readonly mount?: string } }
  | { readonly jwt: { readonly role: string; readonly jwt?: string; readonly jwtFile?: string; readonly mount?: string } }
  /**
   * A single-use wrapping token (secure introduction). When it wraps only an AppRole `secret_id`
   * (Vault's usual pattern: the role id is delivered separately, e.g. baked into the image), give
   * that `roleId` too.
   */
  | { readonly wrappingToken: string; readonly roleId?: string };

/** What the optional logger receives: never a body, token or secret. */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  /** HTTP status, or 0 for a network error / timeout. */
  readonly status: number;
  readonly durationMs: number;
  readonly attempt: number;
}

export interface SdkLogger {
  debug(entry: RequestLogEntry): void;
}

export interface ClientOptions {
  /** e.g. https://127.0.0.1:8200. Not needed when `transport` is given. */
  readonly address?: string;
  /** Environment (Vault namespace), sent as X-Vault-Namespace. */
  readonly namespace?: string;
  readonly caFile?: string;
  readonly caPem?: string;
  readonly auth: AuthConfig;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  readonly retries?: RetryPolicy;
  readonly logger?: SdkLogger;
  /** Step-up MFA credentials `method:code`, sent as X-Vault-MFA on login requests. */
  readonly mfa?: readonly string[];
  /** Use an existing transport (the CLI builds one from its context); address/CA/namespace are then ignored. */
  readonly transport?: HttpTransport;
}

export interface LoginResult {
  readonly method: 'token' | 'approle' | 'jwt';
  readonly accessor: string | undefined;
  readonly policies: readonly string[];
  /** Seconds; 0 means the server set no expiry. */
  readonly leaseDurationSeconds: number;
  readonly renewable: boolean;
}

export interface TransitOptions {
  /** Key-derivation context: a Buffer, or a string that is already base64 (as Vault's API takes it). */
  readonly context?: Buffer | string;
  readonly keyVersion?: number;
}

export interface EncryptResult {
  readonly ciphertext: string;
  readonly keyVersion: number | undefined;
}

export interface DataKeyResult {
  readonly ciphertext: string;
  /** Present only for type 'plaintext'. Zero it (fill(0)) once used. */
  readonly plaintext: Buffer | undefined;
  readonly keyVersion: number | undefined;
}

export type BatchEncryptResult = { readonly ciphertext: string; readonly keyVersion: number | undefined } | { readonly error: string };
export type BatchDecryptResult = { readonly plaintext: Buffer } | { readonly error: string };

export interface KvVersionMetadata {
  readonly version: number;
  readonly createdTime: string | undefined;
  readonly deletionTime: string | undefined;
  readonly destroyed: boolean;
}

export interface KvSecret {
  readonly data: Record<string, unknown>;
  readonly metadata: KvVersionMetadata;
}

export interface KvMetadata {
  readonly currentVersion: number;
  readonly oldestVersion: number | undefined;
  readonly createdTime: string | undefined;
  readonly updatedTime: string | undefined;
  readonly maxVersions: number | undefined;
  readonly casRequired: boolean;
  readonly customMetadata: Record<string, string>;
  readonly versions: readonly KvVersionMetadata[];
}
