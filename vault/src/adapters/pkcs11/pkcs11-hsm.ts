/**
 * Pkcs11Hsm: the Hsm port over a PKCS#11 module (SoftHSM2 2.6.1 in dev and tests) via pkcs11js.
 *
 * Responsibilities: find the token by label, keep a pool of logged-in sessions, keep the key
 * hierarchy of DESIGN.md §3 (templates.ts), pick GCM IVs from the token RNG, translate CKR codes.
 *
 * Invariants:
 * - Root KEKs never leave the token; key versions leave it only wrapped with CKM_AES_KEY_WRAP_PAD
 *   (RFC 5649) and are loaded back as sensitive, non-extractable session objects.
 * - Every seal uses a fresh 96-bit IV from the token RNG (SP 800-38D §8.2.2, random IV
 *   construction; keep below 2^32 seals per key version, which key rotation policy enforces).
 * - open() fails only with ERR_DECRYPTION_FAILED for anything about its inputs (tag, AAD, IV,
 *   truncation, wrong/unknown key or root); device and session faults stay ERR_HSM_UNAVAILABLE.
 * - Call mode (option `callMode`, config `performance.hsmCallMode`): in 'async' mode request-path
 *   device work runs through the *Async calls (libuv pool); only the C_*Init, object lookups and
 *   C_GenerateRandom (no async variant in pkcs11js; randomBytes takes its lane without a promise
 *   in both modes) are synchronous. In 'sync' mode the small request-path operations (seal/open
 *   of up to SYNC_MAX_BYTES, HMAC of up to SYNC_MAX_BYTES, the key-version unwrap they may need)
 *   call the synchronous functions on the main thread: on an in-process software token that is
 *   cheaper than a threadpool round trip (no dispatch, no completion callback, no pool thread).
 *   A synchronous call cannot be timed out by
 *   the resilience layer and blocks the event loop for its length, so 'auto' picks sync only for a
 *   local software token (SoftHSM, found by C_GetInfo) and async for anything else, where a call can
 *   wait milliseconds on a network. Bulk and rare operations (key generation, rewrap, signing,
 *   larger payloads) stay async in both modes.
 * - A synchronous operation holds its session only while it runs and no other JS runs meanwhile,
 *   so it takes a free lane without a promise (SessionPool.runNow); retry-once and error mapping
 *   are the same code as for async operations (`recover`).
 * - A lost session/login (token reset, C_CloseAllSessions) is repaired transparently and the
 *   operation retried once; loaded key versions are then unwrapped again from their blobs.
 *
 * CKA_WRAP_WITH_TRUSTED / CKA_TRUSTED (DESIGN.md §3) — FALLBACK, see NOTES.md: on SoftHSM2 2.6.1
 * only an SO session can set CKA_TRUSTED, an SO session can neither see nor create CKA_PRIVATE
 * objects, and SO + user logins cannot coexist in one process. A trusted root would have to be a
 * *public* token object, which SoftHSM stores unencrypted in the token dir: worse than no trust
 * flag. So roots are private user objects and key versions are not CKA_WRAP_WITH_TRUSTED. The
 * user PIN is the boundary; loaded key versions are non-extractable, and the extractable objects of
 * generateWrappedKey/rewrapKey live only for the length of that call.
 */
import crypto from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { KeywardError, decryptionFailed, hsmUnavailable, invalidInput, notFound } from '../../core/errors.js';
import type { Hsm, HsmStatus, PublicJwk, RootKeyRef, WrappedKeyRef } from '../../core/ports/hsm.js';
import { p256PointToJwk } from './ec-jwk.js';
import { KeyCache, type CachedKey } from './key-cache.js';
import { acquireLibrary, type LibraryLease, type Pkcs11 } from './library.js';
import { isDeviceOrSessionFault, isHandleStale, isSessionLost, toKeywardError } from './pkcs11-errors.js';
import { RandomBuffer } from './random-buffer.js';
import { LANES_BUSY, PoolClosedError, SessionPool, type Lane } from './session-pool.js';
import * as T from './templates.js';

const P = pkcs11js;
type Handle = pkcs11js.Handle;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KWP: pkcs11js.Mechanism = { mechanism: P.CKM_AES_KEY_WRAP_PAD };
/** Largest seal/open/HMAC input done synchronously in 'sync' mode (a DEK is 32 bytes). */
const SYNC_MAX_BYTES = 16 * 1024;

/** 'auto': sync for a local software token (SoftHSM), async for anything else. */
export type HsmCallMode = 'auto' | 'sync' | 'async';

export interface Pkcs11HsmOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly modulePath: string;
  readonly tokenLabel: string;
  /** User PIN; never logged, never in an error message. */
  readonly pin: string;
  /** Concurrent operations (one per session). Default 4 (libuv's default threadpool size). */
  readonly sessionPoolSize?: number;
  /** SoftHSM only: exported as SOFTHSM2_CONF before C_Initialize (see library.ts). */
  readonly softhsmConf?: string;
  /** Loaded key versions kept as session objects (LRU). Default 1024. */
  readonly keyCacheSize?: number;
  /** How request-path operations call the module (see the module header). Default 'auto'. */
  readonly callMode?: HsmCallMode;
}

interface CachedHandle {
  readonly handle: Handle;
  readonly generation: number;
}

const rootKeyOf = (root: RootKeyRef): string => `${root.env}#${root.term}`;

/**
 * One lock for every creation or destruction of a token object (roots, signing and MAC keys):
 * SoftHSM2's file-backed object store answers CKR_GENERAL_ERROR to concurrent token-object
 * creations now and then (seen under load in the contract suite). They are rare (start-up,
 * rotation), so serialising them costs nothing on request paths.
 */
const TOKEN_OBJECTS = 'token-objects';

/** Open the token and log in; fails with ERR_HSM_UNAVAILABLE if the module, token or PIN is wrong. */
export async function openPkcs11Hsm(options: Pkcs11HsmOptions): Promise<Pkcs11Hsm> {
  return Pkcs11Hsm.open(options);
}

export class Pkcs11Hsm implements Hsm {
  private readonly keyCache: KeyCache;
  private readonly random = new RandomBuffer();
  private readonly rootHandles = new Map<string, CachedHandle>();
  private readonly labelHandles = new Map<string, CachedHandle>();
  /** Serialises find-or-create per object, so one process never creates a duplicate. */
  private readonly creating = new Map<string, Promise<unknown>>();
  private closed = false;
  private readonly syncCalls: boolean;

  private constructor(
    private readonly lease: LibraryLease,
    private readonly slot: Handle,
    private readonly pool: SessionPool,
    private readonly tokenLabel: string,
    keyCacheSize: number,
    /** The call mode in force ('auto' resolved at open). */
    readonly callMode: 'sync' | 'async',
  ) {
    this.keyCache = new KeyCache(keyCacheSize);
    this.syncCalls = callMode === 'sync';
  }

  static async open(options: Pkcs11HsmOptions): Promise<Pkcs11Hsm> {
    const lease = acquireLibrary(options.modulePath, options.softhsmConf);
    try {
      const p = lease.pkcs11;
      const slot = findSlotByLabel(p, options.tokenLabel);
      if (slot === undefined) throw hsmUnavailable('HSM token not found');
      const pool = new SessionPool(p, slot, options.pin, options.sessionPoolSize ?? 4);
      try {
        pool.open();
      } catch (e) {
        pool.close();
        throw toKeywardError(e, 'login');
      }
      const callMode = resolveCallMode(p, options.callMode ?? 'auto');
      return new Pkcs11Hsm(lease, slot, pool, options.tokenLabel, options.keyCacheSize ?? 1024, callMode);
    } catch (e) {
      lease.release();
      throw toKeywardError(e, 'open');
    }
  }

  private get p(): Pkcs11 {
    return this.lease.pkcs11;
  }

  // ---- roots ---------------------------------------------------------------------------------

  async ensureRootKey(root: RootKeyRef): Promise<void> {
    await this.serialise(TOKEN_OBJECTS, () =>
      this.run('ensureRootKey', async (lane) => {
        if (this.findRoot(lane, root) !== undefined) return;
        const handle = await this.p.C_GenerateKeyAsync(lane.session, { mechanism: P.CKM_AES_KEY_GEN }, T.rootKeyTemplate(root));
        this.rootHandles.set(rootKeyOf(root), { handle, generation: lane.generation });
      }),
    );
  }

  async hasRootKey(root: RootKeyRef): Promise<boolean> {
    return this.run('hasRootKey', async (lane) => this.findRoot(lane, root) !== undefined);
  }

  async destroyRootKey(root: RootKeyRef): Promise<void> {
    await this.serialise(TOKEN_OBJECTS, () => this.run('destroyRootKey', async (lane) => {
      this.rootHandles.delete(rootKeyOf(root));
      for (const handle of this.findAll(lane.session, T.findRootTemplate(root))) this.p.C_DestroyObject(lane.session, handle);
      // Loaded key versions outlive their root in the token; drop them so the old blobs stop working.
      this.destroyQuietly(lane.session, this.keyCache.forgetRoot(rootKeyOf(root)));
    }));
  }

  // ---- key versions --------------------------------------------------------------------------

  async generateWrappedKey(root: RootKeyRef): Promise<Uint8Array> {
    return this.run('generateWrappedKey', async (lane) => {
      const rootHandle = this.requireRoot(lane, root);
      const temp = await this.p.C_GenerateKeyAsync(lane.session, { mechanism: P.CKM_AES_KEY_GEN }, T.newKeyVersionTemplate());
      try {
        return Buffer.from(await this.p.C_WrapKeyAsync(lane.session, KWP, rootHandle, temp, Buffer.alloc(64)));
      } finally {
        this.destroyQuietly(lane.session, [temp]);
      }
    });
  }

  async rewrapKey(key: WrappedKeyRef, to: RootKeyRef): Promise<Uint8Array> {
    return this.run('rewrapKey', async (lane) => {
      const fromHandle = this.requireRoot(lane, key.root);
      const toHandle = this.requireRoot(lane, to);
      let temp: Handle;
      try {
        temp = await this.p.C_UnwrapKeyAsync(lane.session, KWP, fromHandle, Buffer.from(key.wrappedKek), T.rewrapKeyVersionTemplate());
      } catch (e) {
        throw isDeviceOrSessionFault(e) ? e : decryptionFailed();
      }
      try {
        return Buffer.from(await this.p.C_WrapKeyAsync(lane.session, KWP, toHandle, temp, Buffer.alloc(64)));
      } finally {
        this.destroyQuietly(lane.session, [temp]);
      }
    });
  }

  async forgetKey(cacheId: string): Promise<void> {
    const handles = this.keyCache.forget(cacheId);
    if (handles.length === 0 || this.closed) return;
    await this.run('forgetKey', async (lane) => this.destroyQuietly(lane.session, handles));
  }

  seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    if (this.syncCalls && plaintext.length <= SYNC_MAX_BYTES) {
      return this.runSync('seal', (lane) => {
        try {
          return this.withKeyVersionSync(lane, key, (handle) => {
            const iv = this.takeIv(lane);
            this.p.C_EncryptInit(lane.session, gcm(iv, aad), handle);
            const ciphertextAndTag =
              plaintext.length === 0
                ? this.p.C_EncryptFinal(lane.session, Buffer.alloc(TAG_BYTES))
                : this.p.C_Encrypt(lane.session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + TAG_BYTES));
            return Buffer.concat([iv, ciphertextAndTag]);
          });
        } catch (e) {
          throw sealFailure(e);
        }
      });
    }
    return this.run('seal', async (lane) => {
      try {
        return await this.withKeyVersion(lane, key, async (handle) => {
          const iv = this.takeIv(lane);
          this.p.C_EncryptInit(lane.session, gcm(iv, aad), handle);
          // pkcs11js passes a NULL pointer for an empty input (CKR_ARGUMENTS_BAD): an empty
          // plaintext goes straight to C_EncryptFinal, which emits just the tag.
          const ciphertextAndTag =
            plaintext.length === 0
              ? await this.p.C_EncryptFinalAsync(lane.session, Buffer.alloc(TAG_BYTES))
              : await this.p.C_EncryptAsync(lane.session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + TAG_BYTES));
          return Buffer.concat([iv, ciphertextAndTag]);
        });
      } catch (e) {
        throw sealFailure(e);
      }
    });
  }

  open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    if (sealed.length < IV_BYTES + TAG_BYTES) return Promise.reject(decryptionFailed());
    const input = Buffer.from(sealed);
    const iv = input.subarray(0, IV_BYTES);
    const ciphertextAndTag = input.subarray(IV_BYTES);
    if (this.syncCalls && ciphertextAndTag.length <= SYNC_MAX_BYTES + TAG_BYTES) {
      return this.runSync('open', (lane) => {
        try {
          return this.withKeyVersionSync(lane, key, (handle) => {
            this.p.C_DecryptInit(lane.session, gcm(iv, aad), handle);
            return Buffer.from(this.p.C_Decrypt(lane.session, ciphertextAndTag, Buffer.alloc(ciphertextAndTag.length)));
          });
        } catch (e) {
          throw openFailure(e);
        }
      });
    }
    return this.run('open', async (lane) => {
      try {
        return await this.withKeyVersion(lane, key, async (handle) => {
          this.p.C_DecryptInit(lane.session, gcm(iv, aad), handle);
          // GCM auth failure is CKR_GENERAL_ERROR in SoftHSM (PKCS11-NOTES pitfall 9).
          return Buffer.from(await this.p.C_DecryptAsync(lane.session, ciphertextAndTag, Buffer.alloc(ciphertextAndTag.length)));
        });
      } catch (e) {
        throw openFailure(e);
      }
    });
  }

  /** C_GenerateRandom has no async variant: this is synchronous in both call modes. */
  randomBytes(length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(length) || length < 0 || length > 1 << 20) return Promise.reject(invalidInput('invalid random length'));
    if (length === 0) return Promise.resolve(Buffer.alloc(0));
    return this.runSync('randomBytes', (lane) => this.random.take(length, (n) => this.p.C_GenerateRandom(lane.session, Buffer.alloc(n))));
  }

  // ---- signing and MAC keys ------------------------------------------------------------------

  async ensureSigningKey(label: string): Promise<PublicJwk> {
    return this.serialise(TOKEN_OBJECTS, () =>
      this.run('ensureSigningKey', async (lane) => {
        let publicKey = this.findOne(lane.session, T.findByLabelTemplate(label, P.CKO_PUBLIC_KEY));
        const privateKey = this.findOne(lane.session, T.findByLabelTemplate(label, P.CKO_PRIVATE_KEY));
        if (privateKey === undefined || publicKey === undefined) {
          if (privateKey !== undefined || publicKey !== undefined) {
            // Half a pair: refuse rather than guess which half belongs to what.
            throw new KeywardError('ERR_CONFLICT', 'signing key is incomplete in the HSM');
          }
          const pair = await this.p.C_GenerateKeyPairAsync(
            lane.session,
            { mechanism: P.CKM_EC_KEY_PAIR_GEN },
            T.ecPublicTemplate(label),
            T.ecPrivateTemplate(label),
          );
          publicKey = pair.publicKey;
        }
        const [point] = this.p.C_GetAttributeValue(lane.session, publicKey, [{ type: P.CKA_EC_POINT }]);
        if (!point?.value) throw new KeywardError('ERR_INTERNAL', 'HSM returned no EC point');
        return p256PointToJwk(point.value);
      }),
    );
  }

  async signEs256(label: string, data: Uint8Array): Promise<Buffer> {
    // CKM_ECDSA_SHA256 is missing in SoftHSM: hash on the host, sign the digest (raw r||s = JWS).
    const digest = crypto.createHash('sha256').update(data).digest();
    return this.run('signEs256', async (lane) => {
      const privateKey = this.labelled(lane, label, P.CKO_PRIVATE_KEY, 'signing key not found');
      this.p.C_SignInit(lane.session, { mechanism: P.CKM_ECDSA }, privateKey);
      return Buffer.from(await this.p.C_SignAsync(lane.session, digest, Buffer.alloc(64)));
    });
  }

  async ensureMacKey(label: string): Promise<void> {
    await this.serialise(TOKEN_OBJECTS, () =>
      this.run('ensureMacKey', async (lane) => {
        if (this.findOne(lane.session, macFindTemplate(label)) !== undefined) return;
        await this.p.C_GenerateKeyAsync(lane.session, { mechanism: P.CKM_GENERIC_SECRET_KEY_GEN }, T.macKeyTemplate(label));
      }),
    );
  }

  hmacSha256(label: string, data: Uint8Array): Promise<Buffer> {
    if (this.syncCalls && data.length <= SYNC_MAX_BYTES) {
      return this.runSync('hmacSha256', (lane) => {
        const macKey = this.labelled(lane, label, P.CKO_SECRET_KEY, 'MAC key not found');
        this.p.C_SignInit(lane.session, { mechanism: P.CKM_SHA256_HMAC }, macKey);
        return Buffer.from(this.p.C_Sign(lane.session, Buffer.from(data), Buffer.alloc(32)));
      });
    }
    return this.run('hmacSha256', async (lane) => {
      const macKey = this.labelled(lane, label, P.CKO_SECRET_KEY, 'MAC key not found');
      this.p.C_SignInit(lane.session, { mechanism: P.CKM_SHA256_HMAC }, macKey);
      return Buffer.from(await this.p.C_SignAsync(lane.session, Buffer.from(data), Buffer.alloc(32)));
    });
  }

  async destroyKeyByLabel(label: string): Promise<void> {
    await this.serialise(TOKEN_OBJECTS, () => this.run('destroyKeyByLabel', async (lane) => {
      this.labelHandles.delete(`${P.CKO_PRIVATE_KEY}:${label}`);
      this.labelHandles.delete(`${P.CKO_SECRET_KEY}:${label}`);
      // Only signing pairs and generic-secret MAC keys: an AES root is never destroyed by label.
      const templates = [
        T.findByLabelTemplate(label, P.CKO_PRIVATE_KEY),
        T.findByLabelTemplate(label, P.CKO_PUBLIC_KEY),
        macFindTemplate(label),
      ];
      for (const template of templates) {
        for (const handle of this.findAll(lane.session, template)) this.p.C_DestroyObject(lane.session, handle);
      }
    }));
  }

  // ---- status and lifecycle ------------------------------------------------------------------

  async status(): Promise<HsmStatus> {
    let module = 'PKCS#11';
    try {
      const info = this.p.C_GetInfo();
      module = `${info.libraryDescription.trim()} ${info.libraryVersion.major}.${info.libraryVersion.minor}`;
    } catch {
      // keep the generic name
    }
    if (this.closed) return { available: false, module, tokenLabel: this.tokenLabel, message: 'HSM closed' };
    try {
      // A cheap probe through the pool, so a dropped session is repaired rather than reported.
      await this.run('status', async (lane) => {
        this.p.C_GetSessionInfo(lane.session);
        this.p.C_GetTokenInfo(this.slot);
      });
      return { available: true, module, tokenLabel: this.tokenLabel };
    } catch (e) {
      return { available: false, module, tokenLabel: this.tokenLabel, message: toKeywardError(e, 'status').message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const session = this.pool.anySession();
    const handles = this.keyCache.clear(this.pool.generation);
    if (session !== null) this.destroyQuietly(session, handles);
    this.random.dispose();
    this.pool.close();
    this.lease.release();
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * Run `op` on a pooled session; on a lost session/login or a stale cached handle, repair and
   * retry exactly once. Everything that escapes is a KeywardError.
   */
  private async run<T>(what: string, op: (lane: Lane) => Promise<T> | T, firstAttempt = 0): Promise<T> {
    if (this.closed) throw hsmUnavailable('HSM closed');
    for (let attempt = firstAttempt; ; attempt += 1) {
      let generation = this.pool.generation;
      try {
        return await this.pool.with((lane) => {
          generation = lane.generation;
          return op(lane);
        });
      } catch (e) {
        const failure = this.recover(what, e, attempt, generation);
        if (failure) throw failure;
      }
    }
  }

  /**
   * run() for a wholly synchronous `op`: the same retry-once and error mapping, but on a free lane
   * taken and given back without a promise in between. If every lane is held by an in-flight async
   * operation, the attempt queues for a lane through run() instead.
   */
  private runSync<T>(what: string, op: (lane: Lane) => T): Promise<T> {
    if (this.closed) return Promise.reject(hsmUnavailable('HSM closed'));
    for (let attempt = 0; ; attempt += 1) {
      let generation = this.pool.generation;
      try {
        const result = this.pool.runNow((lane) => {
          generation = lane.generation;
          return op(lane);
        });
        return result === LANES_BUSY ? this.run(what, op, attempt) : Promise.resolve(result);
      } catch (e) {
        const failure = this.recover(what, e, attempt, generation);
        if (failure) return Promise.reject(failure);
      }
    }
  }

  /**
   * After a failed attempt: repair and answer undefined (retry) on a first-attempt lost session or
   * stale cached handle; otherwise the KeywardError to raise.
   */
  private recover(what: string, e: unknown, attempt: number, generation: number): KeywardError | undefined {
    if (e instanceof PoolClosedError) return hsmUnavailable('HSM closed');
    if (attempt === 0 && isSessionLost(e)) {
      this.pool.invalidate(generation);
      return undefined;
    }
    if (attempt === 0 && isHandleStale(e)) {
      this.rootHandles.clear();
      this.labelHandles.clear();
      return undefined;
    }
    return toKeywardError(e, what);
  }

  private takeIv(lane: Lane): Buffer {
    return this.random.take(IV_BYTES, (n) => this.p.C_GenerateRandom(lane.session, Buffer.alloc(n)));
  }

  /** Use the loaded object of a key version, unwrapping it from its blob on a miss. */
  private async withKeyVersion<T>(lane: Lane, key: WrappedKeyRef, use: (handle: Handle) => Promise<T>): Promise<T> {
    let entry = this.cachedKeyVersion(lane, key);
    if (!entry) {
      const rootHandle = this.requireRoot(lane, key.root);
      let handle: Handle;
      try {
        handle = await this.p.C_UnwrapKeyAsync(lane.session, KWP, rootHandle, Buffer.from(key.wrappedKek), T.loadedKeyVersionTemplate());
      } catch (e) {
        throw unwrapFailure(e);
      }
      entry = this.insertKeyVersion(lane, key, handle);
    }
    try {
      return await use(entry.handle);
    } catch (e) {
      if (isHandleStale(e)) this.keyCache.forget(key.cacheId); // the object is gone; nothing to destroy
      throw e;
    } finally {
      this.releaseKeyVersion(lane, entry);
    }
  }

  /** withKeyVersion with synchronous calls only (call mode 'sync'); same cache discipline. */
  private withKeyVersionSync<T>(lane: Lane, key: WrappedKeyRef, use: (handle: Handle) => T): T {
    let entry = this.cachedKeyVersion(lane, key);
    if (!entry) {
      const rootHandle = this.requireRoot(lane, key.root);
      let handle: Handle;
      try {
        handle = this.p.C_UnwrapKey(lane.session, KWP, rootHandle, Buffer.from(key.wrappedKek), T.loadedKeyVersionTemplate());
      } catch (e) {
        throw unwrapFailure(e);
      }
      entry = this.insertKeyVersion(lane, key, handle);
    }
    try {
      return use(entry.handle);
    } catch (e) {
      if (isHandleStale(e)) this.keyCache.forget(key.cacheId); // the object is gone; nothing to destroy
      throw e;
    } finally {
      this.releaseKeyVersion(lane, entry);
    }
  }

  /** The loaded object of this key version for the lane's generation, checked out; undefined on a miss. */
  private cachedKeyVersion(lane: Lane, key: WrappedKeyRef): CachedKey | undefined {
    const hit = this.keyCache.checkout(key.cacheId, lane.generation, rootKeyOf(key.root), key.wrappedKek);
    this.destroyQuietly(lane.session, hit.destroy);
    return hit.entry;
  }

  private insertKeyVersion(lane: Lane, key: WrappedKeyRef, handle: Handle): CachedKey {
    const inserted = this.keyCache.insert(key.cacheId, { rootKey: rootKeyOf(key.root), wrappedKek: key.wrappedKek }, handle, lane.generation);
    this.destroyQuietly(lane.session, inserted.destroy);
    return inserted.entry;
  }

  private releaseKeyVersion(lane: Lane, entry: CachedKey): void {
    const destroy = this.keyCache.release(entry);
    if (destroy) this.destroyQuietly(lane.session, [destroy]);
  }

  private findRoot(lane: Lane, root: RootKeyRef): Handle | undefined {
    const cached = this.rootHandles.get(rootKeyOf(root));
    if (cached && cached.generation === lane.generation) return cached.handle;
    const handle = this.findOne(lane.session, T.findRootTemplate(root));
    if (handle === undefined) this.rootHandles.delete(rootKeyOf(root));
    else this.rootHandles.set(rootKeyOf(root), { handle, generation: lane.generation });
    return handle;
  }

  private requireRoot(lane: Lane, root: RootKeyRef): Handle {
    const handle = this.findRoot(lane, root);
    if (handle === undefined) throw notFound('root key not found');
    return handle;
  }

  private labelled(lane: Lane, label: string, cls: number, missing: string): Handle {
    const id = `${cls}:${label}`;
    const cached = this.labelHandles.get(id);
    if (cached && cached.generation === lane.generation) return cached.handle;
    const template = cls === P.CKO_SECRET_KEY ? macFindTemplate(label) : T.findByLabelTemplate(label, cls);
    const handle = this.findOne(lane.session, template);
    if (handle === undefined) throw notFound(missing);
    this.labelHandles.set(id, { handle, generation: lane.generation });
    return handle;
  }

  private findOne(session: Handle, template: pkcs11js.Template): Handle | undefined {
    return this.findAll(session, template, 1)[0];
  }

  private findAll(session: Handle, template: pkcs11js.Template, max = 64): Handle[] {
    this.p.C_FindObjectsInit(session, template);
    try {
      return this.p.C_FindObjects(session, max);
    } finally {
      this.p.C_FindObjectsFinal(session);
    }
  }

  private destroyQuietly(session: Handle, handles: readonly Handle[]): void {
    for (const handle of handles) {
      try {
        this.p.C_DestroyObject(session, handle);
      } catch {
        // Already gone with its session; a session object cannot outlive it anyway.
      }
    }
  }

  private async serialise<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.creating.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.creating.set(id, tail);
    try {
      return await next;
    } finally {
      if (this.creating.get(id) === tail) this.creating.delete(id);
    }
  }
}

/** The key version could not be unwrapped from its blob (wrong root, corrupt blob). */
class UnwrapFailed extends Error {
  /** C_UnwrapKey leaves no operation active: the session stays usable (see SessionPool.with). */
  readonly sessionClean = true;
  constructor() {
    super('unwrap failed');
    this.name = 'UnwrapFailed';
  }
}

/** A key-version blob that fails to unwrap is bad input; device and session faults stay themselves. */
function unwrapFailure(e: unknown): unknown {
  return isDeviceOrSessionFault(e) ? e : new UnwrapFailed();
}

/** seal(): a blob that does not unwrap is an integrity failure of stored data, like a bad tag. */
function sealFailure(e: unknown): unknown {
  return e instanceof UnwrapFailed ? decryptionFailed() : e;
}

/** open(): everything about the inputs is "decryption failed"; device and session faults go to run(). */
function openFailure(e: unknown): unknown {
  if (e instanceof KeywardError && e.code === 'ERR_HSM_UNAVAILABLE') return e;
  if (!(e instanceof KeywardError) && isDeviceOrSessionFault(e)) return e; // run() retries or maps it
  return decryptionFailed();
}

/**
 * 'auto' → 'sync' only for SoftHSM: an in-process software token with no network to wait on (its
 * token objects are local files). Anything else, or a C_GetInfo that fails, is 'async'.
 */
export function resolveCallMode(p: Pkcs11, mode: HsmCallMode): 'sync' | 'async' {
  if (mode !== 'auto') return mode;
  try {
    return /^softhsm/i.test(p.C_GetInfo().manufacturerID.trim()) ? 'sync' : 'async';
  } catch {
    return 'async';
  }
}

function gcm(iv: Buffer, aad: Uint8Array): pkcs11js.Mechanism {
  const parameter: pkcs11js.GcmParams = { type: P.CK_PARAMS_GCM, iv, ivBits: IV_BYTES * 8, aad: Buffer.from(aad), tagBits: TAG_BYTES * 8 };
  return { mechanism: P.CKM_AES_GCM, parameter };
}

const macFindTemplate = (label: string): pkcs11js.Template => [
  ...T.findByLabelTemplate(label, P.CKO_SECRET_KEY),
  { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
];

function findSlotByLabel(p: Pkcs11, label: string): Handle | undefined {
  return p.C_GetSlotList(true).find((slot) => {
    try {
      return p.C_GetTokenInfo(slot).label.trim() === label;
    } catch {
      return false;
    }
  });
}
