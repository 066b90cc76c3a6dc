/**
 * The Hsm port: the few domain operations Keyward needs from a key-holding device. Adapters
 * (Pkcs11Hsm over a PKCS#11 module, MemoryHsm for unit tests, FaultyHsm around either) pick IVs and
 * manage sessions, handles and caches; callers never see PKCS#11 objects.
 *
 * Invariants every adapter keeps (checked by test/contract/hsm.contract.ts):
 * - Root KEKs and key versions are generated inside the device from its RNG and are never returned
 *   in plaintext. A key version leaves the device only wrapped under a root KEK (RFC 5649, KWP).
 * - `seal`/`open` are AES-256-GCM (SP 800-38D) under a key version with a fresh random 96-bit IV
 *   per call; `open` with a wrong AAD, tag, IV or key fails with ERR_DECRYPTION_FAILED only.
 * - A device that is absent or failing raises ERR_HSM_UNAVAILABLE (retryable), never a raw CKR_*.
 * - All methods are async. A device call blocks the event loop only where the PKCS#11 adapter is told
 *   it may (`performance.hsmCallMode`: synchronous calls for a local software token, no device I/O).
 */
import type { Environment } from '../types.js';

/** A root KEK in the token: one active term per environment; rotation adds term + 1. */
export interface RootKeyRef {
  readonly env: Environment;
  readonly term: number;
}

/**
 * A key version as the device needs it: the blob wrapped under `root`, plus a stable cache id
 * (e.g. `prod/payments/3@t1`) under which the adapter may keep the unwrapped object loaded.
 * The id must change whenever the blob does (new root term), so a stale handle is never used.
 */
export interface WrappedKeyRef {
  readonly cacheId: string;
  readonly root: RootKeyRef;
  readonly wrappedKek: Uint8Array;
}

/** Public half of a signing key, as a JWK (EC P-256 for ES256, or OKP Ed25519 for EdDSA). */
export interface PublicJwk {
  readonly kty: 'EC' | 'OKP';
  readonly crv: 'P-256' | 'Ed25519';
  readonly x: string;
  readonly y?: string;
}

export interface HsmStatus {
  readonly available: boolean;
  readonly module: string; // e.g. "SoftHSM v2 2.6.1" or "memory"
  readonly tokenLabel: string;
  readonly message?: string;
}

export interface Hsm {
  /** Find the root KEK for (env, term), generating it in the token if absent. Idempotent. */
  ensureRootKey(root: RootKeyRef): Promise<void>;
  hasRootKey(root: RootKeyRef): Promise<boolean>;
  /** Destroy a retired root KEK. Irreversible: blobs still wrapped under it become useless. */
  destroyRootKey(root: RootKeyRef): Promise<void>;

  /** Generate a new AES-256 key version inside the device and return it wrapped under `root`. */
  generateWrappedKey(root: RootKeyRef): Promise<Uint8Array>;
  /** Re-wrap a key-version blob from one root to another; the key value never leaves the device. */
  rewrapKey(key: WrappedKeyRef, to: RootKeyRef): Promise<Uint8Array>;
  /** Drop any loaded object for this cache id (after a key version is destroyed or re-wrapped). */
  forgetKey(cacheId: string): Promise<void>;

  /** AES-256-GCM seal under a key version. Returns iv(12) || ciphertext || tag(16). */
  seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  /** Inverse of `seal`. Any failure is ERR_DECRYPTION_FAILED (one message, no oracle). */
  open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer>;

  /** Bytes from the device RNG. */
  randomBytes(length: number): Promise<Buffer>;

  /** Find or generate an ECDSA P-256 key pair with this label; returns the public JWK. */
  ensureSigningKey(label: string): Promise<PublicJwk>;
  /** ES256 signature (raw r || s, 64 bytes) over SHA-256(data); JWS-ready. */
  signEs256(label: string, data: Uint8Array): Promise<Buffer>;
  /** Find or generate a non-extractable HMAC-SHA256 key (32 bytes) with this label. */
  ensureMacKey(label: string): Promise<void>;
  hmacSha256(label: string, data: Uint8Array): Promise<Buffer>;
  /** Destroy a signing or MAC key by label (retired JWT keys, rotated audit keys). */
  destroyKeyByLabel(label: string): Promise<void>;

  status(): Promise<HsmStatus>;
  close(): Promise<void>;
}
