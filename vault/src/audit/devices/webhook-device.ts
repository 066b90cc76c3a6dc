/**
 * Webhook audit device (Keyward's addition): POSTs each batch of lines as NDJSON to `url`.
 * A non-2xx answer, a network error or a timeout is a delivery failure. The URL is operator
 * configuration (sudo-only route); no credentials are sent.
 */
import http from 'node:http';
import https from 'node:https';
import type { DeviceConfig } from '../audit-store.js';
import { WriteQueue, type AuditDevice } from './device.js';

const TIMEOUT_MS = 5000;

export class WebhookAuditDevice implements AuditDevice {
  private readonly queue = new WriteQueue();

  constructor(readonly config: DeviceConfig) {}

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const url = new URL(this.config.options['url'] ?? '');
    const payload = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const mod = url.protocol === 'https:' ? https : http;
    await this.queue.run(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = mod.request(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-length': String(payload.length) } }, (res) => {
            res.resume();
            res.on('end', () => ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`webhook answered ${res.statusCode}`))));
            res.on('error', reject);
          });
          req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('webhook timeout')));
          req.on('error', reject);
          req.end(payload);
        }),
    );
  }

  async close(): Promise<void> {
    await this.queue.run(async () => undefined);
  }
}
