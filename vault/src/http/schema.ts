/**
 * zod building blocks that accept what Vault's API accepts. Vault's request framework is weakly
 * typed: clients send `"true"` for booleans, `"2"` for integers and `"1h"` for durations, so the
 * same leniency here keeps third-party clients working; anything else is a 400 with a clear message.
 */
import { z } from 'zod';
import { isStrictBase64 } from '../core/base64.js';
import { invalidInput } from '../core/errors.js';

export const vBool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1'),
]);

export const vInt = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d{1,15}$/, 'must be an integer')
    .transform((s) => Number.parseInt(s, 10)),
]);

const DURATION_RE = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses Vault durations ("90", "90s", "1h30m", 3600) into whole seconds. */
export function parseDurationSeconds(raw: string | number): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw < 0) throw invalidInput('invalid duration');
    return Math.floor(raw);
  }
  const s = raw.trim();
  if (s === '') return 0;
  let total = 0;
  const parts = s.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d)?/g);
  if (!parts || parts.join('') !== s) throw invalidInput('invalid duration');
  for (const part of parts) {
    const m = DURATION_RE.exec(part);
    if (!m) throw invalidInput('invalid duration');
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  }
  if (!Number.isFinite(total) || total > 100 * 365 * 86400) throw invalidInput('invalid duration');
  return Math.floor(total);
}

export const vDuration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDurationSeconds(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'invalid duration' });
    return z.NEVER;
  }
});

/** Strict standard base64 (Vault's plaintext/context encoding); '' is allowed and means empty. */
export const vBase64 = z.string().refine((s) => isStrictBase64(s), { message: 'must be valid base64' });

export function decodeBase64(s: string): Buffer {
  if (!isStrictBase64(s)) throw invalidInput('must be valid base64');
  return Buffer.from(s, 'base64');
}

/**
 * Vault clients send `null` for optional parameters they leave unset (hvac's `metadata`, Vault
 * clients' `plaintext` beside `batch_input`); as in Vault, a top-level null means "not given".
 */
export function withoutNulls(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  // Most bodies (plain JSON objects) carry no null: hand them on as they are (zod never mutates its
  // input) instead of copying. Other prototypes are copied, so zod still sees own properties only.
  const proto: unknown = Object.getPrototypeOf(input);
  let copy = proto !== Object.prototype && proto !== null;
  if (!copy) {
    for (const k in input) {
      if (Object.hasOwn(input, k) && (input as Record<string, unknown>)[k] === null) {
        copy = true;
        break;
      }
    }
  }
  if (!copy) return input;
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
}

/**
 * Parse a request body (or query) against a schema; a failure is one ERR_INVALID_INPUT whose
 * message names the fields, never echoes their values (they may be secrets).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(withoutNulls(input ?? {}));
  if (result.success) return result.data;
  const details = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
  throw invalidInput(`invalid request: ${details}`);
}
