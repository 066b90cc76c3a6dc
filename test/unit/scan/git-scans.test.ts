import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../clients/scan/fingerprint.js';
import { scanGitHistory, scanStaged, scanWorktree } from '../../../clients/scan/scanner.js';
import { secretId } from './fixtures.js';
import { gitIn, tempDir, tempRepo, write } from './git-helpers.js';

const dirs: string[] = [];
const repo = (): string => {
  const d = tempRepo();
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('worktree scan', () => {
  it('when a secret sits in a .gitignored file, then it is skipped, while tracked and untracked files are scanned', async () => {
    const dir = repo();
    const [a, b, c] = [secretId(), secretId(), secretId()];
    write(dir, '.gitignore', 'ignored.env\nbuild/\n');
    write(dir, 'ignored.env', `S=${a}\n`);
    write(dir, 'build/out.txt', `S=${a}\n`);
    write(dir, 'tracked.txt', `S=${b}\n`);
    write(dir, 'untracked.txt', `S=${c}\n`);
    gitIn(dir, 'add', 'tracked.txt', '.gitignore');
    const r = await scanWorktree([dir], { displayBase: dir });
    expect(r.findings.map((f) => f.file).sort()).toEqual(['tracked.txt', 'untracked.txt']);
    expect(r.findings.every((f) => f.source === 'worktree' && f.rule === 'keyward-secret-id')).toBe(true);
  });

  it('when the directory is not a git repository, then every file is walked, binaries and files over 5 MiB are skipped', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const sid = secretId();
    write(dir, 'a/b/c.txt', `x ${sid}\n`);
    write(dir, 'bin.dat', Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(sid)]));
    write(dir, 'big.txt', `${sid}\n${'x'.repeat(5 * 1024 * 1024)}`);
    const r = await scanWorktree([dir], { displayBase: dir });
    expect(r.findings.map((f) => f.file)).toEqual(['a/b/c.txt']);
    expect(r.skipped).toEqual({ binary: 1, tooLarge: 1 });
  });
});

describe('git history scan', () => {
  it('when a secret was committed and then deleted, then --git-history finds it in the commit that introduced it', async () => {
    const dir = repo();
    const sid = secretId();
    write(dir, 'README.md', 'hello\n');
    gitIn(dir, 'add', '.');
    gitIn(dir, 'commit', '-q', '-m', 'first');
    write(dir, 'config/app.env', `APPROLE_SECRET_ID=${sid}\n`);
    gitIn(dir, 'add', '.');
    gitIn(dir, 'commit', '-q', '-m', 'add config');
    const introducing = gitIn(dir, 'rev-parse', 'HEAD');
    // The same content again in another file and commit: one blob, reported once.
    write(dir, 'copy.env', `APPROLE_SECRET_ID=${sid}\n`);
    gitIn(dir, 'add', '.');
    gitIn(dir, 'commit', '-q', '-m', 'copy');
    fs.rmSync(path.join(dir, 'config'), { recursive: true });
    fs.rmSync(path.join(dir, 'copy.env'));
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-q', '-m', 'remove secret');

    expect((await scanWorktree([dir], { displayBase: dir })).findings).toEqual([]);
    const r = await scanGitHistory(dir);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ rule: 'keyward-secret-id', file: 'config/app.env', line: 1, column: 19, source: 'git-history', commit: introducing, fingerprint: fingerprintOf(sid) });
  });

  it('when a secret lives only on another branch, then the history scan still finds it', async () => {
    const dir = repo();
    write(dir, 'a.txt', 'clean\n');
    gitIn(dir, 'add', '.');
    gitIn(dir, 'commit', '-q', '-m', 'base');
    gitIn(dir, 'checkout', '-q', '-b', 'feature');
    write(dir, 'b.txt', `${secretId()}\n`);
    gitIn(dir, 'add', '.');
    gitIn(dir, 'commit', '-q', '-m', 'leak on a branch');
    gitIn(dir, 'checkout', '-q', 'main');
    const r = await scanGitHistory(dir);
    expect(r.findings.map((f) => f.file)).toEqual(['b.txt']);
  });
});

describe('staged scan', () => {
  it('when the index holds a secret but the work tree no longer does, then --staged reports the staged content', async () => {
    const dir = repo();
    write(dir, 'a.txt', `k=${secretId()}\n`);
    gitIn(dir, 'add', 'a.txt');
    write(dir, 'a.txt', 'k=redacted\n');
    const staged = await scanStaged(dir, { displayBase: dir });
    expect(staged.findings.map((f) => [f.file, f.source])).toEqual([['a.txt', 'staged']]);
    expect((await scanWorktree([dir], { displayBase: dir })).findings).toEqual([]);
  });
});
