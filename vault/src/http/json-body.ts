/**
 * A nesting-depth guard for JSON request bodies, run by express.json's `verify` hook on the raw
 * bytes *before* JSON.parse. Why: JSON.parse happily builds a 100,000-level structure from a
 * 200 KB body, and everything after it that walks a body recursively (zod, the ACL's parameter
 * checks, the audit scrubber, canonical JSON) would then overflow the stack — a client's mistake
 * must be a 400, never a 500 or a crash.
 *
 * Invariants: one linear pass (string contents skipped by indexOf), no allocation for UTF-8 bodies; brackets inside strings (with
 * escapes) do not count; a body deeper than `maxDepth` is refused with ERR_INVALID_INPUT
 * "JSON nesting too deep", whatever else is wrong with it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeywardError } from '../core/errors.js';

export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Deepest nesting of objects/arrays in JSON text (bytes or a decoded string), up to `stopAbove` + 1. */
export function jsonNestingDepth(text: Uint8Array | string, stopAbove = Number.MAX_SAFE_INTEGER): number {
  return typeof text === 'string' ? stringDepth(text, stopAbove) : bytesDepth(text, stopAbove);
}

/**
 * UTF-8 bytes: multi-byte sequences never contain 0x22 or 0x5c, so the byte scan sees exactly the
 * structure the text has. Strings are skipped with indexOf (memchr) to the next quote; the quote
 * ends the string unless an odd run of backslashes precedes it (the opening quote bounds the run).
 */
function bytesDepth(bytes: Uint8Array, stopAbove: number): number {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = buf.length;
  let depth = 0;
  let max = 0;
  let i = 0;
  while (i < n) {
    const c = buf[i] as number;
    if (c === QUOTE) {
      let q = i;
      for (;;) {
        q = buf.indexOf(QUOTE, q + 1);
        if (q === -1) return max;
        let k = q - 1;
        while (buf[k] === BACKSLASH) k--;
        if (((q - 1 - k) & 1) === 0) break;
      }
      i = q + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
    i++;
  }
  return max;
}

function stringDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return max;
}

const UTF8 = new Set(['utf-8', 'utf8']);

/** express.json `verify` hook refusing bodies nested deeper than `maxDepth`. */
export function jsonDepthGuard(maxDepth = DEFAULT_MAX_JSON_DEPTH) {
  return (_req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string | null): void => {
    let text: Uint8Array | string = body;
    if (encoding !== null && !UTF8.has(encoding.toLowerCase())) {
      try {
        text = new TextDecoder(encoding).decode(body);
      } catch {
        throw new KeywardError('ERR_INVALID_INPUT', 'unsupported request body encoding');
      }
    }
    if (jsonNestingDepth(text, maxDepth) > maxDepth) throw new KeywardError('ERR_INVALID_INPUT', 'JSON nesting too deep');
  };
}
