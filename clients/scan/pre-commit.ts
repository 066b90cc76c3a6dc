/**
 * Installs the pre-commit hook that runs `keyward scan --staged`. An existing hook is kept: it is
 * moved aside to `pre-commit.keyward-chained` and run first, and a failure there still stops the
 * commit. Installing twice rewrites our hook only (the marker line tells ours apart). The hook
 * path comes from `git rev-parse --git-path hooks`, so `core.hooksPath` and worktrees are honoured.
 * `KEYWARD_CLI` overrides the command (default `npx keyward`), for repositories without the package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { git, workTreeRoot } from './git.js';

export const HOOK_MARKER = '# keyward-scan pre-commit hook';
export const CHAINED_NAME = 'pre-commit.keyward-chained';

export function hookScript(): string {
  return `#!/bin/sh
${HOOK_MARKER} (installed by \`keyward scan --install-pre-commit\`)
hook_dir=$(dirname "$0")
if [ -x "$hook_dir/${CHAINED_NAME}" ]; then
  "$hook_dir/${CHAINED_NAME}" "$@" || exit $?
fi
\${KEYWARD_CLI:-npx keyward} scan --staged
status=$?
if [ $status -ne 0 ]; then
  echo "keyward: commit blocked: credentials found in staged files (or the scan failed)." >&2
  echo "keyward: remove them, or commit with --no-verify if you are sure." >&2
fi
exit $status
`;
}

export interface HookInstall {
  readonly hookPath: string;
  /** Where an earlier, foreign hook now lives (it is run first), if there was one. */
  readonly chained: string | null;
}

export async function installPreCommitHook(dir: string): Promise<HookInstall> {
  const root = await workTreeRoot(dir);
  if (!root) throw new Error('--install-pre-commit needs a git repository');
  const hooksDir = path.resolve(root, (await git(root, ['rev-parse', '--git-path', 'hooks'])).toString('utf8').trim());
  fs.mkdirSync(hooksDir, { recursive: true });
  const hookPath = path.join(hooksDir, 'pre-commit');
  const chainedPath = path.join(hooksDir, CHAINED_NAME);
  let chained: string | null = fs.existsSync(chainedPath) ? chainedPath : null;
  if (fs.existsSync(hookPath)) {
    const existing = fs.readFileSync(hookPath, 'utf8');
    if (!existing.includes(HOOK_MARKER)) {
      if (chained) throw new Error(`both ${hookPath} and ${chainedPath} exist; merge them by hand`);
      fs.renameSync(hookPath, chainedPath);
      fs.chmodSync(chainedPath, fs.statSync(chainedPath).mode | 0o111);
      chained = chainedPath;
    }
  }
  fs.writeFileSync(hookPath, hookScript(), { mode: 0o755 });
  fs.chmodSync(hookPath, 0o755);
  return { hookPath, chained };
}
