/**
 * A Duplex that stands in for a client socket in front of Node's HTTP server: reads pass through a
 * ListMethodRewriter, writes go straight to the real (TLS or TCP) socket. The HTTP server gets it
 * through `httpServer.emit('connection', socket)` and must not notice the difference.
 *
 * Invariants:
 * - Everything the HTTP stack and express read from a socket answers for the real one:
 *   remoteAddress/Port/Family, localAddress/Port, `encrypted` (so `req.secure` holds for TLS),
 *   setTimeout (with its 'timeout' event), setNoDelay, setKeepAlive, destroySoon, ref/unref.
 * - Back-pressure both ways: the real socket is paused while the parser is not reading, and a write
 *   completes only once the real socket accepted it.
 * - Graceful end flushes: `end()` finishes only after the real socket flushed its writes, so a
 *   `Connection: close` response is never cut off by the destroy that follows it.
 * - A request head held back by the rewriter is subject to `headTimeoutMs` (Node's own
 *   headersTimeout only starts counting when the parser sees the first byte, which the rewriter
 *   delays): a client trickling a head is cut off instead of holding the connection forever.
 */
import { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ListMethodRewriter } from './list-method-rewriter.js';

export interface ListMethodSocketOptions {
  readonly headTimeoutMs: number;
  readonly maxHeadBytes: number;
}

export class ListMethodSocket extends Duplex {
  readonly rewriter: ListMethodRewriter;
  private readonly inner: Socket;
  private readonly headTimeoutMs: number;
  private headTimer: NodeJS.Timeout | null = null;
  private innerPaused = false;
  /** Read once: a closed net.Socket may no longer answer, and audit entries want the address. */
  private readonly peer: { readonly address?: string; readonly port?: number; readonly family?: string };

  constructor(inner: Socket, options: ListMethodSocketOptions) {
    // allowHalfOpen: the HTTP server decides when to end our side (as it does for net.Socket).
    // decodeStrings: false hands response strings to the real socket as they are, which encodes
    // them natively, instead of converting them to Buffers here first.
    super({ allowHalfOpen: true, decodeStrings: false });
    this.inner = inner;
    this.headTimeoutMs = options.headTimeoutMs;
    this.rewriter = new ListMethodRewriter({ maxHeadBytes: options.maxHeadBytes });
    this.peer = { address: inner.remoteAddress, port: inner.remotePort, family: inner.remoteFamily };

    inner.on('data', (chunk: Buffer) => this.onInnerData(chunk));
    inner.on('end', () => {
      for (const held of this.rewriter.end()) this.push(held);
      this.clearHeadTimer();
      this.push(null);
    });
    inner.on('timeout', () => this.emit('timeout'));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.on('close', () => {
      this.clearHeadTimer();
      if (!this.destroyed) this.destroy();
    });
  }

  // --- what the HTTP stack and express read from a socket -------------------------------------
  get remoteAddress(): string | undefined {
    return this.peer.address;
  }
  get remotePort(): number | undefined {
    return this.peer.port;
  }
  get remoteFamily(): string | undefined {
    return this.peer.family;
  }
  get localAddress(): string | undefined {
    return this.inner.localAddress;
  }
  get localPort(): number | undefined {
    return this.inner.localPort;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }
  get timeout(): number | undefined {
    return this.inner.timeout;
  }
  /** `true` for TLS connections: express derives `req.protocol`/`req.secure` from it. */
  get encrypted(): boolean | undefined {
    return (this.inner as Partial<TLSSocket>).encrypted === true ? true : undefined;
  }
  get authorized(): boolean | undefined {
    return (this.inner as Partial<TLSSocket>).authorized;
  }
  get alpnProtocol(): string | false | null | undefined {
    return (this.inner as Partial<TLSSocket>).alpnProtocol;
  }
  getPeerCertificate(detailed?: boolean): ReturnType<TLSSocket['getPeerCertificate']> | undefined {
    const tls = this.inner as Partial<TLSSocket>;
    return tls.getPeerCertificate?.call(this.inner, detailed === true);
  }
  getCipher(): ReturnType<TLSSocket['getCipher']> | undefined {
    const tls = this.inner as Partial<TLSSocket>;
    return tls.getCipher?.call(this.inner);
  }
  getProtocol(): string | null | undefined {
    const tls = this.inner as Partial<TLSSocket>;
    return tls.getProtocol?.call(this.inner);
  }
  address(): AddressInfo | Record<string, never> {
    return this.inner.address();
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.inner.setTimeout(ms);
    if (callback !== undefined) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.inner.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.inner.setKeepAlive(enable, initialDelay);
    return this;
  }
  ref(): this {
    this.inner.ref();
    return this;
  }
  unref(): this {
    this.inner.unref();
    return this;
  }
  /** As net.Socket#destroySoon, which the HTTP server calls after a `Connection: close` response. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // --- stream plumbing --------------------------------------------------------------------------
  override _read(): void {
    if (this.innerPaused) {
      this.innerPaused = false;
      this.inner.resume();
    }
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.write(chunk, encoding)) callback();
    else this.inner.once('drain', () => callback());
  }

  override _writev(
    chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.inner.cork();
    let flowing = true;
    for (const { chunk, encoding } of chunks) flowing = this.inner.write(chunk, encoding);
    this.inner.uncork();
    if (flowing) callback();
    else this.inner.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    if (this.inner.writableFinished) callback();
    else this.inner.once('finish', () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearHeadTimer();
    if (!this.inner.destroyed) this.inner.destroy();
    callback(error);
  }

  private onInnerData(chunk: Buffer): void {
    let wantsMore = true;
    for (const piece of this.rewriter.write(chunk)) wantsMore = this.push(piece) && wantsMore;
    if (!wantsMore && !this.innerPaused) {
      this.innerPaused = true;
      this.inner.pause();
    }
    if (this.rewriter.awaitingHead) this.startHeadTimer();
    else this.clearHeadTimer();
  }

  private startHeadTimer(): void {
    if (this.headTimer !== null || this.headTimeoutMs <= 0) return;
    this.headTimer = setTimeout(() => {
      this.headTimer = null;
      this.destroy();
    }, this.headTimeoutMs);
    this.headTimer.unref();
  }

  private clearHeadTimer(): void {
    if (this.headTimer === null) return;
    clearTimeout(this.headTimer);
    this.headTimer = null;
  }
}
