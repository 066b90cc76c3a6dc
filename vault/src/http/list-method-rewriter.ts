/**
 * LIST-method rewriter: a per-connection byte-stream state machine placed between the socket and
 * Node's HTTP parser (llhttp). Vault clients send the non-standard method `LIST`, which llhttp
 * rejects before any handler runs (HPE_INVALID_METHOD; no Node 20 option lifts this, not even
 * `insecureHTTPParser`). At the start of each request the rewriter turns
 *   `LIST <target> HTTP/1.x`  into  `GET <target>?list=true HTTP/1.x` (or `&list=true`)
 * and appends `X-Keyward-Original-Method: LIST`.
 *
 * Invariants:
 * - Only request heads are ever changed. Bodies (Content-Length and chunked) pass through as
 *   zero-copy slices of the input; bytes are never reordered, dropped or invented.
 * - The output does not depend on how the input was split into chunks (tested at every offset).
 * - Request boundaries are tracked through the header block, Content-Length and chunked framing.
 *   When anything is in doubt (malformed or oversized head, bare LF, duplicate Content-Length,
 *   Transfer-Encoding with Content-Length or without final `chunked`, Upgrade, CONNECT), the
 *   rewriter stops for the rest of the connection, starting with that request, and passes bytes
 *   through untouched: the parser then sees exactly what the client sent, as if we were absent.
 *   A wrong boundary would otherwise let a body be read as a request (request smuggling).
 * - Every head the rewriter does process has any client-sent `X-Keyward-Original-Method` removed.
 *   Heads seen in pass-through are not cleaned, so the server must distrust that header once
 *   `passthrough` is true (see server.ts).
 */

export const ORIGINAL_METHOD_HEADER = 'x-keyward-original-method';

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** A chunk-size or trailer line longer than this is not something a real client sends. */
const MAX_LINE_BYTES = 4096;

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\x00-\x20\x7f]+) HTTP\/1\.([01])$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGITS = /^[0-9]{1,15}$/;
// 13 hex digits = 52 bits: sizes stay exact as JS numbers; anything larger is passed through.
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]{1,13})(;[^\r\n]*)?$/;
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

const enum State {
  Head,
  FixedBody,
  ChunkSize,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  Trailer,
  Passthrough,
}

/** What a parsed head asks of the state machine. `null` replacement: forward the bytes as they are. */
interface HeadDecision {
  readonly replacement: Buffer | null;
  readonly next: State;
  readonly bodyBytes: number;
}

const PASS_THROUGH: HeadDecision = { replacement: null, next: State.Passthrough, bodyBytes: 0 };

export interface ListMethodRewriterOptions {
  /** Heads longer than this switch the connection to pass-through (the parser then answers 431). */
  readonly maxHeadBytes: number;
}

export class ListMethodRewriter {
  private state: State = State.Head;
  /** Bytes of a request head that has not fully arrived yet (held back from the parser). */
  private pendingHead: Buffer | null = null;
  /** The current chunk-size or trailer line, as latin1. */
  private line = '';
  private remaining = 0;
  private readonly maxHeadBytes: number;

  constructor(options: ListMethodRewriterOptions) {
    this.maxHeadBytes = options.maxHeadBytes;
  }

  /** True once the rewriter has given up on this connection; everything now passes untouched. */
  get passthrough(): boolean {
    return this.state === State.Passthrough;
  }

  /** True while part of a request head is held back waiting for the rest (the server times this). */
  get awaitingHead(): boolean {
    return this.pendingHead !== null;
  }

  /** Feeds one chunk from the socket; returns the chunks to hand to the HTTP parser, in order. */
  write(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    // Start of the run of input bytes that pass unchanged; emitted as one slice.
    let spanStart = 0;

    while (pos < chunk.length) {
      switch (this.state) {
        case State.Passthrough:
          pos = chunk.length;
          break;

        case State.FixedBody:
        case State.ChunkData: {
          const take = Math.min(this.remaining, chunk.length - pos);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.state === State.FixedBody ? State.Head : State.ChunkDataCr;
          break;
        }

        case State.ChunkDataCr:
          this.state = chunk[pos] === CR ? State.ChunkDataLf : State.Passthrough;
          if (this.state !== State.Passthrough) pos += 1;
          break;

        case State.ChunkDataLf:
          this.state = chunk[pos] === LF ? State.ChunkSize : State.Passthrough;
          if (this.state !== State.Passthrough) pos += 1;
          break;

        case State.ChunkSize:
        case State.Trailer: {
          const lf = chunk.indexOf(LF, pos);
          const end = lf === -1 ? chunk.length : lf + 1;
          this.line += chunk.toString('latin1', pos, end);
          pos = end;
          if (this.line.length > MAX_LINE_BYTES) {
            this.state = State.Passthrough;
          } else if (lf !== -1) {
            const line = this.line;
            this.line = '';
            if (this.state === State.ChunkSize) this.onChunkSizeLine(line);
            else this.onTrailerLine(line);
          }
          break;
        }

        case State.Head: {
          if (this.pendingHead === null) {
            const end = chunk.indexOf(HEAD_END, pos);
            if (end !== -1) {
              // Fast path: the whole head is inside this chunk.
              const headEnd = end + HEAD_END.length;
              const decision = this.decideHead(chunk.subarray(pos, headEnd));
              if (decision.replacement !== null) {
                if (pos > spanStart) out.push(chunk.subarray(spanStart, pos));
                out.push(decision.replacement);
                spanStart = headEnd;
              }
              this.enter(decision);
              pos = headEnd;
              break;
            }
            if (pos > spanStart) out.push(chunk.subarray(spanStart, pos));
            spanStart = chunk.length;
            this.holdPartialHead(chunk.subarray(pos), 0, out);
            pos = chunk.length;
            break;
          }
          // Continue a head held back from earlier chunks.
          const heldBytes = this.pendingHead.length;
          const data = Buffer.concat([this.pendingHead, chunk.subarray(pos)]);
          this.pendingHead = null;
          const end = data.indexOf(HEAD_END, Math.max(0, heldBytes - (HEAD_END.length - 1)));
          if (end !== -1) {
            const headEnd = end + HEAD_END.length;
            const head = data.subarray(0, headEnd);
            const decision = this.decideHead(head);
            out.push(decision.replacement ?? head);
            this.enter(decision);
            pos += headEnd - heldBytes;
            spanStart = pos;
            break;
          }
          spanStart = chunk.length;
          this.holdPartialHead(data, heldBytes, out);
          pos = chunk.length;
          break;
        }
      }
    }
    if (spanStart === 0) {
      // The common case: the chunk goes on exactly as it came.
      if (chunk.length > 0) out.push(chunk);
    } else if (chunk.length > spanStart) {
      out.push(chunk.subarray(spanStart));
    }
    return out;
  }

  /** The client closed its side: release a partial head so the parser can reject it. */
  end(): Buffer[] {
    const held = this.pendingHead;
    this.pendingHead = null;
    return held === null ? [] : [held];
  }

  private enter(decision: HeadDecision): void {
    this.state = decision.next;
    this.remaining = decision.bodyBytes;
  }

  /**
   * Keeps an incomplete head back, unless it can already never be a head we would process: then
   * the connection switches to pass-through and the bytes go out now (so the parser, not we,
   * decides what a bare-LF head means; waiting for CRLFCRLF would hang such a client).
   */
  private holdPartialHead(data: Buffer, scanFrom: number, out: Buffer[]): void {
    if (data.length > this.maxHeadBytes || hasBareLf(data, Math.max(0, scanFrom - 1))) {
      this.state = State.Passthrough;
      out.push(data);
      return;
    }
    this.pendingHead = data;
  }

  private onChunkSizeLine(line: string): void {
    const match = line.endsWith('\r\n') ? CHUNK_SIZE_LINE.exec(line.slice(0, -2)) : null;
    if (match === null) {
      this.state = State.Passthrough;
      return;
    }
    const size = Number.parseInt(match[1] as string, 16);
    if (size === 0) {
      this.state = State.Trailer;
    } else {
      this.state = State.ChunkData;
      this.remaining = size;
    }
  }

  private onTrailerLine(line: string): void {
    if (line === '\r\n') {
      this.state = State.Head;
      return;
    }
    const content = line.endsWith('\r\n') ? line.slice(0, -2) : null;
    if (content === null || content.includes('\r') || !isHeaderLine(content)) this.state = State.Passthrough;
  }

  /**
   * Decides what to forward for one complete head (ending in CRLFCRLF) and what follows it.
   * One pass over the bytes, decoding only the few lines that matter: most heads need no rewrite,
   * and those go out as the original bytes.
   */
  private decideHead(head: Buffer): HeadDecision {
    if (head.length > this.maxHeadBytes) return PASS_THROUGH;
    // Blank lines before a request line are skipped by parsers (RFC 9112 §2.2); keep them as sent.
    let lead = 0;
    while (head[lead] === CR && head[lead + 1] === LF) lead += 2;
    if (lead === head.length) return BLANK_LINES;

    let isList = false;
    let requestLineEnd = -1;
    let contentLength: string | undefined;
    let transferEncoding: string | undefined;
    let stripped = false;
    let lineStart = lead;
    for (let i = lead; i < head.length; i++) {
      const byte = head[i];
      if (byte === CR) {
        // A CR must end a line: a lone one, or a bare LF below, would let llhttp and us
        // disagree about where a header line ends.
        if (head[i + 1] !== LF) return PASS_THROUGH;
        continue;
      }
      if (byte !== LF) continue;
      if (head[i - 1] !== CR) return PASS_THROUGH;
      const lineEnd = i - 1;
      const first = head[lineStart] as number;
      if (requestLineEnd === -1) {
        requestLineEnd = lineEnd;
        if (!endsWithHttp1(head, lineEnd)) return PASS_THROUGH;
        if (first === 0x43 /* C */ && startsWith(head, lineStart, CONNECT)) return PASS_THROUGH;
        isList = first === 0x4c /* L */ && startsWith(head, lineStart, LIST);
      } else if (lineEnd > lineStart) {
        // Obsolete line folding (RFC 9112 §5.2): a continuation line; never guess what it means.
        if (first === 0x20 || first === 0x09) return PASS_THROUGH;
        const lower = first | 0x20;
        if (lower === 0x63 /* c */ || lower === 0x74 /* t */ || lower === 0x75 /* u */ || lower === 0x78 /* x */) {
          const colon = head.indexOf(0x3a, lineStart);
          if (colon === -1 || colon > lineEnd) return PASS_THROUGH;
          const nameLength = colon - lineStart;
          if (nameLength === 7 || nameLength === 14 || nameLength === 17 || nameLength === ORIGINAL_METHOD_HEADER.length) {
            const name = head.toString('latin1', lineStart, colon).toLowerCase();
            if (name === 'upgrade') return PASS_THROUGH;
            if (name === 'content-length') {
              if (contentLength !== undefined) return PASS_THROUGH;
              contentLength = headerValue(head, colon, lineEnd);
            } else if (name === 'transfer-encoding') {
              const value = headerValue(head, colon, lineEnd);
              transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
            } else if (name === ORIGINAL_METHOD_HEADER) {
              stripped = true;
            }
          } else if (head[colon - 1] === 0x20 || head[colon - 1] === 0x09) {
            // `Content-Length : 5`: whitespace before the colon (RFC 9112 §5.1).
            return PASS_THROUGH;
          }
        }
      }
      lineStart = i + 1;
    }

    let next = State.Head;
    let bodyBytes = 0;
    if (transferEncoding !== undefined) {
      if (contentLength !== undefined) return PASS_THROUGH;
      const codings = transferEncoding.toLowerCase().split(',');
      if ((codings[codings.length - 1] as string).replace(OWS_EDGES, '') !== 'chunked') return PASS_THROUGH;
      next = State.ChunkSize;
    } else if (contentLength !== undefined) {
      if (!DIGITS.test(contentLength)) return PASS_THROUGH;
      bodyBytes = Number(contentLength);
      if (bodyBytes > 0) next = State.FixedBody;
    }
    if (!isList && !stripped) return { replacement: null, next, bodyBytes };
    const replacement = rewriteHead(head.toString('latin1'), lead, isList);
    return replacement === null ? PASS_THROUGH : { replacement, next, bodyBytes };
  }
}

const LIST = Buffer.from('LIST ', 'latin1');
const CONNECT = Buffer.from('CONNECT ', 'latin1');
const HTTP1 = Buffer.from(' HTTP/1.', 'latin1');
const BLANK_LINES: HeadDecision = { replacement: null, next: State.Head, bodyBytes: 0 };

function headerValue(head: Buffer, colon: number, lineEnd: number): string {
  return head.toString('latin1', colon + 1, lineEnd).replace(OWS_EDGES, '');
}

function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  if (buf.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** The request line (ending before `end`) ends in ` HTTP/1.0` or ` HTTP/1.1`. */
function endsWithHttp1(buf: Buffer, end: number): boolean {
  const minor = buf[end - 1];
  return (minor === 0x30 || minor === 0x31) && end - 1 - HTTP1.length >= 0 && startsWith(buf, end - 1 - HTTP1.length, HTTP1);
}

/**
 * The slow path, for heads that change: a LIST request line becomes GET with list=true plus the
 * original-method header; any client-sent original-method header is dropped. Null if the request
 * line is not the shape we rewrite.
 */
function rewriteHead(text: string, lead: number, isList: boolean): Buffer | null {
  const lines = text.slice(lead, -4).split('\r\n');
  const kept: string[] = [];
  if (isList) {
    const requestLine = REQUEST_LINE.exec(lines[0] as string);
    if (requestLine === null) return null;
    kept.push(`GET ${withListQuery(requestLine[2] as string)} HTTP/1.${requestLine[3] as string}`);
  } else {
    kept.push(lines[0] as string);
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon === ORIGINAL_METHOD_HEADER.length && line.slice(0, colon).toLowerCase() === ORIGINAL_METHOD_HEADER) continue;
    kept.push(line);
  }
  if (isList) kept.push('X-Keyward-Original-Method: LIST');
  return Buffer.from(`${text.slice(0, lead)}${kept.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** `name: value` with a token name and no whitespace before the colon (RFC 9112 §5.1). */
function isHeaderLine(line: string): boolean {
  const colon = line.indexOf(':');
  return colon > 0 && TOKEN.test(line.slice(0, colon));
}

function hasBareLf(data: Buffer, from: number): boolean {
  for (let i = data.indexOf(LF, from); i !== -1; i = data.indexOf(LF, i + 1)) {
    if (i === 0 || data[i - 1] !== CR) return true;
  }
  return false;
}

/**
 * Appends `list=true` to a request target, replacing any `list` parameter the client sent, so the
 * router sees exactly one (a repeated key would parse as an array).
 */
export function withListQuery(target: string): string {
  const hash = target.indexOf('#');
  const beforeHash = hash === -1 ? target : target.slice(0, hash);
  const fragment = hash === -1 ? '' : target.slice(hash);
  const question = beforeHash.indexOf('?');
  if (question === -1) return `${beforeHash}?list=true${fragment}`;
  const path = beforeHash.slice(0, question);
  const params = beforeHash
    .slice(question + 1)
    .split('&')
    .filter((param) => param !== '' && param !== 'list' && !param.startsWith('list='));
  params.push('list=true');
  return `${path}?${params.join('&')}${fragment}`;
}
