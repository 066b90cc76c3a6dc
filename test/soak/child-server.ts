/**
 * Runs the real `keyward server --dev` as a child process (the same binary an operator runs), for
 * crash-safety tests (SIGKILL at a random moment) and the soak. From sources it runs through tsx;
 * compiled into dist/ (npm run soak) it runs dist/clients/cli/main.js.
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

export interface ChildServer {
  readonly url: string;
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

export async function startChildServer(options: { dataDir: string; port?: number; timeoutMs?: number }): Promise<ChildServer> {
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [...ENTRY, 'server', '--dev', '--data-dir', options.dataDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'],
    { cwd: REPO_ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-8192);
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
    if (fs.existsSync(caFile) && fs.existsSync(path.join(options.dataDir, 'root.token'))) {
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
