/**
 * Which files a worktree scan reads. In a git work tree: `git ls-files --cached --others
 * --exclude-standard`, so .gitignore (and .git/info/exclude, the global excludes) are respected
 * exactly as git does; elsewhere a plain walk that skips `.git`. Symlinks are not followed (a link
 * out of the tree must not widen the scan). A file named explicitly is always scanned.
 */
import fs from 'node:fs';
import path from 'node:path';
import { git, workTreeRoot } from './git.js';

async function gitFiles(dir: string): Promise<string[]> {
  const out = await git(dir, ['ls-files', '--cached', '--others', '--exclude-standard', '-z']);
  return out
    .toString('utf8')
    .split('\0')
    .filter((p) => p !== '')
    .map((p) => path.join(dir, p));
}

function walk(dir: string, out: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
}

/** Absolute paths of the regular files to scan under `inputs` (files or directories), sorted, unique. */
export async function listFiles(inputs: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const input of inputs) {
    const abs = path.resolve(input);
    const st = fs.lstatSync(abs);
    if (st.isFile()) {
      files.add(abs);
      continue;
    }
    if (!st.isDirectory()) continue;
    const found: string[] = [];
    if (await workTreeRoot(abs)) found.push(...(await gitFiles(abs)));
    else walk(abs, found);
    for (const f of found) {
      try {
        if (fs.lstatSync(f).isFile()) files.add(f);
      } catch {
        // listed in the index but deleted from the work tree
      }
    }
  }
  return [...files].sort();
}

/** How a file is named in findings: relative to `base` with forward slashes. */
export function displayPath(file: string, base: string = process.cwd()): string {
  const rel = path.relative(base, file);
  return (rel === '' || rel.startsWith('..') ? file : rel).split(path.sep).join('/');
}
