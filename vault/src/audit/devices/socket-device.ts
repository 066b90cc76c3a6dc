/**
 * Socket audit device (Vault's `socket`): writes JSON lines over a TCP connection to `address`
 * (`host:port`), or a UNIX socket when `socket_type` is `unix`. The connection is opened lazily
 * and re-opened after any failure; a write resolves when the kernel accepted the bytes.
 */
import net from 'node:net';
import type { DeviceConfig } from '../audit-store.js';
import { WriteQueue, type AuditDevice } from './device.js';

const CONNECT_TIMEOUT_MS = 2000;

export function parseHostPort(address: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address.trim());
  if (!m?.[1] || !m[2]) return null;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1], port } : null;
}

export class SocketAuditDevice implements AuditDevice {
  private socket: net.Socket | null = null;
  private readonly queue = new WriteQueue();

  constructor(readonly config: DeviceConfig) {}

  private connect(): Promise<net.Socket> {
    const address = this.config.options['address'] ?? '';
    const type = this.config.options['socket_type'] ?? 'tcp';
    return new Promise((resolve, reject) => {
      let s: net.Socket;
      if (type === 'unix') {
        s = net.connect({ path: address });
      } else {
        const hp = parseHostPort(address);
        if (!hp) return reject(new Error('invalid socket address'));
        s = net.connect({ host: hp.host, port: hp.port });
      }
      const timer = setTimeout(() => s.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
      s.once('connect', () => {
        clearTimeout(timer);
        s.on('error', () => {
          if (this.socket === s) this.socket = null;
        });
        s.on('close', () => {
          if (this.socket === s) this.socket = null;
        });
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const text = `${lines.join('\n')}\n`;
    await this.queue.run(async () => {
      if (!this.socket || this.socket.destroyed) this.socket = await this.connect();
      const s = this.socket;
      await new Promise<void>((resolve, reject) => {
        s.write(text, (err) => {
          if (err) {
            s.destroy();
            if (this.socket === s) this.socket = null;
            reject(err);
          } else {
            resolve();
          }
        });
      });
    });
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      const s = this.socket;
      this.socket = null;
      if (s) await new Promise<void>((resolve) => s.end(() => resolve()));
    });
  }
}
