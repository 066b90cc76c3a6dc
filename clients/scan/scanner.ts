/**
 * The three scans: the work tree (files git would track), the whole git history (every blob
 * reachable from any ref, once per unique blob, attributed to the first commit that introduced it)
 * and the index (`--staged`, what a pre-commit hook must judge). Each reads bytes, skips binaries
 * and files over 5 MiB, and hands text to scanText.
 */
import fs from 'node:fs';
import path from 'node:path';
import { textOrSkip } from './content.js';
import { displayPath, listFiles } from './file-walker.js';
import { catFileBatch, git, workTreeRoot } from './git.js';
import { scanText } from './scan-content.js';
import { MAX_FILE_BYTES, type Finding, type RevocableSecrets, type ScanOptions, type ScanResult } from './types.js';

export interface ScanRunOptions extends ScanOptions {
  /** Keep Keyward credentials in memory (ScanResult.revocable) for `--revoke`. */
  readonly retainKeywardSecrets?: boolean;
  /** Paths in findings are relative to this; default process.cwd(). */
  readonly displayBase?: string;
}

class Collector {
  readonly findings: Finding[] = [];
  readonly revocable: RevocableSecrets = new Map();
  filesScanned = 0;
  binary = 0;
  tooLarge = 0;

  constructor(private readonly options: ScanRunOptions) {}

  async add(bytes: Buffer, origin: { file: string; source: Finding['source']; commit?: string }): Promise<void> {
    const r = textOrSkip(bytes);
    if ('skip' in r) {
      if (r.skip === 'binary') this.binary++;
      else this.tooLarge++;
      return;
    }
    this.filesScanned++;
    this.findings.push(...(await scanText(r.text, origin, this.options, this.options.retainKeywardSecrets ? this.revocable : undefined)));
  }

  result(): ScanResult {
    return { findings: this.findings, filesScanned: this.filesScanned, skipped: { binary: this.binary, tooLarge: this.tooLarge }, revocable: this.revocable };
  }
}

export async function scanWorktree(inputs: readonly string[], options: ScanRunOptions = {}): Promise<ScanResult> {
  const c = new Collector(options);
  for (const file of await listFiles(inputs.length > 0 ? inputs : ['.'])) {
    const size = fs.statSync(file).size;
    if (size > MAX_FILE_BYTES) {
      c.tooLarge++;
      continue;
    }
    await c.add(fs.readFileSync(file), { file: displayPath(file, options.displayBase), source: 'worktree' });
  }
  return c.result();
}

const BATCH = 256;

/** First commit (parents before children) and path at which each blob appeared. */
async function blobOrigins(root: string): Promise<Map<string, { commit: string; path: string }>> {
  const out = await git(root, ['log', '--all', '--topo-order', '--reverse', '-m', '--raw', '--no-abbrev', '--no-renames', '--format=%x00%H']);
  const origins = new Map<string, { commit: string; path: string }>();
  let commit = '';
  for (const line of out.toString('utf8').split('\n')) {
    if (line.startsWith('\0')) commit = line.slice(1).trim();
    else if (line.startsWith(':')) {
      const tab = line.indexOf('\t');
      const fields = line.slice(1, tab).split(' ');
      const blob = fields[3] ?? '';
      if (/^0+$/.test(blob) || origins.has(blob)) continue;
      origins.set(blob, { commit, path: line.slice(tab + 1) });
    }
  }
  return origins;
}

export async function scanGitHistory(dir: string, options: ScanRunOptions = {}): Promise<ScanResult> {
  const root = await workTreeRoot(dir);
  if (!root) throw new Error('--git-history needs a git repository');
  const listing = (await git(root, ['rev-list', '--all', '--objects'])).toString('utf8').split('\n');
  const pathOf = new Map<string, string>();
  for (const line of listing) {
    const sp = line.indexOf(' ');
    if (sp > 0 && !pathOf.has(line.slice(0, sp))) pathOf.set(line.slice(0, sp), line.slice(sp + 1));
  }
  const check = (await git(root, ['cat-file', '--batch-check'], [...pathOf.keys()].map((s) => `${s}\n`).join(''))).toString('utf8');
  const c = new Collector(options);
  const blobs: string[] = [];
  for (const line of check.split('\n')) {
    const [sha = '', type = '', size = ''] = line.split(' ');
    if (type !== 'blob') continue;
    if (Number(size) > MAX_FILE_BYTES) c.tooLarge++;
    else blobs.push(sha);
  }
  const origins = await blobOrigins(root);
  for (let i = 0; i < blobs.length; i += BATCH) {
    const batch = blobs.slice(i, i + BATCH);
    const contents = await catFileBatch(root, batch);
    for (const sha of batch) {
      const bytes = contents.get(sha);
      if (!bytes) continue;
      const origin = origins.get(sha);
      await c.add(bytes, { file: origin?.path ?? pathOf.get(sha) ?? sha, source: 'git-history', ...(origin ? { commit: origin.commit } : {}) });
    }
  }
  return c.result();
}

export async function scanStaged(dir: string, options: ScanRunOptions = {}): Promise<ScanResult> {
  const root = await workTreeRoot(dir);
  if (!root) throw new Error('--staged needs a git repository');
  const names = (await git(root, ['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR'])).toString('utf8').split('\0').filter((n) => n !== '');
  const c = new Collector(options);
  for (const name of names) {
    const bytes = await git(root, ['show', `:${name}`]);
    await c.add(bytes, { file: displayPath(path.join(root, name), options.displayBase), source: 'staged' });
  }
  return c.result();
}
