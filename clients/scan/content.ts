/** What is worth scanning: text up to 5 MiB. Binary = a NUL byte in the first 8000 bytes, as git decides. */
import { MAX_FILE_BYTES } from './types.js';

export type Skip = 'binary' | 'too-large';

export function textOrSkip(bytes: Buffer): { text: string } | { skip: Skip } {
  if (bytes.length > MAX_FILE_BYTES) return { skip: 'too-large' };
  if (bytes.subarray(0, 8000).includes(0)) return { skip: 'binary' };
  return { text: bytes.toString('utf8') };
}
