import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { CHAINED_NAME, HOOK_MARKER, installPreCommitHook } from '../../../clients/scan/pre-commit.js';
import { CLI_ENTRY, runCli } from '../../helpers/cli.js';
import { githubToken, secretId } from './fixtures.js';
import { GIT_ENV, gitIn, tempDir, tempRepo, write } from './git-helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const track = (d: string): string => (dirs.push(d), d);

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
// The hook splits KEYWARD_CLI on spaces (no quoting), as a shell does an unquoted variable.
const KEYWARD_CLI = `${process.execPath} --import ${TSX} ${CLI_ENTRY}`;

function commit(dir: string, message: string): { status: number | null; stderr: string } {
  const r = spawnSync('git', ['commit', '-q', '-m', message], { cwd: dir, env: { ...process.env, ...GIT_ENV, KEYWARD_CLI }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('keyward scan (CLI)', () => {
  it('when credentials are found, then it exits 1 and prints SARIF 2.1.0 with the required fields and no secret', async () => {
    const dir = track(tempDir());
    const sid = secretId();
    write(dir, 'deploy/app.env', `A=1\nSECRET_ID=${sid}\n`);
    const r = await runCli(['scan', dir, '--format', 'sarif']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain(sid);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      $schema: string;
      runs: Array<{ tool: { driver: { name: string; rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; ruleIndex: number; message: { text: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }>;
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('keyward-scan');
    expect(run.tool.driver.rules.map((x) => x.id)).toEqual(['keyward-secret-id']);
    expect(run.results).toHaveLength(1);
    const res = run.results[0]!;
    expect(res.ruleId).toBe('keyward-secret-id');
    expect(run.tool.driver.rules[res.ruleIndex]?.id).toBe(res.ruleId);
    expect(res.message.text.length).toBeGreaterThan(0);
    expect(res.locations[0]!.physicalLocation.artifactLocation.uri).toMatch(/deploy\/app\.env$/);
    expect(res.locations[0]!.physicalLocation.region.startLine).toBe(2);
  });

  it('when nothing is found, then it exits 0; with a bad --format, then it exits 2', async () => {
    const dir = track(tempDir());
    write(dir, 'a.txt', 'nothing to see\n');
    const clean = await runCli(['scan', dir, '--format', 'json']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ findings: [], files_scanned: 1 });
    expect((await runCli(['scan', dir, '--format', 'xml'])).code).toBe(2);
  });

  it('when --output is given, then the report goes to the file and text output names the rule and the redacted prefix only', async () => {
    const dir = track(tempDir());
    const tok = githubToken();
    write(dir, 'ci.yml', `token: ${tok}\n`);
    const out = path.join(dir, 'report.txt');
    const r = await runCli(['scan', path.join(dir, 'ci.yml'), '--output', out]);
    expect(r.code).toBe(1);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toContain('secretlint/github/GITHUB_TOKEN');
    expect(text).toContain(`${tok.slice(0, 6)}…`);
    expect(text).not.toContain(tok);
  });
});

describe('pre-commit hook', () => {
  it('when installed over an existing hook, then the old hook is chained, a clean commit passes and a commit with a secret ID is blocked', async () => {
    const dir = track(tempRepo());
    const hooks = path.join(dir, '.git', 'hooks');
    fs.mkdirSync(hooks, { recursive: true });
    fs.writeFileSync(path.join(hooks, 'pre-commit'), '#!/bin/sh\necho ran >> "$(git rev-parse --show-toplevel)/.git/old-hook-ran"\n', { mode: 0o755 });

    const first = await installPreCommitHook(dir);
    expect(first.chained).toBe(path.join(hooks, CHAINED_NAME));
    const again = await installPreCommitHook(dir);
    expect(again.chained).toBe(path.join(hooks, CHAINED_NAME));
    const hook = fs.readFileSync(path.join(hooks, 'pre-commit'), 'utf8');
    expect(hook).toContain(HOOK_MARKER);
    expect(hook).toContain('npx keyward} scan --staged');
    expect(fs.statSync(path.join(hooks, 'pre-commit')).mode & 0o111).toBe(0o111);

    write(dir, 'README.md', 'clean\n');
    gitIn(dir, 'add', '.');
    const ok = commit(dir, 'clean');
    expect(ok.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, '.git', 'old-hook-ran'), 'utf8')).toBe('ran\n');

    write(dir, 'app.env', `SECRET_ID=${secretId()}\n`);
    gitIn(dir, 'add', '.');
    const blocked = commit(dir, 'leak');
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toContain('commit blocked');
    expect(gitIn(dir, 'log', '--format=%s')).toBe('clean');
  });

  it('when the chained hook fails, then the commit is stopped before the scan', async () => {
    const dir = track(tempRepo());
    const hooks = path.join(dir, '.git', 'hooks');
    fs.mkdirSync(hooks, { recursive: true });
    fs.writeFileSync(path.join(hooks, 'pre-commit'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    await installPreCommitHook(dir);
    write(dir, 'a.txt', 'x\n');
    gitIn(dir, 'add', '.');
    expect(commit(dir, 'x').status).not.toBe(0);
  });

  it('when `keyward scan --install-pre-commit` runs in a repo, then the hook is written', async () => {
    const dir = track(tempRepo());
    const r = await runCli(['scan', dir, '--install-pre-commit']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, '.git', 'hooks', 'pre-commit'), 'utf8')).toContain(HOOK_MARKER);
  });
});
