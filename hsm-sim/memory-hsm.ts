/**
 * MemoryHsm: an in-process Hsm for unit tests only (integration tests use SoftHSM2 through
 * Pkcs11Hsm). It keeps the port's contract, including KWP wrapping (RFC 5649, the same bytes as
 * CKM_AES_KEY_WRAP_PAD) and "any open failure is ERR_DECRYPTION_FAILED", so the same contract
 * suite runs against both adapters. Secrets live in ordinary memory: never use it for real keys.
 */
import crypto from 'node:crypto';
import { KeywardError, decryptionFailed } from '../vault/src/core/errors.js';
import type { Hsm, HsmStatus, PublicJwk, RootKeyRef, WrappedKeyRef } from '../vault/src/core/ports/hsm.js';

const KWP = 'id-aes256-wrap-pad';
const KWP_IV = Buffer.from('a65959a6', 'hex'); // RFC 5649 §3 alternative initial value

export class MemoryHsm implements Hsm {
  private readonly roots = new Map<string, Buffer>();
  private readonly signers = new Map<string, crypto.KeyObject>();
  private readonly macs = new Map<string, Buffer>();
  private closed = false;

  private rootId(root: RootKeyRef): string {
    return `${root.env}#${root.term}`;
  }

  private rootKek(root: RootKeyRef): Buffer {
    this.assertOpen();
    const kek = this.roots.get(this.rootId(root));
    if (!kek) throw new KeywardError('ERR_NOT_FOUND', `root key ${root.env} term ${root.term} not found`);
    return kek;
  }

  private assertOpen(): void {
    if (this.closed) throw new KeywardError('ERR_HSM_UNAVAILABLE', 'HSM closed', { retryAfterSeconds: 1 });
  }

  private unwrap(key: WrappedKeyRef): Buffer {
    const decipher = crypto.createDecipheriv(KWP, this.rootKek(key.root), KWP_IV);
    return Buffer.concat([decipher.update(key.wrappedKek), decipher.final()]);
  }

  private wrap(root: RootKeyRef, kek: Buffer): Buffer {
    const cipher = crypto.createCipheriv(KWP, this.rootKek(root), KWP_IV);
    return Buffer.concat([cipher.update(kek), cipher.final()]);
  }

  async ensureRootKey(root: RootKeyRef): Promise<void> {
    this.assertOpen();
    if (!this.roots.has(this.rootId(root))) this.roots.set(this.rootId(root), crypto.randomBytes(32));
  }

  async hasRootKey(root: RootKeyRef): Promise<boolean> {
    this.assertOpen();
    return this.roots.has(this.rootId(root));
  }

  async destroyRootKey(root: RootKeyRef): Promise<void> {
    this.assertOpen();
    this.roots.delete(this.rootId(root));
  }

  async generateWrappedKey(root: RootKeyRef): Promise<Uint8Array> {
    return this.wrap(root, crypto.randomBytes(32));
  }

  async rewrapKey(key: WrappedKeyRef, to: RootKeyRef): Promise<Uint8Array> {
    let kek: Buffer;
    try {
      kek = this.unwrap(key);
    } catch (e) {
      if (e instanceof KeywardError) throw e;
      throw decryptionFailed(e);
    }
    return this.wrap(to, kek);
  }

  async forgetKey(): Promise<void> {
    // Nothing is cached: every call unwraps afresh.
  }

  async seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    let kek: Buffer;
    try {
      kek = this.unwrap(key);
    } catch (e) {
      // A blob that fails its KWP integrity check must not escape as a raw crypto error.
      if (e instanceof KeywardError) throw e;
      throw decryptionFailed(e);
    }
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', kek, iv);
    cipher.setAAD(aad);
    return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    let kek: Buffer;
    try {
      kek = this.unwrap(key);
    } catch (e) {
      if (e instanceof KeywardError && e.code !== 'ERR_NOT_FOUND') throw e;
      throw decryptionFailed(e);
    }
    if (sealed.length < 12 + 16) throw decryptionFailed();
    const buf = Buffer.from(sealed);
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', kek, buf.subarray(0, 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
    } catch (e) {
      throw decryptionFailed(e);
    }
  }

  async randomBytes(length: number): Promise<Buffer> {
    this.assertOpen();
    return crypto.randomBytes(length);
  }

  async ensureSigningKey(label: string): Promise<PublicJwk> {
    this.assertOpen();
    let priv = this.signers.get(label);
    if (!priv) {
      priv = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      this.signers.set(label, priv);
    }
    const jwk = crypto.createPublicKey(priv).export({ format: 'jwk' });
    return { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) };
  }

  async signEs256(label: string, data: Uint8Array): Promise<Buffer> {
    this.assertOpen();
    const priv = this.signers.get(label);
    if (!priv) throw new KeywardError('ERR_NOT_FOUND', `signing key ${label} not found`);
    return crypto.sign('sha256', data, { key: priv, dsaEncoding: 'ieee-p1363' });
  }

  async ensureMacKey(label: string): Promise<void> {
    this.assertOpen();
    if (!this.macs.has(label)) this.macs.set(label, crypto.randomBytes(32));
  }

  async hmacSha256(label: string, data: Uint8Array): Promise<Buffer> {
    this.assertOpen();
    const macKey = this.macs.get(label);
    if (!macKey) throw new KeywardError('ERR_NOT_FOUND', `MAC key ${label} not found`);
    return crypto.createHmac('sha256', macKey).update(data).digest();
  }

  async destroyKeyByLabel(label: string): Promise<void> {
    this.assertOpen();
    this.signers.delete(label);
    this.macs.delete(label);
  }

  async status(): Promise<HsmStatus> {
    return { available: !this.closed, module: 'memory', tokenLabel: 'memory' };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
