// The engine's RTSP message parser (C++, engine/rtsp/rtsp_message.cpp) crossed with the
// lab's (TypeScript, lab/net/rtsp-message.ts), written independently, on random byte
// streams from fast-check: pipelined valid messages (CRLF or LF, any header case, spaces
// around values, blank lines between, bodies of any bytes) split into random chunks —
// both must read exactly the messages the generator wrote; the same streams with one
// named fault — both refuse, for the same reason; streams with random text in between,
// and random bytes — the same messages, and both refuse or neither. And each side's
// writer is read back by the other side's parser.
//
// Where the two differ, the streams stay clear of it (and the report says so): the engine
// also limits line length (8 KiB) and header count (64); it refuses two Content-Length
// headers (the lab takes the last) and folded or nameless header lines (the lab takes them
// as headers). Mixed line endings and four-digit statuses, where the lab's parser was
// wrong, have their own test below.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../index.ts';
import type { NativeRtspMessage, RtspParseErrorName } from '../rtsp.ts';
import { formatRequest, formatResponse, RtspParseError, RtspParser, type RtspMessage } from '../../lab/net/rtsp-message.ts';

/** A message as both sides can be compared: header names lower-cased, the last of a name kept (where first seen). */
interface Norm {
  kind: 'request' | 'response';
  method?: string;
  url?: string;
  status?: number;
  reason?: string;
  version: string;
  headers: [string, string][];
  body: string;
}

interface Outcome {
  messages: Norm[];
  error?: string;
}

function lastWins(pairs: [string, string][]): [string, string][] {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) m.set(k.toLowerCase(), v);
  return [...m];
}

function fromTs(m: RtspMessage): Norm {
  const base = { version: m.version, headers: [...m.headers], body: m.body };
  return m.kind === 'request' ? { kind: 'request', method: m.method, url: m.url, ...base } : { kind: 'response', status: m.status, reason: m.reason, ...base };
}

function fromNative(m: NativeRtspMessage): Norm {
  const headers = lastWins(m.headers.map(([k, v]) => [k.toString('utf8'), v.toString('utf8')]));
  const base = { version: m.version, headers, body: m.body.toString('utf8') };
  return m.kind === 'request'
    ? { kind: 'request', method: m.method, url: m.url, ...base }
    : { kind: 'response', status: m.status, reason: m.reason.toString('utf8'), ...base };
}

/**
 * The lab's parser over the chunks. It throws on a refusal and so loses the messages the
 * same push completed before it: those are recovered from the longest prefix of that
 * chunk it takes without refusing (found by bisection, each try on a fresh parser).
 */
function runTs(chunks: Uint8Array[], p = new RtspParser(), before: Uint8Array[] = []): Outcome & { parser: RtspParser } {
  const messages: Norm[] = [];
  for (let k = 0; k < chunks.length; k++) {
    try {
      messages.push(...p.push(chunks[k]).map(fromTs));
    } catch (e) {
      if (!(e instanceof RtspParseError)) throw e;
      const prior = [...before, ...chunks.slice(0, k)];
      const attempt = (length: number): RtspMessage[] | undefined => {
        const q = new RtspParser();
        for (const c of prior) q.push(c);
        try {
          return q.push(chunks[k].subarray(0, length));
        } catch (e2) {
          if (!(e2 instanceof RtspParseError)) throw e2;
          return undefined;
        }
      };
      let lo = 0;
      let hi = chunks[k].length; // lo is taken, hi refused
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (attempt(mid)) lo = mid;
        else hi = mid;
      }
      messages.push(...attempt(lo)!.map(fromTs));
      return { messages, error: e.reason, parser: p };
    }
  }
  return { messages, parser: p };
}

function runNative(chunks: Uint8Array[], p = new native.RtspParser()): Outcome & { parser: typeof p } {
  const messages: Norm[] = [];
  for (const c of chunks) {
    const r = p.push(c);
    messages.push(...r.messages.map(fromNative));
    if (r.error) return { messages, error: r.error, parser: p };
  }
  return { messages, parser: p };
}

// Enough blank lines to end any header block and fill any body the limits allow.
const FLUSH = Buffer.from('\r\n'.repeat(41_000));

/**
 * Both parsers over the same chunks. The engine's judges a line when it ends; the lab's
 * waits for the whole header block and body. So when one has refused and the other is
 * still waiting, the waiting one is given blank lines until it must decide.
 */
function cross(chunks: Uint8Array[]): { ts: Outcome; engine: Outcome } {
  const ts = runTs(chunks);
  const engine = runNative(chunks);
  let tsOut: Outcome = ts;
  let engineOut: Outcome = engine;
  if (ts.error && !engine.error) {
    const more = runNative([FLUSH], engine.parser);
    engineOut = { messages: [...engine.messages, ...more.messages], error: more.error };
  } else if (engine.error && !ts.error) {
    const more = runTs([FLUSH], ts.parser, chunks);
    tsOut = { messages: [...ts.messages, ...more.messages], error: more.error };
  }
  return { ts: { messages: tsOut.messages, error: tsOut.error }, engine: { messages: engineOut.messages, error: engineOut.error } };
}

// ---- generators ----------------------------------------------------------------------

const printable = (min: number, max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max });
const visible = (min: number, max: number) => fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max });
const nameChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'.split(''));
const headerName = fc.oneof(
  fc.constantFrom('CSeq', 'cseq', 'CSEQ', 'Content-Type', 'content-type', 'Accept', 'User-Agent', 'Server', 'Public', 'Session', 'Content-Base', 'X-Thing'),
  fc.tuple(fc.string({ unit: nameChars, minLength: 1, maxLength: 12 }), fc.option(fc.string({ unit: nameChars, minLength: 1, maxLength: 8 }), { nil: undefined })).map(([a, b]) => (b ? `${a} ${b}` : a)),
).filter((n) => n.toLowerCase() !== 'content-length');
const space = fc.constantFrom('', '', ' ', '  ', '\t', ' \t ');
const headerValue = fc.tuple(space, printable(0, 40).map((v) => v.trim()), space).map(([a, v, b]) => ({ raw: `${a}${v}${b}`, value: v }));

interface Generated {
  head: string;
  body: Uint8Array;
  eol: string;
  bytes: Buffer;
  expect: Norm;
}

const versionArb = fc.oneof(fc.constant('RTSP/1.0'), fc.tuple(fc.nat(9), fc.nat(9)).map(([a, b]) => `RTSP/${a}.${b}`));

const messageArb: fc.Arbitrary<Generated> = fc
  .record({
    request: fc.boolean(),
    method: fc.oneof(fc.constantFrom('OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'GET_PARAMETER', 'SET_PARAMETER', 'SETUP', 'TEARDOWN'), fc.stringMatching(/^[A-Z_]{1,12}$/)),
    url: fc.oneof(fc.constant('*'), fc.constant('rtsp://10.67.180.1:554/by-name/Stage%20box%201%2C%20mix'), visible(1, 60)),
    status: fc.integer({ min: 100, max: 999 }),
    reason: fc.oneof(fc.constantFrom('OK', 'Not Found', 'Method Not Allowed', ''), printable(0, 30)),
    reasonSpace: fc.boolean(),
    version: versionArb,
    headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }),
    body: fc.oneof(fc.constant(new Uint8Array()), fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((s) => new Uint8Array(Buffer.from(s)))),
    lengthName: fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH'),
    lengthForm: fc.constantFrom('plain', 'zeros', 'spaced', 'omitted-if-empty'),
    lengthAt: fc.nat(),
    eol: fc.constantFrom('\r\n', '\n'),
  })
  .map((g): Generated => {
    const headers = g.headers.map(([name, v]) => [name, v.raw, v.value] as [string, string, string]);
    const n = g.body.length;
    if (n > 0 || g.lengthForm !== 'omitted-if-empty') {
      const raw = g.lengthForm === 'zeros' ? `00${n}` : g.lengthForm === 'spaced' ? `  ${n} ` : String(n);
      headers.splice(g.lengthAt % (headers.length + 1), 0, [g.lengthName, raw, raw.trim()]);
    }
    const start = g.request ? `${g.method} ${g.url} ${g.version}` : `${g.version} ${g.status}${g.reason || g.reasonSpace ? ` ${g.reason}` : ''}`;
    const head = [start, ...headers.map(([k, raw]) => `${k}:${raw}`)].join(g.eol) + g.eol + g.eol;
    const common = { version: g.version, headers: lastWins(headers.map(([k, , v]) => [k, v])), body: Buffer.from(g.body).toString('utf8') };
    const expect: Norm = g.request ? { kind: 'request', method: g.method, url: g.url, ...common } : { kind: 'response', status: g.status, reason: g.reason, ...common };
    return { head, body: g.body, eol: g.eol, bytes: Buffer.concat([Buffer.from(head, 'latin1'), g.body]), expect };
  });

// Blank lines before a message: one style per run (see the file comment).
const blanks = fc.tuple(fc.nat(2), fc.constantFrom('\r\n', '\n')).map(([k, eol]) => eol.repeat(k));

const streamArb = fc.array(fc.tuple(blanks, messageArb), { minLength: 1, maxLength: 6 });


/** Cuts bytes into chunks at the given fractions. */
function chunked(bytes: Buffer, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const a of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, a));
    prev = a;
  }
  return out;
}
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

// One fault in one message's head (start line and headers, as lines), named by the
// reason both parsers must give.
type Fault = { reason: RtspParseErrorName; apply: (lines: string[]) => string[] };
const isLength = (line: string) => /^content-length\s*:/i.test(line);
const faults: fc.Arbitrary<Fault> = fc.oneof(
  fc.constantFrom('describe rtsp://h/x RTSP/1.0', 'DESCRIBE rtsp://h/x HTTP/1.1', 'DESCRIBE  rtsp://h/x RTSP/1.0', 'DESCRIBE rtsp://h/x', 'RTSP/1.0 20 OK', 'GARBAGE', 'RTSP/1.0 abc OK', 'DESCRIBE rtsp://h/x RTSP/1.0 ')
    .map((line): Fault => ({ reason: 'bad-start-line', apply: ([, ...rest]) => [line, ...rest] })),
  fc.tuple(printable(1, 30).filter((l) => !l.includes(':')), fc.nat()).map(([line, at]): Fault => ({ reason: 'bad-header', apply: ([start, ...rest]) => [start, ...rest.slice(0, at % (rest.length + 1)), line, ...rest.slice(at % (rest.length + 1))] })),
  printable(0, 20).map((v): Fault => ({ reason: 'bad-header', apply: ([start, ...rest]) => [start, `:${v}`, ...rest] })),
  // The only Content-Length (the lab's parser takes the last of several).
  fc.constantFrom('x', '-1', '1 2', '', '+5', '0x10', '1.0').map((v): Fault => ({ reason: 'bad-content-length', apply: ([start, ...rest]) => [start, ...rest.filter((l) => !isLength(l)), `Content-Length: ${v}`] })),
  fc.integer({ min: 65_537, max: 2 ** 40 }).map((n): Fault => ({ reason: 'body-too-long', apply: ([start, ...rest]) => [start, ...rest.filter((l) => !isLength(l)), `Content-Length: ${n}`] })),
  fc.integer({ min: 3, max: 8 }).map((k): Fault => ({ reason: 'header-too-long', apply: ([start, ...rest]) => [start, ...Array.from({ length: k }, (_, i) => `X-Pad-${i}: ${'p'.repeat(6000)}`), ...rest] })),
);

const native = addonBuilt() ? loadNative() : (undefined as never);

describe.skipIf(!addonBuilt())('RTSP messages: the engine parser crossed with the lab parser', () => {
  it('valid pipelined streams split anywhere: both read exactly the messages written', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, (stream, cuts) => {
        const bytes = Buffer.concat(stream.flatMap(([b, m]) => [Buffer.from(b), m.bytes]));
        const { ts, engine } = cross(chunked(bytes, cuts));
        const expected = stream.map(([, m]) => m.expect);
        expect(ts).toEqual({ messages: expected, error: undefined });
        expect(engine).toEqual({ messages: expected, error: undefined });
      }),
      { numRuns: 1500 },
    );
  });

  it('one fault in one message: both keep the messages before it and refuse for the same reason', () => {
    const faultyArb = fc.tuple(streamArb, fc.nat(), faults, cutsArb).map(([stream, at, fault, cuts]) => {
      const k = at % stream.length;
      const parts = stream.map(([b, m], i) => {
        if (i !== k) return Buffer.concat([Buffer.from(b), m.bytes]);
        const lines = m.head.slice(0, -2 * m.eol.length).split(m.eol);
        const head = fault.apply(lines).join(m.eol) + m.eol + m.eol;
        return Buffer.concat([Buffer.from(b), Buffer.from(head, 'latin1'), m.body]);
      });
      return { bytes: Buffer.concat(parts), before: stream.slice(0, k).map(([, m]) => m.expect), reason: fault.reason, cuts };
    });
    fc.assert(
      fc.property(faultyArb, ({ bytes, before, reason, cuts }) => {
        const { ts, engine } = cross(chunked(bytes, cuts));
        expect(ts).toEqual({ messages: before, error: reason });
        expect(engine).toEqual({ messages: before, error: reason });
      }),
      { numRuns: 1500 },
    );
  });

  it('random text between messages and random bytes: the same messages, and both refuse or neither', () => {
    // Text without CR, not ending in LF, so it never forms the LF-then-CRLF blank lines the lab's parser trips on.
    const noise = fc
      .string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constantFrom('\n', '\t', ':')), minLength: 1, maxLength: 120 })
      .filter((s) => !s.endsWith('\n'));
    const unit = fc.oneof(
      fc.tuple(blanks, messageArb).map(([b, m]) => Buffer.concat([Buffer.from(b), m.bytes])),
      noise.map((s) => Buffer.from(s)),
      fc.uint8Array({ minLength: 1, maxLength: 200 }).filter((b) => b.some((x) => x !== 10 && x !== 13)).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 6 }), cutsArb, (units, cuts) => {
        const { ts, engine } = cross(chunked(Buffer.concat(units), cuts));
        expect(engine.messages).toEqual(ts.messages);
        expect(engine.error !== undefined).toBe(ts.error !== undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it("each side's writer is read back by the other side's parser", () => {
    const arb = fc.record({
      request: fc.boolean(),
      method: fc.stringMatching(/^[A-Z_]{1,12}$/),
      url: visible(1, 60),
      status: fc.integer({ min: 100, max: 999 }),
      reason: printable(0, 30).map((r) => r.trim()),
      headers: fc.array(fc.tuple(headerName, printable(0, 40).map((v) => v.trim())), { maxLength: 10 }),
      body: fc.string({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(arb, (g) => {
        const engineBytes = g.request
          ? native.writeRtspRequest(g.method, g.url, g.headers, g.body)
          : native.writeRtspResponse(g.status, g.reason, g.headers, g.body);
        const labText = g.request ? formatRequest(g.method, g.url, g.headers, g.body) : formatResponse(g.status, g.reason, g.headers, g.body);
        const fromEngine = new RtspParser().push(engineBytes).map(fromTs);
        const fromLab = new native.RtspParser().push(Buffer.from(labText));
        expect(fromLab.error).toBeUndefined();
        expect(fromEngine).toEqual(fromLab.messages.map(fromNative));
        expect(fromEngine).toHaveLength(1);
        const m = fromEngine[0];
        expect(m.body).toBe(g.body);
        expect(m.headers).toEqual(lastWins([...g.headers, ...(g.body ? [['Content-Length', String(Buffer.byteLength(g.body))] as [string, string]] : [])]));
        // The two writers agree byte for byte (empty reasons aside: the engine leaves out the trailing space).
        if (g.request || g.reason !== '') expect(engineBytes.toString()).toBe(labText);
      }),
      { numRuns: 1000 },
    );
  });

  it('mixed CRLF/LF endings and a four-digit status: both read or refuse alike', () => {
    const streams = [
      'OPTIONS rtsp://a/ RTSP/1.0\nCSeq: 1\n\r\nOPTIONS rtsp://a/ RTSP/1.0\r\nCSeq: 2\r\n\r\n', // LF lines, CRLF blank line
      '\n\r\nOPTIONS rtsp://a/ RTSP/1.0\r\nCSeq: 3\r\n\r\n', // LF then CRLF blank lines before a message
      'RTSP/1.0 200 OK\r\nCSeq: 4\r\n\nRTSP/1.0 404\r\nCSeq: 5\r\n\r\n', // CRLF lines, LF blank line; no reason
      'RTSP/1.0 2000 OK\r\nCSeq: 6\r\n\r\n', // four digits: not a status
    ];
    for (const text of streams) {
      const { ts, engine } = cross([Buffer.from(text)]);
      expect(ts, JSON.stringify(text)).toEqual(engine);
    }
    expect(cross([Buffer.from(streams[0])]).ts.messages.map((m) => m.headers)).toEqual([[['cseq', '1']], [['cseq', '2']]]);
    expect(cross([Buffer.from(streams[3])]).ts.error).toBe('bad-start-line');
  });

  it('the limits the two share are the same numbers', async () => {
    const lab = await import('../../lab/net/rtsp-message.ts');
    expect(native.rtspLimits.maxHeaderBlockBytes).toBe(lab.MAX_HEADER_BYTES);
    expect(native.rtspLimits.maxBodyBytes).toBe(lab.MAX_BODY_BYTES);
  });
});
