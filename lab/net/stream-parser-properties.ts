// Parser properties (as parser-properties.ts) for the rest of lab/net's network input: PTP
// messages (parsePtp returns a result, never throws), DNS / mDNS messages (decodeDns throws
// DnsParseError only), RTSP byte streams (RtspParser throws RtspParseError only and never
// buffers past its limits) and captured frames into UdpDecoder (never throws; a datagram's
// payload lies inside its frame; pending fragments stay within their bound). Inputs:
// random bytes, well-formed messages the lab builds, and real PTP datagrams from
// ../shared/captures, damaged. Run in bounded workers by stream-parser.property.test.ts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyDamage, damageArb, type Damage, type ParserProperty } from './parser-properties.ts';
import { decodeDns, DnsParseError, encodeDns } from './mdns.ts';
import { parsePtp } from './ptp.ts';
import { formatRequest, formatResponse, MAX_BODY_BYTES, MAX_HEADER_BYTES, ravennaSessionUrl, RtspParseError, RtspParser } from './rtsp-message.ts';
import { openCapture } from './pcap/reader.ts';
import { sharedCaptures } from './pcap/shared-captures.ts';
import { UdpDecoder } from './pcap/udp.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL, LINKTYPE_RAW } from './pcap/link.ts';
import { buildUdpFrame } from './udp-frame.ts';

const damageList = fc.array(damageArb, { maxLength: 4 });
const hex = (b: Uint8Array, max = 48) => `${b.length} bytes ${Buffer.from(b.subarray(0, max)).toString('hex')}${b.length > max ? '...' : ''}`;
const describeDamage = (d: readonly Damage[]) => (d.length === 0 ? 'undamaged' : d.map((x) => `${x.kind}@${x.at.toFixed(4)}`).join(','));

// ---- PTP: real datagrams from the captures, and headers the fuzzing should get past ----

/** Up to 64 PTP datagrams (UDP 319/320) from ../shared/captures ([] when absent). */
function capturedPtp(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const file of sharedCaptures()) {
    const udp = new UdpDecoder();
    let frames = 0;
    for (const frame of openCapture(file)) {
      if (++frames > 5000 || out.length >= 64) break;
      const d = udp.decode(frame);
      if (d && (d.destinationPort === 319 || d.destinationPort === 320)) out.push(Uint8Array.from(d.payload));
    }
  }
  return out;
}
let ptpSeedsRead: Uint8Array[] | undefined;
/** Read when the property that needs them runs, not when a worker loads this module. */
const ptpSeeds = () => (ptpSeedsRead ??= capturedPtp());

const ptpHeaderLike = fc.tuple(fc.uint8Array({ minLength: 34, maxLength: 200 }), fc.constantFrom(0, 1, 2, 3, 8, 9, 0xb, 0xc, 0xd, 5, 15)).map(([b, type]) => {
  b[0] = (b[0] & 0xf0) | type;
  b[1] = 0x02; // PTPv2
  const len = b.length;
  b[2] = len >> 8;
  b[3] = len & 0xff;
  return b;
});

function checkPtp(bytes: Uint8Array): void {
  const r = parsePtp(bytes);
  if (r.ok) {
    assert.ok(r.message.messageLength <= bytes.length, 'a message longer than its datagram');
  } else {
    assert.equal(typeof r.reason, 'string');
  }
}

// ---- DNS / mDNS ----

const ravennaAnswer = (session: string) => {
  const browse = '_ravenna_session._sub._rtsp._tcp.local';
  const fqdn = `${session}._rtsp._tcp.local`;
  return encodeDns({
    type: 'response',
    id: 0,
    flags: 0x8400,
    answers: [{ name: browse, type: 'PTR', ttl: 4500, data: fqdn }],
    additionals: [
      { name: fqdn, type: 'SRV', ttl: 120, flush: true, data: { port: 554, target: 'horus.local', priority: 0, weight: 0 } },
      { name: fqdn, type: 'TXT', ttl: 4500, flush: true, data: [''] },
      { name: 'horus.local', type: 'A', ttl: 120, flush: true, data: '10.67.180.1' },
    ],
  });
};
const dnsMessages = [ravennaAnswer('Stage box 1, mix'), ravennaAnswer('Régie 2'), encodeDns({ type: 'query', id: 0, flags: 0, questions: [{ name: '_rtsp._tcp.local', type: 'PTR' }] })];

function checkDns(bytes: Uint8Array): void {
  try {
    const p = decodeDns(bytes);
    assert.ok(p.type === 'query' || p.type === 'response');
  } catch (e) {
    if (!(e instanceof DnsParseError)) throw new Error(`decodeDns threw ${(e as Error).name}: ${(e as Error).message} (not a DnsParseError)`);
  }
}

// ---- RTSP ----

const rtspUrl = ravennaSessionUrl('10.67.180.1', 554, 'Stage box 1, mix');
const sdp = 'v=0\r\no=- 1 1 IN IP4 10.67.180.1\r\ns=Stage box 1, mix\r\nc=IN IP4 239.1.2.3/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 98\r\na=rtpmap:98 L24/48000/2\r\n';
const rtspMessages = [
  formatRequest('DESCRIBE', rtspUrl, [['CSeq', 1], ['Accept', 'application/sdp']]),
  formatResponse(200, 'OK', [['CSeq', 1], ['Content-Type', 'application/sdp'], ['Content-Base', `${rtspUrl}/`]], sdp),
  formatRequest('ANNOUNCE', rtspUrl, [['CSeq', 2], ['Content-Type', 'application/sdp']], sdp),
  formatResponse(404, 'Not Found', [['CSeq', 3]]),
].map((m) => new TextEncoder().encode(m));

type RtspInput = { bytes: Uint8Array; cuts: number[]; how: string };
const rtspInputArb: fc.Arbitrary<RtspInput> = fc.oneof(
  fc.tuple(fc.uint8Array({ maxLength: 4000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 })).map(([bytes, cuts]) => ({ bytes, cuts, how: 'random bytes' })),
  fc
    .tuple(fc.array(fc.integer({ min: 0, max: rtspMessages.length - 1 }), { minLength: 1, maxLength: 4 }), damageList, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }))
    .map(([which, damage, cuts]) => ({ bytes: applyDamage(Buffer.concat(which.map((i) => rtspMessages[i])), damage), cuts, how: `messages ${which.join(',')} ${describeDamage(damage)}` })),
  // A header that never ends, and a Content-Length past the body limit.
  fc.integer({ min: 1, max: 40 }).map((k) => ({ bytes: new TextEncoder().encode(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(k * 1024)}`), cuts: [0.5], how: `${k} KiB of one header` })),
  fc.nat().map((n) => ({ bytes: new TextEncoder().encode(`RTSP/1.0 200 OK\r\nContent-Length: ${n}\r\n\r\n`), cuts: [], how: `Content-Length ${n}` })),
);

function checkRtsp(i: RtspInput): void {
  const parser = new RtspParser();
  const at = [...new Set(i.cuts.map((c) => Math.floor(c * i.bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...at, i.bytes.length]) {
      for (const m of parser.push(i.bytes.subarray(from, to))) assert.ok(m.kind === 'request' || m.kind === 'response');
      from = to;
      // What it keeps waiting for the rest of a message stays within its limits.
      const kept = (parser as unknown as { buffer: Uint8Array }).buffer.length;
      assert.ok(kept <= MAX_HEADER_BYTES + MAX_BODY_BYTES + 4000, `the parser holds ${kept} bytes`);
    }
  } catch (e) {
    if (!(e instanceof RtspParseError)) throw new Error(`RtspParser threw ${(e as Error).name}: ${(e as Error).message} (not an RtspParseError)`);
  }
}

// ---- captured frames into UdpDecoder ----

const LINK_TYPES = [LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4, 147];
type FrameInput = { frames: { linkType: number; data: Uint8Array; tsSec: number }[]; how: string };
const ethernetUdp = fc.record({ payload: fc.uint8Array({ maxLength: 1500 }), sourcePort: fc.integer({ min: 0, max: 65535 }), dscp: fc.integer({ min: 0, max: 63 }) }).map((o) =>
  buildUdpFrame({ sourceIp: '10.67.1.10', destinationIp: '239.69.1.1', sourcePort: o.sourcePort, destinationPort: 5004, payload: o.payload, dscp: o.dscp }),
);
const frameInputArb: fc.Arbitrary<FrameInput> = fc
  .array(
    fc.oneof(
      fc.record({ linkType: fc.constantFrom(...LINK_TYPES), data: fc.uint8Array({ maxLength: 200 }), tsSec: fc.nat({ max: 100 }) }),
      fc.record({ linkType: fc.constant(LINKTYPE_ETHERNET), data: fc.tuple(ethernetUdp, damageList).map(([f, d]) => applyDamage(f, d)), tsSec: fc.nat({ max: 100 }) }),
      // IPv4 fragments: the more-fragments flag and offsets set on damaged frames.
      fc.record({
        linkType: fc.constant(LINKTYPE_ETHERNET),
        data: fc.tuple(ethernetUdp, fc.integer({ min: 0, max: 0x3fff }), fc.integer({ min: 0, max: 0xffff })).map(([f, frag, id]) => {
          const b = Uint8Array.from(f);
          b[14 + 4] = id >> 8;
          b[14 + 5] = id & 0xff;
          b[14 + 6] = frag >> 8;
          b[14 + 7] = frag & 0xff;
          return b;
        }),
        tsSec: fc.nat({ max: 100 }),
      }),
    ),
    { maxLength: 200 },
  )
  .map((frames) => ({ frames, how: `${frames.length} frames` }));

function checkFrames(i: FrameInput): void {
  const udp = new UdpDecoder(16, 30);
  i.frames.forEach((f, n) => {
    const d = udp.decode({ number: n + 1, offset: 0, interfaceId: 0, linkType: f.linkType, tsSec: f.tsSec, tsNsec: 0, originalLength: f.data.length, data: f.data } as Parameters<UdpDecoder['decode']>[0]);
    if (d && !d.reassembled) {
      const base = f.data.byteOffset;
      assert.ok(d.payload.buffer === f.data.buffer && d.payload.byteOffset >= base && d.payload.byteOffset + d.payload.length <= base + f.data.length, 'payload outside its frame');
    }
    const pending = (udp as unknown as { pending: Map<string, unknown> }).pending.size;
    assert.ok(pending <= 16, `${pending} pending fragment sets over the bound 16`);
  });
}

export const properties: Record<string, ParserProperty<any>> = {
  'ptp random and header-shaped bytes': {
    arbitrary: () => fc.oneof(fc.uint8Array({ maxLength: 300 }), ptpHeaderLike),
    check: checkPtp,
    describe: (b: Uint8Array) => hex(b),
  } satisfies ParserProperty<Uint8Array>,
  'ptp datagrams from ../shared/captures, damaged': {
    arbitrary: () => (ptpSeeds().length > 0 ? fc.tuple(fc.constantFrom(...ptpSeeds()), damageList) : fc.constant([new Uint8Array(0), []] as [Uint8Array, Damage[]])),
    check: ([b, d]: [Uint8Array, Damage[]]) => {
      checkPtp(applyDamage(b, d));
      // PTPv2 ones parse whole (the captures hold PTPv1 too: Dante's native PTP, refused by reason).
      if (d.length === 0 && b.length > 1 && (b[1] & 0x0f) === 2) assert.ok(parsePtp(b).ok, 'a captured PTPv2 datagram does not parse');
    },
    describe: ([b, d]: [Uint8Array, Damage[]]) => `${hex(b)} ${describeDamage(d)}`,
  } satisfies ParserProperty<[Uint8Array, Damage[]]>,
  'dns random bytes and damaged RAVENNA answers': {
    arbitrary: () => fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.tuple(fc.constantFrom(...dnsMessages), damageList).map(([b, d]) => applyDamage(b, d))),
    check: checkDns,
    describe: (b: Uint8Array) => hex(b),
  } satisfies ParserProperty<Uint8Array>,
  'rtsp byte streams': {
    arbitrary: () => rtspInputArb,
    check: checkRtsp,
    describe: (i: RtspInput) => `${i.how}: ${hex(i.bytes)} cut at ${i.cuts.map((c) => c.toFixed(3)).join(',')}`,
  } satisfies ParserProperty<RtspInput>,
  'captured frames into UdpDecoder': {
    arbitrary: () => frameInputArb,
    check: checkFrames,
    describe: (i: FrameInput) => `${i.how}: ${i.frames.slice(0, 3).map((f) => `${f.linkType}:${hex(f.data, 24)}`).join(' | ')}`,
  } satisfies ParserProperty<FrameInput>,
};
