/**
 * Puts a ListMethodRewriter on the readable side of a real client socket (TLS or TCP) without
 * wrapping it, so Node's HTTP server can be given the socket itself. Every byte a net.Socket reads
 * enters the stream through one call, `push` (stream_base_commons' onStreamRead: `push(buf)` per
 * read, `push(null)` at EOF); this socket instance's own `push` is overridden to run each chunk
 * through the rewriter first. Writes, timeouts, addresses, `encrypted`, destroySoon etc. are then
 * Node's own, with no per-connection stream in between.
 *
 * Invariants:
 * - Every byte the HTTP parser sees has passed the rewriter, in order. The parser must therefore
 *   read through JS (`readThroughJs`, after `emit('connection')`), never natively from the handle;
 *   `fed` tells whether any byte came through us, so the server can refuse a request that did not
 *   (fail closed if a future Node were to bypass `push`).
 * - Bytes read before the interposition (TLS data decrypted together with the handshake) are
 *   taken back out and rewritten too.
 * - Back-pressure: the override returns the combined result of the pushes it makes, so Node stops
 *   reading the handle while the parser side is full, exactly as for an untouched socket.
 * - End of stream first releases a held partial head to the parser (so the parser rejects it).
 * - A request head held back by the rewriter is subject to `headTimeoutMs` (Node's own
 *   headersTimeout only starts counting when the parser sees the first byte, which the rewriter
 *   delays): a client trickling a head is cut off instead of holding the connection forever.
 * - The peer address is read once up front: net.Socket caches it, so audit entries still get it
 *   after the socket has closed.
 */
import type { Socket } from 'node:net';
import { ListMethodRewriter } from './list-method-rewriter.js';

export interface ListMethodInterposerOptions {
  readonly headTimeoutMs: number;
  readonly maxHeadBytes: number;
}

/** What the server asks of an interposed socket when a request arrives. */
export interface ListMethodTap {
  readonly rewriter: ListMethodRewriter;
  /** True once at least one chunk from the socket has gone through the rewriter. */
  readonly fed: boolean;
}

type Push = (chunk: unknown, encoding?: BufferEncoding) => boolean;

const taps = new WeakMap<Socket, ListMethodTap>();

/** The tap on a socket given to `interposeListMethodRewriter`, if any. */
export function listMethodTapOf(socket: Socket): ListMethodTap | undefined {
  return taps.get(socket);
}

/** Call before handing the socket to the HTTP server (before `emit('connection')`). */
export function interposeListMethodRewriter(socket: Socket, options: ListMethodInterposerOptions): ListMethodTap {
  void socket.remoteAddress;
  const nativePush = socket.push as Push;
  const tap = new Tap(socket, nativePush, options);
  // Anything already read sits in the socket's buffer, where the override cannot see it: take it
  // out and put the rewritten bytes back in front (unshift, unlike push, is also allowed after EOF
  // was read, and nothing else can arrive in this synchronous stretch).
  if (socket.readableLength > 0) {
    const early = socket.read() as Buffer | null;
    if (early !== null) {
      tap.fed = true;
      const pieces = tap.rewriter.write(early);
      if (pieces.length > 0) socket.unshift(pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces));
      tap.timeHead();
    }
  }
  (socket as { push: Push }).push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk === null) return tap.end();
    const buf = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, encoding) : null;
    // Node only ever pushes Buffers here; anything else goes to the stream, which rejects it.
    return buf === null ? nativePush.call(socket, chunk, encoding) : tap.write(buf);
  };
  socket.once('close', () => tap.clearHeadTimer());
  taps.set(socket, tap);
  return tap;
}

/**
 * Makes Node's HTTP server read this socket through `push` instead of natively. Call right after
 * `httpServer.emit('connection', socket)`.
 *
 * Node's HTTP server hands a TCP/TLS handle straight to the C++ parser (`parser.consume`) when it
 * gets a socket, so reads would never reach `push`. It undoes that (`unconsume`) whenever someone
 * adds a 'data' listener to the socket after 'connection', because such a listener must see the
 * bytes. That is observable behaviour Node keeps for user code (Node 20 and 22 alike), unlike the
 * alternative of pre-setting the private `_handle._consumed` flag, which only guards a code path;
 * so a listener is added and removed again (unconsume is one-way: the parser stays in JS mode).
 * If a future Node no longer did this, `fed` stays false and the server refuses the requests.
 */
export function readThroughJs(socket: Socket): void {
  socket.on('data', noop);
  socket.removeListener('data', noop);
}

function noop(): void {}

class Tap implements ListMethodTap {
  readonly rewriter: ListMethodRewriter;
  fed = false;
  private headTimer: NodeJS.Timeout | null = null;
  private readonly socket: Socket;
  private readonly nativePush: Push;
  private readonly headTimeoutMs: number;

  constructor(socket: Socket, nativePush: Push, options: ListMethodInterposerOptions) {
    this.socket = socket;
    this.nativePush = nativePush;
    this.headTimeoutMs = options.headTimeoutMs;
    this.rewriter = new ListMethodRewriter({ maxHeadBytes: options.maxHeadBytes });
  }

  write(chunk: Buffer): boolean {
    this.fed = true;
    let wantsMore = true;
    for (const piece of this.rewriter.write(chunk)) wantsMore = this.nativePush.call(this.socket, piece) && wantsMore;
    this.timeHead();
    return wantsMore;
  }

  end(): boolean {
    for (const held of this.rewriter.end()) this.nativePush.call(this.socket, held);
    this.clearHeadTimer();
    return this.nativePush.call(this.socket, null);
  }

  /** Starts the head timer while a head is held back, stops it once none is. */
  timeHead(): void {
    if (!this.rewriter.awaitingHead) {
      this.clearHeadTimer();
      return;
    }
    if (this.headTimer !== null || this.headTimeoutMs <= 0 || this.socket.destroyed) return;
    this.headTimer = setTimeout(() => {
      this.headTimer = null;
      this.socket.destroy();
    }, this.headTimeoutMs);
    this.headTimer.unref();
  }

  clearHeadTimer(): void {
    if (this.headTimer === null) return;
    clearTimeout(this.headTimer);
    this.headTimer = null;
  }
}
