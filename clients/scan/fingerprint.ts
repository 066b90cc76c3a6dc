/**
 * How a secret is named in output: SHA-256 hex of its exact bytes (so the same leak found twice,
 * or found again by another tool, gets the same name) and a 6-character prefix for humans.
 */
import crypto from 'node:crypto';

export function fingerprintOf(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function redact(secret: string): string {
  return `${[...secret].slice(0, 6).join('')}…`;
}

/** 1-based line and column of `offset` in `text`. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
