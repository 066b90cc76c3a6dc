/**
 * Step-up MFA with TOTP (RFC 6238): methods per environment, enrolment per subject, and code
 * verification.
 *
 * Invariants:
 * - Enrolment secrets are 160+ bits from the HSM RNG, stored only sealed (totp-seal.ts), shown once
 *   as an otpauth:// URL; a subject already enrolled gets no new secret (Vault's answer: a warning).
 * - A code is accepted at most once per (method, subject, time step), and never for a time step at
 *   or before the last accepted one; the store records it atomically.
 * - `max_validation_attempts` consecutive failures lock the subject out of the method for
 *   `lockout_seconds`: ERR_RATE_LIMITED with Retry-After, even for a correct code. A success resets.
 * - Every other failure (wrong code, replay, not enrolled, unknown method) is ERR_PERMISSION_DENIED
 *   'permission denied'; the reason rides in `cause` for the audit entry.
 */
import { generateURI, verify as verifyTotp } from 'otplib';
import { KeywardError, invalidInput, permissionDenied } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { IdentityStore, MfaMethodRecord } from '../../core/ports/identity-store.js';
import type { Environment } from '../../core/types.js';
import { base32Encode } from './base32.js';
import { TOTP_SEAL_KEY, openTotpSecret, sealTotpSecret, totpAad, type SealHsm } from './totp-seal.js';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpConfig {
  readonly issuer: string;
  readonly period: number;
  readonly key_size: number;
  readonly algorithm: TotpAlgorithm;
  readonly digits: 6 | 8;
  readonly skew: 0 | 1;
  readonly max_validation_attempts: number;
  /** Keyward: how long a subject stays locked after max_validation_attempts failures. */
  readonly lockout_seconds: number;
}

export interface TotpConfigInput {
  issuer?: string | undefined;
  period?: number | undefined;
  key_size?: number | undefined;
  algorithm?: string | undefined;
  digits?: number | undefined;
  skew?: number | undefined;
  max_validation_attempts?: number | undefined;
  lockout_seconds?: number | undefined;
}

export interface MfaDeps {
  readonly store: IdentityStore;
  readonly hsm: SealHsm;
  readonly clock: Clock;
}

export class MfaFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MfaFailure';
  }
}

const denied = (reason: string): KeywardError => new KeywardError('ERR_PERMISSION_DENIED', permissionDenied().message, { cause: new MfaFailure(reason) });

const METHOD_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseMethodName(raw: unknown): string {
  if (typeof raw !== 'string' || !METHOD_NAME_RE.test(raw)) throw invalidInput('invalid MFA method name');
  return raw;
}

export function parseTotpConfig(input: TotpConfigInput, existing?: TotpConfig): TotpConfig {
  const issuer = input.issuer ?? existing?.issuer;
  if (typeof issuer !== 'string' || issuer.trim() === '' || issuer.length > 128 || issuer.includes(':')) throw invalidInput('issuer is required (no colon)');
  const period = input.period ?? existing?.period ?? 30;
  if (!Number.isInteger(period) || period < 15 || period > 300) throw invalidInput('period must be between 15 and 300 seconds');
  const keySize = input.key_size ?? existing?.key_size ?? 20;
  if (!Number.isInteger(keySize) || keySize < 16 || keySize > 64) throw invalidInput('key_size must be between 16 and 64 bytes');
  const algorithm = (input.algorithm ?? existing?.algorithm ?? 'SHA1').toUpperCase();
  if (algorithm !== 'SHA1' && algorithm !== 'SHA256' && algorithm !== 'SHA512') throw invalidInput('algorithm must be SHA1, SHA256 or SHA512');
  const digits = input.digits ?? existing?.digits ?? 6;
  if (digits !== 6 && digits !== 8) throw invalidInput('digits must be 6 or 8');
  const skew = input.skew ?? existing?.skew ?? 1;
  if (skew !== 0 && skew !== 1) throw invalidInput('skew must be 0 or 1');
  const attempts = input.max_validation_attempts ?? existing?.max_validation_attempts ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw invalidInput('max_validation_attempts must be between 1 and 100');
  const lockout = input.lockout_seconds ?? existing?.lockout_seconds ?? 300;
  if (!Number.isInteger(lockout) || lockout < 1 || lockout > 86_400) throw invalidInput('lockout_seconds must be between 1 and 86400');
  return { issuer, period, key_size: keySize, algorithm, digits, skew, max_validation_attempts: attempts, lockout_seconds: lockout };
}

export interface Enrolment {
  /** otpauth://totp/… — shown once. Null when the subject was already enrolled. */
  readonly url: string | null;
  readonly alreadyEnrolled: boolean;
}

export class MfaService {
  constructor(private readonly deps: MfaDeps) {}

  /** Call once at startup: the sealing key must exist in the HSM. */
  async init(): Promise<void> {
    await this.deps.hsm.ensureMacKey(TOTP_SEAL_KEY);
  }

  private async uuid(): Promise<string> {
    const b = await this.deps.hsm.randomBytes(16);
    b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    const x = b.toString('hex');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
  }

  // ---- methods ------------------------------------------------------------------------------

  async writeTotpMethod(env: Environment, rawName: string, input: TotpConfigInput): Promise<MfaMethodRecord> {
    const name = parseMethodName(rawName);
    const existing = await this.deps.store.getMfaMethod(env, name);
    const config = parseTotpConfig(input, existing ? (existing.config as unknown as TotpConfig) : undefined);
    const now = this.deps.clock.now();
    const record: MfaMethodRecord = {
      env,
      name,
      methodId: existing?.methodId ?? (await this.uuid()),
      type: 'totp',
      config: config as unknown as Record<string, unknown>,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.deps.store.putMfaMethod(record);
    return record;
  }

  async readMethod(env: Environment, name: string): Promise<{ record: MfaMethodRecord; config: TotpConfig } | null> {
    const record = await this.deps.store.getMfaMethod(env, parseMethodName(name));
    return record ? { record, config: record.config as unknown as TotpConfig } : null;
  }

  listMethods(env: Environment): Promise<string[]> {
    return this.deps.store.listMfaMethods(env);
  }

  deleteMethod(env: Environment, name: string): Promise<boolean> {
    return this.deps.store.deleteMfaMethod(env, parseMethodName(name));
  }

  // ---- enrolment ----------------------------------------------------------------------------

  async enrol(env: Environment, methodName: string, subject: string): Promise<Enrolment> {
    const method = await this.readMethod(env, methodName);
    if (!method) throw invalidInput(`MFA method "${methodName}" does not exist`);
    if (await this.deps.store.getMfaEnrolment(env, method.record.name, subject)) return { url: null, alreadyEnrolled: true };
    const secret = await this.deps.hsm.randomBytes(method.config.key_size);
    try {
      const sealedSecret = await sealTotpSecret(this.deps.hsm, secret, totpAad(env, method.record.name, subject));
      try {
        await this.deps.store.addMfaEnrolment({ env, methodName: method.record.name, subject, sealedSecret, createdAt: this.deps.clock.now() });
      } catch (e) {
        // A concurrent enrolment won: the first secret stands and this one is never shown.
        if (e instanceof KeywardError && e.code === 'ERR_ALREADY_EXISTS') return { url: null, alreadyEnrolled: true };
        throw e;
      }
      const url = generateURI({
        issuer: method.config.issuer,
        label: subject,
        secret: base32Encode(secret),
        algorithm: method.config.algorithm.toLowerCase() as 'sha1' | 'sha256' | 'sha512',
        digits: method.config.digits,
        period: method.config.period,
      });
      return { url, alreadyEnrolled: false };
    } finally {
      secret.fill(0);
    }
  }

  async destroyEnrolment(env: Environment, methodName: string, subject: string): Promise<boolean> {
    return this.deps.store.deleteMfaEnrolment(env, parseMethodName(methodName), subject);
  }

  // ---- verification -------------------------------------------------------------------------

  /** Accepts `code` for (method, subject) once, or throws (see the module header). */
  async verifyCode(env: Environment, methodName: string, subject: string, code: string): Promise<void> {
    if (!METHOD_NAME_RE.test(methodName)) throw denied('unknown-method');
    const method = await this.readMethod(env, methodName);
    if (!method) throw denied('unknown-method');
    const { config } = method;
    const now = this.deps.clock.now();
    const state = await this.deps.store.getMfaFailures(env, methodName, subject);
    if (state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime()) throw this.locked(state.lockedUntil, now);
    const enrolment = await this.deps.store.getMfaEnrolment(env, methodName, subject);
    if (!enrolment) throw denied('not-enrolled');

    let reason: string | null = null;
    let timeStep = 0;
    if (!new RegExp(`^\\d{${config.digits}}$`).test(code)) {
      reason = 'malformed-code';
    } else {
      const secret = await openTotpSecret(this.deps.hsm, enrolment.sealedSecret, totpAad(env, methodName, subject));
      try {
        const last = await this.deps.store.lastTotpTimeStep(env, methodName, subject);
        const result = await verifyTotp({
          secret: new Uint8Array(secret),
          token: code,
          algorithm: config.algorithm.toLowerCase() as 'sha1' | 'sha256' | 'sha512',
          digits: config.digits,
          period: config.period,
          epoch: Math.floor(now.getTime() / 1000),
          epochTolerance: config.skew * config.period,
          ...(last !== null ? { afterTimeStep: last } : {}),
        });
        const step = (result as { timeStep?: unknown }).timeStep;
        if (result.valid && typeof step === 'number') timeStep = step;
        else reason = 'wrong-code';
      } catch {
        reason = 'wrong-code';
      } finally {
        secret.fill(0);
      }
    }
    if (reason === null && !(await this.deps.store.recordTotpUse(env, methodName, subject, timeStep, now))) reason = 'code-reused';
    if (reason !== null) {
      const after = await this.deps.store.recordMfaFailure(env, methodName, subject, now, config.max_validation_attempts, config.lockout_seconds);
      if (after.lockedUntil !== null && after.lockedUntil.getTime() > now.getTime()) throw this.locked(after.lockedUntil, now, reason);
      throw denied(reason);
    }
    await this.deps.store.resetMfaFailures(env, methodName, subject);
  }

  private locked(until: Date, now: Date, reason = 'locked-out'): KeywardError {
    const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
    return new KeywardError('ERR_RATE_LIMITED', 'too many failed MFA attempts; try again later', { cause: new MfaFailure(reason), retryAfterSeconds: seconds });
  }

  /** Housekeeping: used-code records older than the widest window are no longer needed. */
  purgeUsedCodes(olderThanSeconds = 3600): Promise<number> {
    return this.deps.store.purgeTotpUses(new Date(this.deps.clock.now().getTime() - olderThanSeconds * 1000));
  }
}
