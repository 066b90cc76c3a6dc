/**
 * Lifecycle of Keyward's JWT signing keys: ECDSA P-256 pairs generated in the HSM under labels
 * `keyward-jwt-es256-<n>`, recorded in the TokenStore with kid = RFC 7638 thumbprint of the public JWK.
 *
 * Invariants:
 * - Exactly one key signs ('active'); rotation adds key n+1 and demotes the previous to 'verify-only'
 *   atomically in the store (add, then promote — never a moment with no active key).
 * - A verify-only key keeps verifying until `retiresAt` = rotation time + max(overlap, longest token
 *   lifetime + clock tolerance), so no token it signed is cut short; then it is destroyed in the HSM
 *   first and marked 'retired' second (a crash in between retries the destroy, never leaks the key).
 * - Verification keys come only from the store (public JWKs Keyward recorded itself): a token can
 *   never bring its own key (RFC 8725 §3.1: no jku/x5u fetch, no embedded jwk).
 * - The store is re-read when a kid is unknown and before every signature, so a rotation made by
 *   another process sharing the database is picked up without a restart.
 */
import { calculateJwkThumbprint, importJWK, type CryptoKey } from 'jose';
import { KeywardError } from '../core/errors.js';
import type { Clock } from '../core/ports/clock.js';
import type { Hsm, PublicJwk } from '../core/ports/hsm.js';
import type { SigningKeyRecord, TokenStore } from '../core/ports/token-store.js';

export const SIGNING_KEY_LABEL_PREFIX = 'keyward-jwt-es256-';
const LABEL_RE = /^keyward-jwt-es256-(\d+)$/;

export type SigningHsm = Pick<Hsm, 'ensureSigningKey' | 'signEs256' | 'destroyKeyByLabel'>;

export interface PublishedJwk extends PublicJwk {
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

export async function jwkThumbprint(jwk: PublicJwk): Promise<string> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || jwk.y === undefined) {
    throw new KeywardError('ERR_INTERNAL', 'signing key is not an EC P-256 key');
  }
  return calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, 'sha256');
}

function labelNumber(label: string): number {
  const m = LABEL_RE.exec(label);
  return m ? Number(m[1]) : 0;
}

type VerificationKey = CryptoKey;

export class SigningKeys {
  /** kid → imported public key, for records that may verify. */
  private readonly verificationKeys = new Map<string, { record: SigningKeyRecord; key: VerificationKey }>();

  constructor(
    private readonly hsm: SigningHsm,
    private readonly store: TokenStore,
    private readonly clock: Clock,
    /** Longest lifetime any token can have, plus clock tolerance: the verify-only floor. */
    private readonly longestTokenLifetimeSeconds: number,
  ) {}

  private async newRecord(label: string): Promise<SigningKeyRecord> {
    const publicJwk = await this.hsm.ensureSigningKey(label);
    return {
      kid: await jwkThumbprint(publicJwk),
      label,
      alg: 'ES256',
      publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, ...(publicJwk.y === undefined ? {} : { y: publicJwk.y }) },
      createdAt: this.clock.now(),
      retiresAt: null,
      state: 'active',
    };
  }

  private nextLabel(keys: readonly SigningKeyRecord[]): string {
    const n = keys.reduce((max, k) => Math.max(max, labelNumber(k.label)), 0) + 1;
    return `${SIGNING_KEY_LABEL_PREFIX}${n}`;
  }

  private retireAfter(overlapSeconds: number): Date {
    const seconds = Math.max(overlapSeconds, this.longestTokenLifetimeSeconds);
    return new Date(this.clock.now().getTime() + seconds * 1000);
  }

  /**
   * Startup: make sure an active key exists in the store and its private half is still in the HSM
   * (same thumbprint). If the HSM lost it, a new key is activated; the old public key keeps verifying
   * the tokens it signed. Also retires keys whose time has come. Returns the active key.
   */
  async ensureActiveKey(): Promise<SigningKeyRecord> {
    await this.retireDueKeys();
    const keys = await this.store.listSigningKeys();
    const active = keys.find((k) => k.state === 'active');
    if (active) {
      const inHsm = await jwkThumbprint(await this.hsm.ensureSigningKey(active.label));
      if (inHsm === active.kid) return active;
      return this.activateNew(keys, 0);
    }
    const first = await this.newRecord(this.nextLabel(keys));
    if (!(await this.store.putSigningKey(first))) {
      // Another process recorded the same label first: use whatever is active now.
      const now = (await this.store.listSigningKeys()).find((k) => k.state === 'active');
      if (now) return now;
      throw new KeywardError('ERR_CONFLICT', 'signing key label already recorded');
    }
    // Someone may have raced us with a different label; if so, keep exactly one active.
    const after = await this.store.listSigningKeys();
    if (after.filter((k) => k.state === 'active').length > 1) return this.activateNew(after, 0);
    return first;
  }

  private async activateNew(keys: readonly SigningKeyRecord[], overlapSeconds: number): Promise<SigningKeyRecord> {
    const next = await this.newRecord(this.nextLabel(keys));
    await this.store.activateSigningKey(next, this.retireAfter(overlapSeconds));
    this.verificationKeys.clear(); // cached states are stale now; reloaded on demand
    return next;
  }

  /** Adds key n+1 as active; the previous active key becomes verify-only (see the module header). */
  async rotate(overlapSeconds = 0): Promise<SigningKeyRecord> {
    if (!Number.isSafeInteger(overlapSeconds) || overlapSeconds < 0) {
      throw new KeywardError('ERR_INVALID_INPUT', 'overlapSeconds must be a non-negative integer');
    }
    return this.activateNew(await this.store.listSigningKeys(), overlapSeconds);
  }

  /** Destroys (HSM) and retires (store) every verify-only key whose retiresAt has passed. Returns their kids. */
  async retireDueKeys(): Promise<string[]> {
    const now = this.clock.now().getTime();
    const retired: string[] = [];
    for (const k of await this.store.listSigningKeys()) {
      if (k.state !== 'verify-only' || k.retiresAt === null || k.retiresAt.getTime() > now) continue;
      await this.hsm.destroyKeyByLabel(k.label);
      await this.store.setSigningKeyState(k.kid, 'retired', k.retiresAt);
      this.verificationKeys.delete(k.kid);
      retired.push(k.kid);
    }
    return retired;
  }

  /** The key to sign with, read from the store each time (another process may have rotated). */
  async activeKey(): Promise<SigningKeyRecord> {
    const active = (await this.store.listSigningKeys()).find((k) => k.state === 'active');
    if (!active) throw new KeywardError('ERR_SEALED', 'no active signing key: call ensureActiveKey at startup');
    return active;
  }

  private mayVerify(record: SigningKeyRecord): boolean {
    if (record.state === 'active') return true;
    return record.state === 'verify-only' && record.retiresAt !== null && record.retiresAt.getTime() > this.clock.now().getTime();
  }

  /** The public key for `kid`, or null if Keyward has no active or verify-only key with that kid. */
  async verificationKey(kid: string): Promise<VerificationKey | null> {
    let entry = this.verificationKeys.get(kid);
    if (!entry) {
      const record = (await this.store.listSigningKeys()).find((k) => k.kid === kid);
      if (!record || !this.mayVerify(record) || record.publicJwk.y === undefined) return null;
      const key = await importJWK({ kty: 'EC', crv: 'P-256', x: record.publicJwk.x, y: record.publicJwk.y }, 'ES256');
      if (key instanceof Uint8Array) return null; // never a symmetric key
      entry = { record, key };
      this.verificationKeys.set(kid, entry);
    }
    if (!this.mayVerify(entry.record)) return null;
    return entry.key;
  }

  /** Public keys for `/v1/identity/oidc/.well-known/keys`: active and verify-only, never retired. */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    const keys = (await this.store.listSigningKeys()).filter((k) => this.mayVerify(k));
    return { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' })) };
  }
}
