/**
 * DeviceRegistry: the enabled audit devices (Vault's `sys/audit`), persisted in the database so every
 * worker process delivers to the same set; each process re-reads the table at most once per
 * `refreshMs` before delivering, so a device enabled by one worker reaches the others within that.
 *
 * Delivery happens after the database commit (the database is the source of truth). A failing
 * device is logged (path and error code only) and counted; a device with `fail_closed=true` also
 * makes `deliver` report failure, so the sink can fail the request.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { KeywardError, invalidInput } from '../../core/errors.js';
import type { AuditStore, DeviceConfig } from '../audit-store.js';
import type { StoredAuditEntry } from '../types.js';
import type { AuditDevice } from './device.js';
import { FileAuditDevice } from './file-device.js';
import { SocketAuditDevice, parseHostPort } from './socket-device.js';
import { vaultLine } from './vault-format.js';
import { WebhookAuditDevice } from './webhook-device.js';

export const DEVICE_TYPES = ['file', 'socket', 'webhook'] as const;

/** Vault's list shape: `{ "file/": { type, description, options, path, local } }`. */
export type VaultDeviceList = Record<string, { type: string; description: string; options: Record<string, string>; path: string; local: boolean }>;

const PATH_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function normaliseDevicePath(raw: string): string {
  const p = raw.replace(/^\/+|\/+$/g, '');
  if (!PATH_RE.test(p)) throw invalidInput('invalid audit device path');
  return `${p}/`;
}

function isFailClosed(d: DeviceConfig): boolean {
  return d.options['fail_closed'] === 'true';
}

export function validateDevice(d: DeviceConfig): void {
  switch (d.type) {
    case 'file': {
      const fp = d.options['file_path'];
      if (!fp) throw invalidInput('file audit device requires options.file_path');
      const mode = d.options['mode'];
      if (mode !== undefined && (!/^0?[0-7]{3}$/.test(mode) || (Number.parseInt(mode, 8) & 0o111) !== 0)) throw invalidInput('invalid file mode');
      break;
    }
    case 'socket': {
      const t = d.options['socket_type'] ?? 'tcp';
      const addr = d.options['address'];
      if (!addr) throw invalidInput('socket audit device requires options.address');
      if (t === 'tcp') {
        if (!parseHostPort(addr)) throw invalidInput('socket address must be host:port');
      } else if (t !== 'unix') {
        throw new KeywardError('ERR_UNSUPPORTED', 'socket_type must be tcp or unix');
      }
      break;
    }
    case 'webhook': {
      let url: URL;
      try {
        url = new URL(d.options['url'] ?? '');
      } catch {
        throw invalidInput('webhook audit device requires options.url');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidInput('webhook url must be http(s)');
      if (url.username || url.password) throw invalidInput('webhook url must not carry credentials');
      break;
    }
    default:
      throw invalidInput('audit device type must be file, socket or webhook');
  }
  const fc = d.options['fail_closed'];
  if (fc !== undefined && fc !== 'true' && fc !== 'false') throw invalidInput('fail_closed must be true or false');
}

function createDevice(d: DeviceConfig): AuditDevice {
  switch (d.type) {
    case 'socket':
      return new SocketAuditDevice(d);
    case 'webhook':
      return new WebhookAuditDevice(d);
    default:
      return new FileAuditDevice(d);
  }
}

export interface DeviceStats {
  readonly delivered: number;
  readonly failures: number;
}

export class DeviceRegistry {
  private devices = new Map<string, AuditDevice>();
  private lastRefresh = 0;
  private readonly stats = new Map<string, { delivered: number; failures: number }>();

  constructor(
    private readonly store: AuditStore,
    private readonly logger: Logger,
    private readonly refreshMs = 1000,
  ) {}

  /** Re-read the device table and open/close instances to match it. */
  async refresh(): Promise<void> {
    const configs = await this.store.listDevices();
    this.lastRefresh = Date.now();
    const next = new Map<string, AuditDevice>();
    for (const c of configs) {
      const existing = this.devices.get(c.path);
      if (existing && JSON.stringify(existing.config) === JSON.stringify(c)) next.set(c.path, existing);
      else next.set(c.path, createDevice(c));
    }
    for (const [p, d] of this.devices) {
      if (next.get(p) !== d) await d.close().catch(() => undefined);
    }
    this.devices = next;
  }

  async list(): Promise<VaultDeviceList> {
    await this.refresh();
    const out: VaultDeviceList = {};
    for (const d of this.devices.values()) {
      out[d.config.path] = { type: d.config.type, description: d.config.description, options: { ...d.config.options }, path: d.config.path, local: d.config.local };
    }
    return out;
  }

  async has(path: string): Promise<boolean> {
    await this.refresh();
    return this.devices.has(path);
  }

  async enable(config: DeviceConfig): Promise<void> {
    validateDevice(config);
    // As Vault dials a socket device when it is enabled: a device that cannot be reached is refused
    // now, rather than enabled and then failing every request (fail_closed) or every delivery.
    if (!(await reachable(config))) throw invalidInput(`audit device ${config.path} is unreachable`);
    try {
      await this.store.putDevice(config);
    } catch (e) {
      if (e instanceof KeywardError && e.code === 'ERR_ALREADY_EXISTS') throw invalidInput(`path already in use at ${config.path}`);
      throw e;
    }
    await this.refresh();
  }

  async disable(path: string): Promise<void> {
    await this.store.deleteDevice(path);
    await this.refresh();
  }

  /**
   * Deliver committed entries to every device; resolves false if a fail_closed device failed.
   * `entries` may be a function: it is called only when some device is enabled (the trail builds
   * the stored entries only for a reader).
   */
  async deliver(batch: readonly StoredAuditEntry[] | (() => readonly StoredAuditEntry[])): Promise<boolean> {
    if (Date.now() - this.lastRefresh >= this.refreshMs) {
      try {
        await this.refresh();
      } catch (e) {
        this.logger.warn({ code: e instanceof KeywardError ? e.code : 'unknown' }, 'audit device refresh failed');
      }
    }
    if (this.devices.size === 0) return true;
    const entries = typeof batch === 'function' ? batch() : batch;
    if (entries.length === 0) return true;
    const lines = entries.map(vaultLine);
    const results = await Promise.all(
      [...this.devices.values()].map(async (d) => {
        const s = this.stats.get(d.config.path) ?? { delivered: 0, failures: 0 };
        this.stats.set(d.config.path, s);
        try {
          await d.write(lines);
          s.delivered += lines.length;
          return true;
        } catch (e) {
          s.failures += 1;
          const code = (e as NodeJS.ErrnoException).code ?? 'error';
          this.logger.error({ device: d.config.path, type: d.config.type, code }, 'audit device delivery failed');
          return !isFailClosed(d.config);
        }
      }),
    );
    return results.every(Boolean);
  }

  /** True when some device must succeed for a request to succeed. */
  get hasFailClosed(): boolean {
    for (const d of this.devices.values()) if (isFailClosed(d.config)) return true;
    return false;
  }

  deviceStats(): Record<string, DeviceStats> {
    return Object.fromEntries([...this.stats].map(([k, v]) => [k, { ...v }]));
  }

  async close(): Promise<void> {
    for (const d of this.devices.values()) await d.close().catch(() => undefined);
    this.devices.clear();
  }
}

const PROBE_TIMEOUT_MS = 2000;

/** Can the device's destination be reached now? (connect for sockets and webhooks, write access for files) */
async function reachable(d: DeviceConfig): Promise<boolean> {
  const connect = (opts: net.NetConnectOpts): Promise<boolean> =>
    new Promise((resolve) => {
      const sock = net.connect(opts);
      const done = (ok: boolean): void => {
        sock.destroy();
        resolve(ok);
      };
      sock.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
    });
  switch (d.type) {
    case 'file': {
      const file = d.options['file_path'] ?? '';
      try {
        await fs.promises.access(fs.existsSync(file) ? file : path.dirname(file), fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    }
    case 'socket': {
      const addr = d.options['address'] ?? '';
      if ((d.options['socket_type'] ?? 'tcp') === 'unix') return connect({ path: addr });
      const hp = parseHostPort(addr);
      return hp ? connect({ host: hp.host, port: hp.port }) : false;
    }
    case 'webhook': {
      const url = new URL(d.options['url'] ?? '');
      return connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) });
    }
    default:
      return false;
  }
}
