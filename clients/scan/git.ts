/**
 * The few git plumbing calls the scanner needs, as argument lists (never a shell string, so paths
 * and refs cannot inject commands). Read-only: nothing here changes a repository.
 */
import { execFile, spawn } from 'node:child_process';

const MAX_BUFFER = 512 * 1024 * 1024;

export function git(cwd: string, args: readonly string[], input?: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', [...args], { cwd, encoding: 'buffer', maxBuffer: MAX_BUFFER }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The top of the work tree containing `dir`, or null when it is not in one (or git is missing). */
export async function workTreeRoot(dir: string): Promise<string | null> {
  try {
    return (await git(dir, ['rev-parse', '--show-toplevel'])).toString('utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Streams stdin into `git cat-file --batch` and returns the objects in request order. */
export function catFileBatch(cwd: string, shas: readonly string[]): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file exited with ${code}`));
      const all = Buffer.concat(chunks);
      const out = new Map<string, Buffer>();
      let at = 0;
      while (at < all.length) {
        const nl = all.indexOf(0x0a, at);
        if (nl === -1) break;
        const [sha = '', type = '', sizeRaw = ''] = all.subarray(at, nl).toString('utf8').split(' ');
        if (type === 'missing' || sizeRaw === '') {
          at = nl + 1;
          continue;
        }
        const size = Number(sizeRaw);
        out.set(sha, all.subarray(nl + 1, nl + 1 + size));
        at = nl + 1 + size + 1;
      }
      resolve(out);
    });
    child.stdin.end(shas.map((s) => `${s}\n`).join(''));
  });
}
