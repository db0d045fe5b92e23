// What every parser of network input in lab/net must hold, whatever the bytes: it returns
// a well-formed result or throws its own documented parse error — RtpParseError,
// SdpError, SapParseError, CaptureFormatError — with one of the documented reasons, and
// nothing else (no TypeError, RangeError, or error from a library underneath). Inputs are
// random bytes and text, and real or self-made packets, SDPs and captures with bits
// flipped, words overwritten with extreme values, bytes cut, inserted or deleted. The
// properties run in bounded workers (bounded-property.ts) so a hang is reported, not
// suffered; the *.property.test.ts files run them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parseRtp, RtpParseError, serializeRtp, type RtpPacket } from './rtp.ts';
import { buildAes67Sdp, describeAes67, SdpError, type Aes67StreamDescription } from './sdp.ts';
import { buildSap, parseSap, SapParseError } from './sap.ts';
import { CaptureFormatError, CaptureReader } from './pcap/reader.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, PcapngWriter } from './pcap/pcapng-writer.ts';
import { sharedCaptures } from './pcap/shared-captures.ts';
import { PCM_ENCODINGS } from './pcm.ts';

export interface ParserProperty<T> {
  arbitrary: () => fc.Arbitrary<T>;
  /** Throws when the property does not hold for `input`. */
  check: (input: T) => void;
  /** A short account of the input, for the report when a run hangs. */
  describe: (input: T) => string;
  cleanup?: () => void;
}

// ---- damage ---------------------------------------------------------------------------

/** One change to a byte string; positions are fractions of its length. */
export type Damage =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'word'; at: number; value: number; littleEndian: boolean }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

// Length fields are where parsers go wrong: the extremes, and small and odd values.
const extremeWord = fc.constantFrom(0, 1, 3, 11, 12, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff);
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

export const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fraction, bit: fc.integer({ min: 0, max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fraction }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('word' as const), at: fraction, value: fc.oneof(extremeWord, fc.nat({ max: 0xffffffff })), littleEndian: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fraction, length: fc.integer({ min: 1, max: 16 }) }), weight: 1 },
);

export function applyDamage(input: Uint8Array, damage: readonly Damage[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const d of damage) {
    const at = Math.floor(d.at * b.length);
    switch (d.kind) {
      case 'flip':
        if (b.length > 0) b[at] ^= 1 << d.bit;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'word':
        if (b.length >= 4) new DataView(b.buffer).setUint32(Math.min(at, b.length - 4), d.value, d.littleEndian);
        break;
      case 'insert': {
        const out = new Uint8Array(b.length + d.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(d.bytes, at);
        out.set(b.subarray(at), at + d.bytes.length);
        b = out;
        break;
      }
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + d.length)]);
        break;
    }
  }
  return b;
}

const damageList = fc.array(damageArb, { minLength: 0, maxLength: 8 });

function hex(b: Uint8Array, max = 48): string {
  const h = Buffer.from(b.subarray(0, max)).toString('hex');
  return `${b.length} bytes ${h}${b.length > max ? '...' : ''}`;
}

function describeDamage(d: readonly Damage[]): string {
  return d.length === 0 ? 'undamaged' : d.map((x) => `${x.kind}@${x.at.toFixed(4)}`).join(',');
}

// ---- RTP ------------------------------------------------------------------------------

const RTP_REASONS = new Set(['bad-version', 'truncated', 'padding', 'csrc-overflow', 'extension-overflow']);
const u32 = fc.nat({ max: 0xffffffff });

export const rtpPacketArb: fc.Arbitrary<RtpPacket> = fc.record({
  padding: fc.boolean(),
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
  timestamp: u32,
  ssrc: u32,
  csrcs: fc.array(u32, { maxLength: 15 }),
  extension: fc.option(
    fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), data: fc.integer({ min: 0, max: 8 }).chain((w) => fc.uint8Array({ minLength: 4 * w, maxLength: 4 * w })) }),
    { nil: undefined },
  ),
  payload: fc.uint8Array({ maxLength: 1500 }),
});

/** Parses; the result accounts for every byte, or the error is a documented one. */
export function checkRtp(bytes: Uint8Array): void {
  let p: RtpPacket;
  try {
    p = parseRtp(bytes);
  } catch (e) {
    assert.ok(e instanceof RtpParseError, `parseRtp threw ${String(e)}, not an RtpParseError`);
    assert.ok(RTP_REASONS.has(e.reason), `undocumented reason ${e.reason}`);
    return;
  }
  assert.equal(bytes[0] >> 6, 2);
  assert.equal(p.csrcs.length, bytes[0] & 0x0f);
  assert.equal(p.payload.buffer, bytes.buffer, 'the payload is a view into the datagram');
  const padding = p.padding ? bytes[bytes.length - 1] : 0;
  const extension = p.extension ? 4 + p.extension.data.length : 0;
  assert.equal(12 + 4 * p.csrcs.length + extension + p.payload.length + padding, bytes.length, 'every byte accounted for');
}

// ---- SDP ------------------------------------------------------------------------------

const SDP_REASONS = new Set([
  'empty', 'no-audio-media', 'bad-origin', 'no-connection', 'bad-connection', 'bad-media-line', 'no-rtpmap', 'bad-rtpmap',
  'unsupported-encoding', 'no-ptime', 'bad-ptime', 'bad-maxptime', 'bad-ts-refclk', 'bad-mediaclk',
]);

// Field shapes (FIELD-NOTES: Dante's i= labels and keywds, RAVENNA's framecount and
// clock-domain, a session-level c=, two media sections).
const FIELD_SDPS = [
  'v=0\r\no=- 1423986 1423994 IN IP4 169.254.98.63\r\ns=AOIP44-serial-1614 : 2\r\nc=IN IP4 239.65.125.63/32\r\nt=0 0\r\na=keywds:Dante\r\nm=audio 5004 RTP/AVP 97\r\ni=2 channels: TxChan 0, TxChan 1\r\na=recvonly\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\na=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-0E-10-C4:0\r\na=mediaclk:direct=4127112208\r\n',
  'v=0\no=- 1311738121 1311738121 IN IP4 192.168.1.1\ns=Stage box\nc=IN IP4 239.1.2.3/15\nt=0 0\na=clock-domain:PTPv2 0\nm=audio 5004 RTP/AVP 98\na=rtpmap:98 L24/48000/8\na=framecount:48\na=source-filter: incl IN IP4 239.1.2.3 192.168.1.1\na=ts-refclk:ptp=IEEE1588-2008:traceable\na=mediaclk:direct=0\na=sendonly\n',
  'v=0\r\no=lab 7 7 IN IP4 10.67.20.1\r\ns=two\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 239.0.0.1/32\r\nm=audio 5004 RTP/AVP 96\r\nc=IN IP4 239.0.0.2/32\r\na=rtpmap:96 L16/44100\r\na=ptime:0.333\r\na=maxptime:4\r\n',
];

const descriptionArb: fc.Arbitrary<Aes67StreamDescription> = fc
  .record({
    name: fc.string({ maxLength: 30 }),
    port: fc.integer({ min: 0, max: 65535 }),
    ttl: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    encoding: fc.constantFrom(...PCM_ENCODINGS),
    sampleRate: fc.constantFrom(44100, 48000, 96000),
    channels: fc.integer({ min: 1, max: 64 }),
    ptimeUs: fc.constantFrom(125, 250, 333, 1000, 4000),
    payloadType: fc.integer({ min: 0, max: 127 }),
    mediaclkOffset: fc.option(u32, { nil: undefined }),
    gm: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
  })
  .map((r) => ({
    name: r.name,
    origin: { username: '-', sessionId: '1', sessionVersion: '1', address: '10.67.20.1' },
    destination: '239.69.1.1',
    port: r.port,
    ttl: r.ttl,
    encoding: r.encoding,
    sampleRate: r.sampleRate,
    channels: r.channels,
    ptimeUs: r.ptimeUs,
    framesPerPacket: 0,
    payloadType: r.payloadType,
    mediaclkOffset: r.mediaclkOffset,
    ptpRefclk: r.gm ? { gmid: Array.from(r.gm, (x) => x.toString(16).padStart(2, '0')).join('-').toUpperCase(), domain: 0 } : undefined,
  }));

// Lines an SDP may hold, with values from a small alphabet so they often almost parse.
const sdpValue = fc.string({ unit: fc.constantFrom(...'0123456789 ./:-=INPVRTALabcdefxyzE_'.split('')), maxLength: 40 });
const sdpLineArb = fc.oneof(
  fc.constantFrom('v=0', 't=0 0', 's=x', 'a=sendonly', 'a=recvonly', 'm=audio 5004 RTP/AVP 96', 'c=IN IP4 239.1.1.1/32', 'a=rtpmap:96 L24/48000/2', 'a=ptime:1', ''),
  fc.tuple(
    fc.constantFrom('o=', 'c=', 'm=', 'm=audio ', 'a=rtpmap:', 'a=rtpmap:96 ', 'a=ptime:', 'a=maxptime:', 'a=framecount:', 'a=ts-refclk:', 'a=ts-refclk:ptp=IEEE1588-2008:', 'a=mediaclk:', 'a=source-filter:', 'a=clock-domain:', 'a=keywds:', 'i=', 'b=', 'a=fmtp:', 'k=', 'z=', 'r=', 'a='),
    sdpValue,
  ).map(([a, b]) => a + b),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

export type SdpInput = { text: string; how: string };

const lineEdit = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fraction }),
  fc.record({ op: fc.constant('duplicate' as const), at: fraction }),
  fc.record({ op: fc.constant('swap' as const), at: fraction, with: fraction }),
  fc.record({ op: fc.constant('replace' as const), at: fraction, line: sdpLineArb }),
  fc.record({ op: fc.constant('insert' as const), at: fraction, line: sdpLineArb }),
  fc.record({ op: fc.constant('cut' as const), at: fraction }),
);
type LineEdit = typeof lineEdit extends fc.Arbitrary<infer T> ? T : never;

function editSdp(text: string, edits: readonly LineEdit[], eol: string): string {
  let lines = text.split(/\r\n|\n|\r/);
  for (const e of edits) {
    const i = Math.floor(e.at * lines.length);
    if (e.op === 'delete') lines.splice(i, 1);
    else if (e.op === 'duplicate') lines.splice(i, 0, lines[i] ?? '');
    else if (e.op === 'swap') {
      const j = Math.floor(e.with * lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    } else if (e.op === 'replace') lines[i] = e.line;
    else if (e.op === 'insert') lines.splice(i, 0, e.line);
    else {
      const joined = lines.join('\n');
      lines = joined.slice(0, Math.floor(e.at * joined.length)).split('\n');
    }
  }
  return lines.map((l) => l ?? '').join(eol);
}

export const sdpInputArb: fc.Arbitrary<SdpInput> = fc.oneof(
  // Anything at all.
  fc.string({ unit: 'binary', maxLength: 400 }).map((text) => ({ text, how: 'random text' })),
  // Lines that look like SDP, in any order.
  fc.tuple(fc.array(sdpLineArb, { maxLength: 30 }), fc.constantFrom('\r\n', '\n', '\r')).map(([ls, eol]) => ({ text: ls.join(eol), how: 'random lines' })),
  // A valid SDP (built, or a field shape) with lines deleted, doubled, swapped, replaced, cut.
  fc.tuple(fc.oneof(descriptionArb.map((d) => buildAes67Sdp(d)), fc.constantFrom(...FIELD_SDPS)), fc.array(lineEdit, { maxLength: 6 }), fc.constantFrom('\r\n', '\n')).map(([text, edits, eol]) => ({
    text: editSdp(text, edits, eol),
    how: `edited valid SDP (${edits.map((e) => e.op).join(',') || 'unedited'})`,
  })),
  // Very long lines and very many lines: linear time, no pathological regular expressions.
  fc.tuple(fc.constantFrom(...FIELD_SDPS), fc.constantFrom('a=', 'i=', 'a=ptime:', 'c=IN IP4 ', 'm=audio ', 'a=rtpmap:97 L24/', 'i=2 channels: '), fc.constantFrom(' ', '1', '1 ', ':', '.', 'a', ', '), fc.integer({ min: 1000, max: 100_000 })).map(
    ([text, prefix, unit, n]) => ({ text: text.replace('t=0 0', `t=0 0\r\n${prefix}${unit.repeat(n)}`), how: `a ${prefix} line of ${n} x "${unit}"` }),
  ),
);

export function checkSdp(text: string): void {
  let d: Aes67StreamDescription;
  try {
    d = describeAes67(text);
  } catch (e) {
    assert.ok(e instanceof SdpError, `describeAes67 threw ${String(e)}, not an SdpError`);
    assert.ok(SDP_REASONS.has(e.reason), `undocumented reason ${e.reason}`);
    assert.ok(Number.isInteger(e.line) && e.line >= 0 && e.line <= text.split(/\r\n|\r|\n/).length, `line ${e.line} is not a line of the text`);
    return;
  }
  assert.ok(Number.isInteger(d.port) && d.port >= 0 && d.port <= 65535, `port ${d.port}`);
  assert.ok(Number.isInteger(d.payloadType) && d.payloadType >= 0 && d.payloadType <= 127, `payload type ${d.payloadType}`);
  assert.ok((PCM_ENCODINGS as readonly string[]).includes(d.encoding), `encoding ${d.encoding}`);
  assert.ok(Number.isInteger(d.sampleRate) && d.sampleRate > 0, `sample rate ${d.sampleRate}`);
  assert.ok(Number.isInteger(d.channels) && d.channels > 0, `channels ${d.channels}`);
  assert.ok(Number.isInteger(d.framesPerPacket) && d.framesPerPacket > 0, `frames per packet ${d.framesPerPacket}`);
  if (d.ttl !== undefined) assert.ok(Number.isInteger(d.ttl) && d.ttl >= 0 && d.ttl <= 255, `ttl ${d.ttl}`);
  if (d.mediaclkOffset !== undefined) assert.ok(Number.isSafeInteger(d.mediaclkOffset) && d.mediaclkOffset >= 0, `mediaclk offset ${d.mediaclkOffset}`);
}

// ---- SAP ------------------------------------------------------------------------------

const SAP_REASONS = new Set(['truncated', 'bad-version', 'decompress-failed', 'bad-payload-type']);

export type SapInput = { bytes: Uint8Array; how: string };

const sapBuiltArb = fc
  .record({
    messageType: fc.constantFrom('announce' as const, 'delete' as const),
    msgIdHash: fc.integer({ min: 0, max: 0xffff }),
    origin: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')),
    sdp: fc.oneof(fc.constantFrom(...FIELD_SDPS), fc.string({ maxLength: 300 })),
    payloadType: fc.option(fc.constantFrom('application/sdp', 'text/plain', 'x/y'), { nil: undefined }),
    omitPayloadType: fc.boolean(),
    compressed: fc.boolean(),
  })
  .map((o) => ({ bytes: buildSap(o), how: `${o.messageType}${o.compressed ? ' compressed' : ''}${o.omitPayloadType ? ' no-type' : ''}` }));

export const sapInputArb: fc.Arbitrary<SapInput> = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }).map((bytes) => ({ bytes, how: 'random bytes' })),
  // Version 1 with random flags, so parsing goes past the first check.
  fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => {
    b[0] = 0x20 | (b[0] & 0x1f);
    return { bytes: b, how: 'random bytes, version 1' };
  }),
  fc.tuple(sapBuiltArb, damageList).map(([s, d]) => ({ bytes: applyDamage(s.bytes, d), how: `${s.how}, ${describeDamage(d)}` })),
);

export function checkSap(bytes: Uint8Array): void {
  let p: ReturnType<typeof parseSap>;
  try {
    p = parseSap(bytes);
  } catch (e) {
    assert.ok(e instanceof SapParseError, `parseSap threw ${String(e)}, not a SapParseError`);
    assert.ok(SAP_REASONS.has(e.reason), `undocumented reason ${e.reason}`);
    return;
  }
  assert.equal(p.version, 1);
  assert.ok(p.msgIdHash >= 0 && p.msgIdHash <= 0xffff);
  assert.match(p.origin, /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7})$/);
  // Decompression is capped: no announcement can make the parser hold more than 64 KiB.
  assert.ok(p.sdp.length <= 65536, `${p.sdp.length} characters of SDP`);
}

// ---- pcap / pcapng --------------------------------------------------------------------

export type CaptureInput = { bytes: Uint8Array; how: string };

let scratchDir: string | undefined;
function scratch(): string {
  scratchDir ??= mkdtempSync(path.join(tmpdir(), 'a67prop-'));
  return scratchDir;
}
export function removeScratch(): void {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = undefined;
}

// Magic numbers, so random bytes get past the first check: pcap µs and ns in both byte
// orders, and a pcapng section header in both.
const CAPTURE_PREFIXES: Uint8Array[] = [
  Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0),
  Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4),
  Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0),
  Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d),
];

/** The first `limit` bytes of each shared capture (the small ones whole), read once. */
const sharedPrefixes = new Map<string, Uint8Array>();
function sharedPrefix(file: string, limit = 96 * 1024): Uint8Array {
  let b = sharedPrefixes.get(file);
  if (!b) {
    const all = readFileSync(file);
    b = new Uint8Array(all.subarray(0, Math.min(all.length, limit)));
    sharedPrefixes.set(file, b);
  }
  return b;
}

export const randomCaptureArb: fc.Arbitrary<CaptureInput> = fc
  .tuple(fc.nat(CAPTURE_PREFIXES.length - 1), fc.uint8Array({ maxLength: 3000 }))
  .map(([i, rest]) => {
    const bytes = new Uint8Array(CAPTURE_PREFIXES[i].length + rest.length);
    bytes.set(CAPTURE_PREFIXES[i]);
    bytes.set(rest, CAPTURE_PREFIXES[i].length);
    return { bytes, how: `magic ${i} + ${rest.length} random bytes` };
  });

export function sharedCaptureArb(files: string[]): fc.Arbitrary<CaptureInput> {
  return fc.tuple(fc.constantFrom(...files), damageList).map(([file, d]) => ({
    bytes: applyDamage(sharedPrefix(file), d),
    how: `${path.basename(file)} (first ${sharedPrefix(file).length} bytes), ${describeDamage(d)}`,
  }));
}

const writtenCaptureArb: fc.Arbitrary<CaptureInput> = fc
  .tuple(
    fc.array(fc.constantFrom(LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, 0xffff), { minLength: 1, maxLength: 3 }),
    fc.array(fc.record({ ifc: fc.nat(2), ns: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), data: fc.uint8Array({ maxLength: 200 }), comment: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }) }), { maxLength: 20 }),
    damageList,
  )
  .map(([links, packets, d]) => {
    const file = path.join(scratch(), 'written.pcapng');
    const w = new PcapngWriter(file, 'parser-properties');
    links.forEach((linkType) => w.addInterface({ linkType, name: `if${linkType}` }));
    for (const p of packets) w.writePacket(p.ifc % links.length, p.ns, p.data, p.comment);
    w.close();
    const bytes = new Uint8Array(readFileSync(file));
    unlinkSync(file);
    return { bytes: applyDamage(bytes, d), how: `pcapng writer: ${links.length} interfaces, ${packets.length} packets, ${describeDamage(d)}` };
  });

export function checkCapture(bytes: Uint8Array): void {
  const file = path.join(scratch(), 'input.cap');
  writeFileSync(file, bytes);
  const size = statSync(file).size;
  let frames = 0;
  try {
    const reader = new CaptureReader(file);
    for (const f of reader) {
      ++frames;
      assert.ok(f.data.length <= size, `a ${f.data.length}-byte frame from a ${size}-byte file`);
      assert.ok(f.offset >= 0 && f.offset < size);
      // Every record or block takes at least 12 bytes of the file.
      assert.ok(frames * 12 <= size, `${frames} frames from ${size} bytes`);
      // The read window: one chunk, or one block when a block is larger (never beyond the file).
      assert.ok(reader.bufferBytes <= Math.max(1 << 20, size), `reader holds ${reader.bufferBytes} bytes`);
    }
  } catch (e) {
    assert.ok(e instanceof CaptureFormatError, `CaptureReader threw ${String(e)}, not a CaptureFormatError`);
    assert.ok(e.offset >= 0 && e.offset <= size, `error offset ${e.offset} outside the ${size}-byte file`);
  } finally {
    unlinkSync(file);
  }
}

// ---- the properties -------------------------------------------------------------------

const captures = sharedCaptures();

export const properties: Record<string, ParserProperty<any>> = {
  'rtp random bytes': {
    // Half of them with version 2, so parsing goes past the first check.
    arbitrary: () =>
      fc.tuple(fc.uint8Array({ maxLength: 1600 }), fc.boolean()).map(([b, v2]) => {
        if (v2 && b.length > 0) b[0] = 0x80 | (b[0] & 0x3f);
        return b;
      }),
    check: checkRtp,
    describe: (b: Uint8Array) => hex(b),
  } satisfies ParserProperty<Uint8Array>,
  'rtp damaged packets': {
    arbitrary: () => fc.tuple(rtpPacketArb, damageList),
    check: ([p, d]: [RtpPacket, Damage[]]) => {
      const wire = serializeRtp(p);
      const damaged = applyDamage(wire, d);
      checkRtp(damaged);
      if (d.length === 0) {
        const back = parseRtp(damaged);
        assert.deepEqual({ ...back, payload: [...back.payload], extension: back.extension && { ...back.extension, data: [...back.extension.data] } }, {
          ...p,
          payload: [...p.payload],
          extension: p.extension && { ...p.extension, data: [...p.extension.data] },
        });
      }
    },
    describe: ([p, d]: [RtpPacket, Damage[]]) => `packet of ${p.payload.length} payload bytes, ${describeDamage(d)}`,
  } satisfies ParserProperty<[RtpPacket, Damage[]]>,
  'sdp text': {
    arbitrary: () => sdpInputArb,
    check: (i: SdpInput) => checkSdp(i.text),
    describe: (i: SdpInput) => `${i.how}: ${JSON.stringify(i.text.slice(0, 80))}${i.text.length > 80 ? '...' : ''}`,
  } satisfies ParserProperty<SdpInput>,
  'sap packets': {
    arbitrary: () => sapInputArb,
    check: (i: SapInput) => checkSap(i.bytes),
    describe: (i: SapInput) => `${i.how}: ${hex(i.bytes)}`,
  } satisfies ParserProperty<SapInput>,
  'capture random bytes': {
    arbitrary: () => randomCaptureArb,
    check: (i: CaptureInput) => checkCapture(i.bytes),
    describe: (i: CaptureInput) => `${i.how}: ${hex(i.bytes)}`,
    cleanup: removeScratch,
  } satisfies ParserProperty<CaptureInput>,
  'capture written by the pcapng writer, damaged': {
    arbitrary: () => writtenCaptureArb,
    check: (i: CaptureInput) => checkCapture(i.bytes),
    describe: (i: CaptureInput) => `${i.how}: ${hex(i.bytes)}`,
    cleanup: removeScratch,
  } satisfies ParserProperty<CaptureInput>,
  'capture from ../shared/captures, damaged': {
    arbitrary: () => (captures.length > 0 ? sharedCaptureArb(captures) : fc.constant({ bytes: new Uint8Array(0), how: 'no shared captures' })),
    check: (i: CaptureInput) => checkCapture(i.bytes),
    describe: (i: CaptureInput) => i.how,
    cleanup: removeScratch,
  } satisfies ParserProperty<CaptureInput>,
};
