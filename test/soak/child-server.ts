/**
 * Runs the real `keyward server --dev` as a child process (the same binary an operator runs), for
 * crash-safety and kill -9 tests, the multi-worker test and the soak. From sources it runs through
 * tsx; compiled into dist/ (npm run soak) it runs dist/clients/cli/main.js. Ready means: the dev
 * data dir holds its CA and root token and /v1/sys/health answers 200 (and, when asked, the output
 * has shown a given line). A restart passes the same dataDir and port (restartableChildServer).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpTransport } from '../../clients/sdk/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const COMPILED = import.meta.url.endsWith('.js');
const REPO_ROOT = COMPILED ? path.resolve(HERE, '..', '..', '..') : path.resolve(HERE, '..', '..');
const ENTRY = COMPILED ? [path.resolve(HERE, '..', '..', 'clients', 'cli', 'main.js')] : ['--import', 'tsx', path.join(REPO_ROOT, 'clients', 'cli', 'main.ts')];

export interface ChildServerOptions {
  readonly dataDir: string;
  /** Default: a free port picked by the OS. Pass the previous one to restart on the same address. */
  readonly port?: number;
  /** How long to wait until ready. Default 60 s. */
  readonly timeoutMs?: number;
  /** Extra environment on top of this process's (e.g. KEYWARD_* tuning knobs). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra `keyward server` arguments (e.g. `['--workers', '2']`). */
  readonly args?: readonly string[];
  /** Also append the child's output to this file (it survives the test's failure message). */
  readonly logFile?: string;
  /** Not ready until the output has matched this too (e.g. `/Workers: 2/`). */
  readonly readyOutput?: RegExp;
}

export interface ChildServer {
  readonly url: string;
  readonly port: number;
  readonly caPem: string;
  readonly rootToken: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The last few KB of the child's output, for failure messages. */
  output(): string;
  /** SIGKILL: no drain, no WAL checkpoint, no final audit checkpoint. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (picked by the OS, then released for the child). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [...ENTRY, 'server', '--dev', '--data-dir', options.dataDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', ...(options.args ?? [])],
    { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let seen = options.readyOutput === undefined;
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-8192);
    if (!seen && options.readyOutput?.test(out)) seen = true;
    if (options.logFile !== undefined) fs.appendFileSync(options.logFile, c);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));

  const url = `https://127.0.0.1:${port}`;
  const caFile = path.join(options.dataDir, 'tls', 'ca.pem');
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`keyward server exited (${exitCode}) before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`keyward server not ready in time:\n${out}`);
    }
    if (seen && fs.existsSync(caFile) && fs.existsSync(path.join(options.dataDir, 'root.token'))) {
      const transport = new HttpTransport({ address: url, caPem: fs.readFileSync(caFile, 'utf8'), timeoutMs: 2_000 });
      try {
        const res = await transport.request({ method: 'GET', path: '/v1/sys/health' });
        if (res.status === 200) break;
      } catch {
        // not listening yet
      } finally {
        transport.close();
      }
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (exitCode === undefined) child.kill(sig);
    await exited;
  };
  return {
    url,
    port,
    caPem: fs.readFileSync(caFile, 'utf8'),
    rootToken: fs.readFileSync(path.join(options.dataDir, 'root.token'), 'utf8').trim(),
    pid: child.pid as number,
    dataDir: options.dataDir,
    exited,
    output: () => out,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

/** One data dir served by successive children, as a kill -9 test needs. */
export interface RestartableChildServer {
  /** Start a child on the data dir, on the same port every time (picked at the first start). */
  start(): Promise<ChildServer>;
  /** SIGKILL the running child, if any. */
  kill(): Promise<void>;
}

export function restartableChildServer(options: Omit<ChildServerOptions, 'port'>): RestartableChildServer {
  let current: ChildServer | null = null;
  let port: number | undefined;
  return {
    async start() {
      current = await startChildServer({ ...options, port });
      port = current.port;
      return current;
    },
    async kill() {
      const c = current;
      current = null;
      await c?.kill();
    },
  };
}
