import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ListMethodRewriter, withListQuery } from '../../../vault/src/http/list-method-rewriter.js';

const MAX_HEAD = 16 * 1024;

interface GeneratedRequest {
  readonly method: 'LIST' | 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query: string | null;
  readonly version: '1.0' | '1.1';
  readonly spoofName: string | null;
  readonly leadingCrlf: boolean;
  readonly body:
    | { readonly kind: 'none' }
    | { readonly kind: 'length'; readonly bytes: Uint8Array }
    | { readonly kind: 'chunked'; readonly chunks: readonly Uint8Array[]; readonly extension: boolean; readonly trailer: boolean };
}

/** Bodies that look like requests: a boundary error would turn them into rewritten requests. */
const SMUGGLED = Buffer.from('LIST /v1/evil HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n', 'latin1');

const bodyBytes = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 40 }),
  fc.constant(new Uint8Array(SMUGGLED)),
);

const requestArb: fc.Arbitrary<GeneratedRequest> = fc.record({
  method: fc.constantFrom('LIST', 'GET', 'POST', 'PUT', 'DELETE'),
  path: fc.stringMatching(/^\/v1\/[a-z0-9/_-]{0,12}$/),
  query: fc.option(fc.stringMatching(/^[a-k]=[0-9]{1,3}(&[a-k]=[0-9]{1,3}){0,2}$/), { nil: null }),
  version: fc.constantFrom('1.0', '1.1'),
  spoofName: fc.option(fc.constantFrom('X-Keyward-Original-Method', 'x-keyward-original-method', 'X-KEYWARD-ORIGINAL-METHOD'), {
    nil: null,
  }),
  leadingCrlf: fc.boolean(),
  body: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('length' as const), bytes: bodyBytes }),
    fc.record({
      kind: fc.constant('chunked' as const),
      chunks: fc.array(bodyBytes, { maxLength: 3 }),
      extension: fc.boolean(),
      trailer: fc.boolean(),
    }),
  ),
});

function target(req: GeneratedRequest): string {
  return req.query === null ? req.path : `${req.path}?${req.query}`;
}

function serialiseBody(req: GeneratedRequest): { headers: string[]; body: Buffer } {
  const body = req.body;
  if (body.kind === 'none') return { headers: [], body: Buffer.alloc(0) };
  if (body.kind === 'length') return { headers: [`Content-Length: ${body.bytes.length}`], body: Buffer.from(body.bytes) };
  const parts: Buffer[] = [];
  for (const chunk of body.chunks) {
    parts.push(Buffer.from(`${chunk.length.toString(16)}${body.extension ? ';ext=1' : ''}\r\n`, 'latin1'), Buffer.from(chunk), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${body.trailer ? 'X-Trailer: t\r\n' : ''}\r\n`, 'latin1'));
  return { headers: ['Transfer-Encoding: chunked'], body: Buffer.concat(parts) };
}

/** What the client sends. */
function wire(req: GeneratedRequest): Buffer {
  const { headers, body } = serialiseBody(req);
  const lines = [`${req.method} ${target(req)} HTTP/${req.version}`, 'Host: vault'];
  if (req.spoofName !== null) lines.push(`${req.spoofName}: DELETE`);
  lines.push(...headers, 'Accept: */*');
  return Buffer.concat([Buffer.from(`${req.leadingCrlf ? '\r\n' : ''}${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** What the HTTP parser must receive: written independently of the rewriter. */
function expected(req: GeneratedRequest): Buffer {
  const { headers, body } = serialiseBody(req);
  const isList = req.method === 'LIST';
  const requestTarget = isList ? `${target(req)}${req.query === null ? '?' : '&'}list=true` : target(req);
  const lines = [`${isList ? 'GET' : req.method} ${requestTarget} HTTP/${req.version}`, 'Host: vault', ...headers, 'Accept: */*'];
  if (isList) lines.push('X-Keyward-Original-Method: LIST');
  return Buffer.concat([Buffer.from(`${req.leadingCrlf ? '\r\n' : ''}${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

function feed(input: Buffer, cuts: readonly number[]): { output: Buffer; rewriter: ListMethodRewriter } {
  const rewriter = new ListMethodRewriter({ maxHeadBytes: MAX_HEAD });
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= start || cut >= input.length) continue;
    out.push(...rewriter.write(input.subarray(start, cut)));
    start = cut;
  }
  out.push(...rewriter.write(input.subarray(start)));
  out.push(...rewriter.end());
  return { output: Buffer.concat(out), rewriter };
}

const text = (buf: Buffer): string => buf.toString('latin1');

describe('ListMethodRewriter', () => {
  it('rewrites pipelined requests correctly however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (requests, rawCuts) => {
        const input = Buffer.concat(requests.map(wire));
        const cuts = rawCuts.map((cut) => cut % (input.length + 1));
        const { output, rewriter } = feed(input, cuts);
        expect(text(output)).toBe(text(Buffer.concat(requests.map(expected))));
        expect(rewriter.passthrough).toBe(false);
        expect(rewriter.awaitingHead).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same output for a split at every single offset and for byte-by-byte delivery', () => {
    const requests: GeneratedRequest[] = [
      { method: 'LIST', path: '/v1/transit/keys', query: null, version: '1.1', spoofName: 'X-Keyward-Original-Method', leadingCrlf: false, body: { kind: 'none' } },
      { method: 'POST', path: '/v1/transit/encrypt/k', query: null, version: '1.1', spoofName: null, leadingCrlf: false, body: { kind: 'length', bytes: new Uint8Array(SMUGGLED) } },
      { method: 'PUT', path: '/v1/x', query: 'a=1', version: '1.1', spoofName: null, leadingCrlf: true, body: { kind: 'chunked', chunks: [new Uint8Array(SMUGGLED), new Uint8Array([13, 10])], extension: true, trailer: true } },
      { method: 'LIST', path: '/v1/secret/metadata/', query: 'b=2', version: '1.0', spoofName: null, leadingCrlf: false, body: { kind: 'none' } },
    ];
    const input = Buffer.concat(requests.map(wire));
    const want = text(Buffer.concat(requests.map(expected)));
    for (let cut = 0; cut <= input.length; cut++) {
      expect(text(feed(input, [cut]).output), `split at ${cut}`).toBe(want);
    }
    const everyByte = Array.from({ length: input.length }, (_, i) => i);
    expect(text(feed(input, everyByte).output)).toBe(want);
  });

  it('passes bodies through as slices of the input, without copying', () => {
    const body = Buffer.alloc(64 * 1024, 0x61);
    const head = Buffer.from(`POST /v1/x HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1');
    const rewriter = new ListMethodRewriter({ maxHeadBytes: MAX_HEAD });
    rewriter.write(head);
    const out = rewriter.write(body);
    expect(out).toHaveLength(1);
    expect((out[0] as Buffer).buffer).toBe(body.buffer);
  });

  it('holds back a partial head and releases it unchanged at end of stream', () => {
    const rewriter = new ListMethodRewriter({ maxHeadBytes: MAX_HEAD });
    expect(rewriter.write(Buffer.from('LIST /v1/x HTTP/1.1\r\nHo'))).toEqual([]);
    expect(rewriter.awaitingHead).toBe(true);
    expect(text(Buffer.concat(rewriter.end()))).toBe('LIST /v1/x HTTP/1.1\r\nHo');
  });

  describe('when a request is ambiguous, then the rest of the connection passes through untouched', () => {
    const list = 'LIST /v1/after HTTP/1.1\r\nHost: v\r\n\r\n';
    const cases: Array<[string, string]> = [
      ['Content-Length and Transfer-Encoding together', 'POST /a HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['duplicate Content-Length', 'POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'],
      ['non-numeric Content-Length', 'POST /a HTTP/1.1\r\nContent-Length: 3x\r\n\r\nabc'],
      ['Transfer-Encoding not ending in chunked', 'POST /a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
      ['an Upgrade request', 'GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'],
      ['a CONNECT request', 'CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n'],
      ['obsolete header folding', 'GET /a HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n'],
      ['whitespace before a framing header colon', 'POST /a HTTP/1.1\r\nContent-Length : 3\r\n\r\nabc'],
      ['an HTTP/2 request line', 'LIST /a HTTP/2.0\r\nHost: v\r\n\r\n'],
      ['a bare LF in the head', 'GET /a HTTP/1.1\nHost: v\n\n'],
      ['a malformed chunk size', 'POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      ['a chunk not followed by CRLF', 'POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n'],
    ];
    for (const [name, request] of cases) {
      it(`when the stream has ${name}, then nothing after it is rewritten`, () => {
        const input = Buffer.from(request + list, 'latin1');
        for (let cut = 0; cut <= input.length; cut++) {
          const { output, rewriter } = feed(input, [cut]);
          expect(text(output)).toBe(text(input));
          expect(rewriter.passthrough).toBe(true);
        }
      });
    }

    it('when a head exceeds the limit, then it is passed on for the parser to reject', () => {
      const rewriter = new ListMethodRewriter({ maxHeadBytes: 64 });
      const head = Buffer.from(`LIST /v1/x HTTP/1.1\r\nX-Pad: ${'a'.repeat(100)}\r\n\r\n`, 'latin1');
      expect(text(Buffer.concat(rewriter.write(head)))).toBe(text(head));
      expect(rewriter.passthrough).toBe(true);
      const trickled = new ListMethodRewriter({ maxHeadBytes: 64 });
      const out: Buffer[] = [];
      for (let i = 0; i < head.length; i += 10) out.push(...trickled.write(head.subarray(i, i + 10)));
      expect(text(Buffer.concat(out))).toBe(text(head));
      expect(trickled.awaitingHead).toBe(false);
    });
  });

  it('strips a client-sent X-Keyward-Original-Method from non-LIST requests and keeps other headers', () => {
    const { output } = feed(Buffer.from('GET /v1/x HTTP/1.1\r\nHost: v\r\nx-keyward-original-method: LIST\r\nX-Other: 1\r\n\r\n'), []);
    expect(text(output)).toBe('GET /v1/x HTTP/1.1\r\nHost: v\r\nX-Other: 1\r\n\r\n');
  });

  it('leaves methods that merely start with LIST alone', () => {
    const input = Buffer.from('LISTEN /v1/x HTTP/1.1\r\nHost: v\r\n\r\nlist /v1/y HTTP/1.1\r\nHost: v\r\n\r\n');
    const { output, rewriter } = feed(input, []);
    expect(text(output)).toBe(text(input));
    expect(rewriter.passthrough).toBe(false);
  });
});

describe('withListQuery', () => {
  it.each([
    ['/v1/keys', '/v1/keys?list=true'],
    ['/v1/keys?', '/v1/keys?list=true'],
    ['/v1/keys?a=1', '/v1/keys?a=1&list=true'],
    ['/v1/keys?list=false&a=1', '/v1/keys?a=1&list=true'],
    ['/v1/keys?list&a=1&list=true', '/v1/keys?a=1&list=true'],
    ['/v1/keys?listing=1', '/v1/keys?listing=1&list=true'],
    ['/v1/keys#frag', '/v1/keys?list=true#frag'],
    ['http://vault:8200/v1/keys', 'http://vault:8200/v1/keys?list=true'],
  ])('%s → %s', (input, output) => {
    expect(withListQuery(input)).toBe(output);
  });
});
