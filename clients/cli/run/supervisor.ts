/**
 * Runs the child process for `keyward run`: inherits stdio, receives SIGINT/SIGTERM/SIGHUP
 * forwarded from us, can be restarted with a new environment or signalled, and reports the exit
 * status the way a shell does (its exit code, or 128 + the signal number when a signal killed it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long a child gets to exit after SIGTERM during a restart before SIGKILL. */
export const RESTART_GRACE_MS = 10_000;

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? os.constants.signals[signal] : undefined;
  return n !== undefined ? 128 + n : 1;
}

export class ChildSupervisor {
  private child: ChildProcess | undefined;
  private restarting = false;
  private resolveExit!: (status: number) => void;
  /** Resolves with the exit status when the child ends other than by our restart. */
  readonly exited: Promise<number>;
  private readonly forwarders = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  start(env: NodeJS.ProcessEnv): void {
    const child = spawn(this.command, [...this.args], { stdio: 'inherit', env });
    this.child = child;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      process.stderr.write(`keyward run: cannot start ${this.command}: ${err.code ?? 'error'}\n`);
      this.resolveExit(err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child || this.restarting) return;
      this.resolveExit(exitStatus(code, signal));
    });
    if (this.forwarders.size === 0) {
      for (const sig of FORWARDED_SIGNALS) {
        const fwd = (): void => {
          this.child?.kill(sig);
        };
        this.forwarders.set(sig, fwd);
        process.on(sig, fwd);
      }
    }
  }

  /** Stop the child (SIGTERM, then SIGKILL after the grace period) and start it with `env`. */
  async restart(env: NodeJS.ProcessEnv): Promise<void> {
    const old = this.child;
    this.restarting = true;
    try {
      if (old && old.exitCode === null && old.signalCode === null) {
        const gone = new Promise<void>((resolve) => old.once('exit', () => resolve()));
        old.kill('SIGTERM');
        const timer = setTimeout(() => old.kill('SIGKILL'), RESTART_GRACE_MS);
        await gone;
        clearTimeout(timer);
      }
    } finally {
      this.restarting = false;
    }
    this.start(env);
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** Remove our signal handlers (call once the child has exited). */
  dispose(): void {
    for (const [sig, fwd] of this.forwarders) process.off(sig, fwd);
    this.forwarders.clear();
  }
}
