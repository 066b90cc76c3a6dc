/**
 * File audit device (Vault's `file`): appends JSON lines to `file_path` (created 0600, or `mode`),
 * or writes to stdout for `stdout`, or drops them for `discard`, as Vault accepts.
 */
import fs from 'node:fs/promises';
import type { DeviceConfig } from '../audit-store.js';
import { WriteQueue, type AuditDevice } from './device.js';

export class FileAuditDevice implements AuditDevice {
  private handle: fs.FileHandle | null = null;
  private readonly queue = new WriteQueue();

  constructor(readonly config: DeviceConfig) {}

  private get filePath(): string {
    return this.config.options['file_path'] ?? '';
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0 || this.filePath === 'discard') return;
    const text = `${lines.join('\n')}\n`;
    if (this.filePath === 'stdout') {
      process.stdout.write(text);
      return;
    }
    await this.queue.run(async () => {
      if (!this.handle) {
        const mode = Number.parseInt(this.config.options['mode'] ?? '0600', 8);
        this.handle = await fs.open(this.filePath, 'a', Number.isFinite(mode) && mode > 0 ? mode : 0o600);
      }
      try {
        await this.handle.write(text);
      } catch (e) {
        // Reopen next time (the file may have been rotated away or its disk remounted).
        const h = this.handle;
        this.handle = null;
        await h.close().catch(() => undefined);
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      const h = this.handle;
      this.handle = null;
      await h?.close();
    });
  }
}
