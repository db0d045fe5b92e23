// The C++ AES67 sender and receiver (native-aes67-sender.ts, native-aes67-receiver.ts) must
// be the TypeScript peers, only faster. Checked against the TypeScript implementations they
// stand in for (Aes67Sender, Aes67Receiver with its RtpSubscription), run side by side:
// - sender: every datagram (bytes, arrival time, source, destination, DSCP) equal to the
//   TypeScript sender's for the same configuration, over rates, packet sizes, encodings,
//   channel counts, probe / silence / sine channels, timescales with a frequency offset,
//   start and send delays, and a sequence number that wraps (fast-check picks them);
// - receiver: fed the same datagrams on the same network, under seeded loss, jitter,
//   reordering and duplication, with malformed and foreign datagrams mixed in (bad version,
//   truncated, bad padding, extensions, CSRCs, other payload types, odd payload lengths, an
//   SSRC change, sequence jumps), with and without a playout deadline and a recording limit:
//   the same RTP metrics, drop reasons and recorded audio.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addonBuilt, addonMissingNote, loadNative, type VirtualNetwork } from '../../native/index.ts';
import { runVirtual, virtualHost, type TimedActor } from '../net/lab-transport.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { channelSignals, interleaved } from '../scenario/sender-signal.ts';
import type { SenderSpec } from '../scenario/schema.ts';
import { Aes67Receiver } from './aes67-receiver.ts';
import { Aes67Sender, type Aes67SenderOptions } from './aes67-sender.ts';
import { NativeAes67Receiver } from './native-aes67-receiver.ts';
import { NativeAes67Sender } from './native-aes67-sender.ts';
import type { ReceivedAudio } from './rtp-subscription.ts';
import { returnedAudioFromDecoded } from '../scenario/returned-audio.ts';

/** What a title says when the addon is missing (the suites below need it). */
const needsAddon = addonMissingNote();

const EPOCH = 1_767_225_600_000_000_000n;

interface SenderCase {
  rate: number;
  frames: number;
  channels: number;
  encoding: PcmEncoding;
  probe: boolean;
  silence: boolean;
  ppm: number;
  startAtNs?: number;
  sendDelayNs?: number;
  mediaclkOffset: number;
  sequence: number;
  ms: number;
}

function senderParts(c: SenderCase, network: VirtualNetwork, clock: ReturnType<typeof makeWorld>['clock'], i = 0) {
  const spec = { name: 's', kind: 'aes67', drift: 0, ...(c.silence ? { signal: 'silence' } : {}), ...(c.probe ? { probe: { channel: c.channels, degree: 10, level: -12 } } : {}) } as SenderSpec;
  const signals = channelSignals(spec, c.channels, c.rate, 'x.yaml');
  const options: Aes67SenderOptions = {
    transport: virtualHost(network, clock, `10.67.143.${1 + 10 * i}`),
    timescale: linearTimescale(EPOCH, c.ppm),
    destination: `239.69.143.${1 + i}`,
    channels: c.channels,
    sampleRate: c.rate,
    encoding: c.encoding,
    framesPerPacket: c.frames,
    signal: interleaved(signals, c.rate),
    mediaclkOffset: c.mediaclkOffset,
    initialSequence: c.sequence,
    dscp: 46,
    ...(c.startAtNs !== undefined ? { startAtNs: c.startAtNs } : {}),
    ...(c.sendDelayNs !== undefined ? { sendDelayNs: c.sendDelayNs } : {}),
  };
  return { options, tables: signals.map((x) => x.signal.render(0, x.period ?? 1, 1)) };
}

function makeWorld(start: number, baseDelay = 0) {
  const native = loadNative();
  const clock = new native.VirtualClock(start);
  const network = new native.VirtualNetwork(clock, baseDelay);
  return { clock, network };
}

/** Every datagram the TypeScript or the native sender sends in the case's time. */
function sent(c: SenderCase, which: 'ts' | 'native') {
  const { clock, network } = makeWorld(1_000_000_007);
  const { options, tables } = senderParts(c, network, clock);
  const sender = which === 'ts' ? new Aes67Sender(options) : new NativeAes67Sender({ ...options, network, linear: { epochNs: EPOCH, ppm: c.ppm }, tables });
  const rx = virtualHost(network, clock, '10.67.143.2').open({ port: 5004, receiveQueueLimit: 1 << 20 });
  rx.join('239.69.143.1');
  const got: { data: string; at: number; source: string; destination: string; dscp: number | undefined }[] = [];
  const drain: TimedActor = {
    pollOn: 'due-or-delivery',
    poll() {
      for (let d = rx.receive(); d; d = rx.receive()) got.push({ data: Buffer.from(d.data).toString('hex'), at: d.receivedAt, source: d.source, destination: d.destination, dscp: (d as { dscp?: number }).dscp });
      return Infinity;
    },
  };
  runVirtual([sender, drain], network, clock, { untilNs: clock.now() + c.ms * 1e6 });
  return { got, sdp: sender.sdp() };
}

/** Every datagram of several senders running side by side on one network, per sender (native ones share tables and payloads). */
function sentTogether(cases: SenderCase[], which: 'ts' | 'native') {
  const { clock, network } = makeWorld(1_000_000_007);
  const got: string[][] = cases.map(() => []);
  const natives: NativeAes67Sender[] = [];
  const actors: TimedActor[] = cases.flatMap((c, i) => {
    const { options, tables } = senderParts(c, network, clock, i);
    const sender = which === 'ts' ? new Aes67Sender(options) : new NativeAes67Sender({ ...options, network, linear: { epochNs: EPOCH, ppm: c.ppm }, tables });
    if (sender instanceof NativeAes67Sender) natives.push(sender);
    const rx = virtualHost(network, clock, `10.67.143.${2 + 10 * i}`).open({ port: 5004, receiveQueueLimit: 1 << 20 });
    rx.join(`239.69.143.${1 + i}`);
    const drain: TimedActor = {
      pollOn: 'due-or-delivery',
      poll() {
        for (let d = rx.receive(); d; d = rx.receive()) got[i].push(`${d.receivedAt} ${d.source} ${Buffer.from(d.data).toString('hex')}`);
        return Infinity;
      },
    };
    return [sender, drain];
  });
  runVirtual(actors, network, clock, { untilNs: clock.now() + Math.max(...cases.map((c) => c.ms)) * 1e6 });
  return { got, payloads: natives.map((n) => n.payloads) };
}

const senderCase: fc.Arbitrary<SenderCase> = fc
  .record({
    rate: fc.constantFrom(44_100, 48_000, 96_000),
    ptimeUs: fc.constantFrom(125, 250, 333, 1000, 4000),
    channels: fc.integer({ min: 1, max: 12 }),
    encoding: fc.constantFrom<PcmEncoding>('L16', 'L24', 'L32'),
    probe: fc.boolean(),
    silence: fc.boolean(),
    ppm: fc.constantFrom(0, 0, 37.5, -12.25),
    startAtNs: fc.option(fc.integer({ min: 1_000_000_007, max: 1_004_000_000 }), { nil: undefined }),
    sendDelayNs: fc.option(fc.integer({ min: 0, max: 300_000 }), { nil: undefined }),
    mediaclkOffset: fc.integer({ min: 0, max: 0xffffffff }),
    sequence: fc.integer({ min: 0xff00, max: 0xffff }),
  })
  .map((r) => ({ ...r, frames: Math.max(Math.ceil((125 * r.rate) / 1e6 - 1e-9), Math.round((r.ptimeUs * r.rate) / 1e6)), ms: 60 }));

describe.skipIf(!addonBuilt())(`NativeAes67Sender against Aes67Sender${needsAddon}`, () => {
  it('sends the very datagrams of the 64-channel-scenario shape (8 ch L24 1 ms with a probe) for 2 s', () => {
    const c: SenderCase = { rate: 48_000, frames: 48, channels: 8, encoding: 'L24', probe: true, silence: false, ppm: 0, mediaclkOffset: 0, sequence: 0xfff0, ms: 2000 };
    const ts = sent(c, 'ts');
    const nat = sent(c, 'native');
    expect(ts.got.length).toBeGreaterThan(1990);
    expect(nat.got).toEqual(ts.got);
    expect(nat.sdp).toBe(ts.sdp);
  });

  it('sends the very datagrams for any configuration the scenarios can give it (fast-check)', () => {
    fc.assert(
      fc.property(senderCase, (c) => {
        const ts = sent(c, 'ts');
        const nat = sent(c, 'native');
        expect(ts.got.length).toBeGreaterThan(0);
        expect(nat.got).toEqual(ts.got);
        expect(nat.sdp).toBe(ts.sdp);
      }),
      { numRuns: 25, seed: 20261125 },
    );
  });

  it('sends each its own datagrams when senders share their tables and cached payloads (the 7 sine senders of the bench scenario, a probe sender, other shapes)', () => {
    const sine: SenderCase = { rate: 48_000, frames: 48, channels: 8, encoding: 'L24', probe: false, silence: false, ppm: 0, mediaclkOffset: 0, sequence: 1, ms: 1200 };
    const cases: SenderCase[] = [
      sine,
      { ...sine, mediaclkOffset: 0x12345678, sequence: 0xfff0, startAtNs: 1_000_333_000 },
      { ...sine, sendDelayNs: 120_000, startAtNs: 1_001_000_000 },
      { ...sine, probe: true },
      { ...sine, probe: true, startAtNs: 1_000_500_000 },
      { ...sine, frames: 6 },
      { ...sine, channels: 4, encoding: 'L16' },
      { ...sine, ppm: 37.5 },
    ];
    const ts = sentTogether(cases, 'ts');
    const nat = sentTogether(cases, 'native');
    for (const g of ts.got) expect(g.length).toBeGreaterThan(1000);
    expect(nat.got).toEqual(ts.got);
    // What was shared: the three 8-channel 1 ms sine senders one payload cache (with the
    // drifting one: the payloads are the same, only their times differ); the probe senders
    // a cache of their seven sine channels, the probe (an MLS repeats too rarely against the
    // sines to cache whole payloads) rendered over it per packet.
    expect(nat.payloads.map((p) => p.cached)).toEqual([true, true, true, false, false, true, true, true]);
    expect(nat.payloads.map((p) => p.partly)).toEqual([false, false, false, true, true, false, false, false]);
    // (At least: senders of earlier tests the collector has not taken yet may share them too.)
    const sharers = nat.payloads.map((p) => p.sharers);
    for (const i of [1, 2, 7]) expect(sharers[i]).toBe(sharers[0]);
    expect(sharers[0]).toBeGreaterThanOrEqual(4);
    expect(sharers[4]).toBe(sharers[3]);
    expect(sharers[3]).toBeGreaterThanOrEqual(2);
  });

  it('refuses a table that is not its signal, and a timescale that is not the linear one it is told', () => {
    const c: SenderCase = { rate: 48_000, frames: 48, channels: 2, encoding: 'L24', probe: false, silence: false, ppm: 0, mediaclkOffset: 0, sequence: 1, ms: 1 };
    const { clock, network } = makeWorld(0);
    const { options, tables } = senderParts(c, network, clock);
    const bad = [tables[0], tables[0]];
    expect(() => new NativeAes67Sender({ ...options, network, linear: { epochNs: EPOCH, ppm: 0 }, tables: bad })).toThrow(/channel 2's table differs/);
    expect(() => new NativeAes67Sender({ ...options, network, linear: { epochNs: EPOCH, ppm: 1 }, tables })).toThrow(/not linearTimescale/);
  });
});

interface ReceiverCase {
  seed: number;
  loss: number;
  duplicate: number;
  reorder: number;
  jitterNs: number;
  malformed: number;
  sourceFilter: boolean;
  playoutDelayNs?: number;
  recordSeconds: number;
  ppm: number;
  encoding: PcmEncoding;
  channels: number;
  ssrcChangeAtMs?: number;
  /** What the channels carry: a probe over sines (no payload repeats), sines of whole periods per packet, or silence (the recording keeps repeated payloads once). */
  signal?: 'probe' | 'sines' | 'silence';
}

const SIGNALS = {
  probe: { probe: { channel: 1, degree: 9, level: -6 } },
  // 1, 2, ... kHz at 48 kHz: every channel repeats each 48 frames, so does every 1 ms payload.
  sines: { signal: { sine: 1000, step: 1000, level: -12 } },
  silence: { signal: 'silence' },
};

/** `b` under a sequence number far from its own (else the receivers drop it as a duplicate of the clean one). */
function newSequence(b: Uint8Array, r: () => number): Uint8Array {
  const seq = ((b[2] << 8) | b[3]) + 3000 + Math.floor(r() * 30000);
  b[2] = (seq >> 8) & 0xff;
  b[3] = seq & 0xff;
  return b;
}

/** A datagram that is not a clean packet of the stream, made from a clean one. */
function mangle(d: Uint8Array, pick: number, r: () => number): Uint8Array {
  const b = Uint8Array.from(d);
  switch (pick) {
    case 0:
      b[0] = (b[0] & 0x3f) | 0x40; // version 1
      return b;
    case 1:
      return b.subarray(0, Math.floor(r() * 12)); // shorter than the header
    case 2:
      b[0] |= 0x20; // padding, with a count from the payload's last byte
      b[b.length - 1] = Math.floor(r() * 256);
      return b;
    case 3: {
      b[0] = (b[0] & 0xf0) | 0x0f; // 15 CSRCs
      return b.subarray(0, 12 + Math.floor(r() * 80));
    }
    case 4: {
      b[0] |= 0x10; // an extension of some words
      b[14] = 0;
      b[15] = Math.floor(r() * 400);
      return b;
    }
    case 5:
      b[1] = (b[1] & 0x80) | 97; // another payload type
      return b;
    case 6:
      return b.subarray(0, b.length - 1 - Math.floor(r() * 5)); // odd payload length
    case 7:
      return b.subarray(0, 12); // empty payload
    case 8: {
      const seq = ((b[2] << 8) | b[3]) + 3000 + Math.floor(r() * 30000); // far sequence jump
      b[2] = (seq >> 8) & 0xff;
      b[3] = seq & 0xff;
      return b;
    }
    case 10: {
      // A timestamp a few frames off: it overlaps the recorded chunks out of their alignment.
      const t = (((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) + Math.floor(r() * 95) - 47) >>> 0;
      b[4] = t >>> 24;
      b[5] = (t >>> 16) & 0xff;
      b[6] = (t >>> 8) & 0xff;
      b[7] = t & 0xff;
      return newSequence(b, r);
    }
    case 11: {
      // Fewer whole frames than the stream's 48-frame packets.
      const frameBytes = (b.length - 12) / 48;
      return newSequence(b.subarray(0, 12 + frameBytes * (1 + Math.floor(r() * 40))), r);
    }
    default: {
      const ts = (b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]; // a timestamp far off
      const t = (ts + Math.floor(r() * 2 ** 31)) >>> 0;
      b[4] = t >>> 24;
      b[5] = (t >>> 16) & 0xff;
      b[6] = (t >>> 8) & 0xff;
      b[7] = t & 0xff;
      return b;
    }
  }
}

/**
 * The native recording read in place (the measurement's way: native/src/recorded_channel.hpp)
 * holds what `decoded` (the TypeScript receiver's audio) holds: every channel read across
 * and past the recording, and samples counted against a table of values the stream holds
 * over random ranges, against the plain loops of returned-audio.ts on the decoded audio.
 */
function readsInPlaceAs(nat: NativeAes67Receiver, decoded: ReceivedAudio, seed: number): void {
  const inPlace = nat.recording().inPlace!;
  const plain = returnedAudioFromDecoded(decoded);
  const x = decoded.interleaved;
  let s = seed >>> 0;
  const rand = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % Math.max(1, n);
  for (let k = 0; k < decoded.channels; k++) {
    const from = rand(plain.frames + 40) - 20;
    const len = rand(plain.frames + 40);
    const out = new Float32Array(len + 2).fill(7);
    inPlace.readChannel(k, from, len, out, 1);
    expect(Array.from(out)).toEqual([7, ...plain.channel(k, from, len), 7]);
    const period = 1 + rand(600);
    const table = new Float32Array(period).map((_, i) => (x.length && (i & 3) !== 3 ? x[(i * decoded.channels + k) % x.length] : 0));
    const edges = Array.from({ length: 2 * rand(8) }, () => rand(plain.frames + 40) - 20).sort((a, b) => a - b);
    const origin = rand(plain.frames) - 10;
    const phase = rand(period);
    let want = 0;
    for (let i = 0; i < edges.length; i += 2) want += plain.countDiffering(k, edges[i], edges[i + 1] - edges[i], table, (((phase + edges[i] - origin) % period) + period) % period);
    expect(inPlace.countDiffering([{ channel: k, table, origin, phase, ranges: Float64Array.from(edges) }])).toEqual([want]);
  }
}

/** Both receivers on one network, fed by one TypeScript sender and a mangler, impaired by a seeded hook. */
function receiveBoth(c: ReceiverCase) {
  const native = loadNative();
  const { clock, network } = makeWorld(5_000_000_000, 150_000);
  const prng = new native.Prng(c.seed);
  const r = () => prng.uniform();
  const timescale = linearTimescale(EPOCH, c.ppm);
  const txHost = virtualHost(network, clock, '10.67.144.1');
  const sender = new Aes67Sender({
    transport: txHost,
    timescale,
    destination: '239.69.144.1',
    channels: c.channels,
    sampleRate: 48_000,
    encoding: c.encoding,
    framesPerPacket: 48,
    signal: interleaved(channelSignals({ name: 'r', kind: 'aes67', drift: 0, ...SIGNALS[c.signal ?? 'probe'] } as SenderSpec, c.channels, 48_000, 'x.yaml'), 48_000),
    sourceFilter: c.sourceFilter,
    initialSequence: 0xfffa,
    ...(c.ssrcChangeAtMs !== undefined ? { reboots: [{ atNs: 5_000_000_000 + c.ssrcChangeAtMs * 1e6, pauseNs: 3_000_000, ssrc: 0x1234567 }] } : {}),
  });
  const sdp = sender.sdp();
  // Clean packets of the stream, heard by the mangler, sent again mangled from the sender's
  // own host (so a source filter lets them through) or, now and then, from a stranger.
  const tap = virtualHost(network, clock, '10.67.144.9').open({ port: 5004, receiveQueueLimit: 1 << 16 });
  tap.join('239.69.144.1');
  const fromSender = txHost.open({});
  const stranger = virtualHost(network, clock, '10.67.144.7').open({});
  const mangler: TimedActor = {
    poll() {
      for (let d = tap.receive(); d; d = tap.receive()) {
        if (r() >= c.malformed) continue;
        const bad = mangle(d.data, Math.floor(r() * 12), r);
        (r() < 0.1 ? stranger : fromSender).send('239.69.144.1:5004', bad);
      }
      return Infinity;
    },
  };
  network.setImpairment((p) => {
    if (!p.destination.startsWith('239.69.144.1')) return [0];
    if (r() < c.loss) return [];
    const extra = () => (r() < c.reorder ? 1_500_000 : 0) + Math.floor(r() * c.jitterNs);
    return r() < c.duplicate ? [extra(), extra()] : [extra()];
  });
  const common = { timescale, source: sdp, recordSeconds: c.recordSeconds, ...(c.playoutDelayNs !== undefined ? { playoutDelayNs: c.playoutDelayNs } : {}) };
  const ts = new Aes67Receiver({ transport: virtualHost(network, clock, '10.67.144.2'), ...common });
  const nat = new NativeAes67Receiver({ network, transport: virtualHost(network, clock, '10.67.144.3'), linear: { epochNs: EPOCH, ppm: c.ppm }, ...common });
  // A second native receiver of the stream on the same network (they share stored chunks).
  const twin = new NativeAes67Receiver({ network, transport: virtualHost(network, clock, '10.67.144.4'), linear: { epochNs: EPOCH, ppm: c.ppm }, ...common });
  runVirtual([sender, mangler, ts, nat, twin], network, clock, { untilNs: clock.now() + 400e6 });
  return { ts, nat, twin };
}

const receiverCase: fc.Arbitrary<ReceiverCase> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 }),
  loss: fc.constantFrom(0, 0.001, 0.01, 0.05, 0.2),
  duplicate: fc.constantFrom(0, 0.01, 0.1),
  reorder: fc.constantFrom(0, 0.01, 0.1),
  jitterNs: fc.constantFrom(0, 200_000, 2_000_000),
  malformed: fc.constantFrom(0, 0.02, 0.2),
  sourceFilter: fc.boolean(),
  playoutDelayNs: fc.option(fc.integer({ min: 0, max: 3_000_000 }), { nil: undefined }),
  recordSeconds: fc.constantFrom(60, 0.25),
  ppm: fc.constantFrom(0, 21.5),
  encoding: fc.constantFrom<PcmEncoding>('L16', 'L24', 'L32'),
  channels: fc.integer({ min: 1, max: 8 }),
  ssrcChangeAtMs: fc.option(fc.integer({ min: 20, max: 300 }), { nil: undefined }),
  signal: fc.constantFrom<ReceiverCase['signal']>('probe', 'sines', 'silence'),
});

describe.skipIf(!addonBuilt())(`NativeAes67Receiver against Aes67Receiver${needsAddon}`, () => {
  it('counts and records a clean stream as the TypeScript receiver does', () => {
    const { ts, nat } = receiveBoth({ seed: 1, loss: 0, duplicate: 0, reorder: 0, jitterNs: 0, malformed: 0, sourceFilter: true, recordSeconds: 60, ppm: 0, encoding: 'L24', channels: 8 });
    expect(ts.metrics()!.packets).toBeGreaterThan(390);
    expect(nat.metrics()).toEqual(ts.metrics());
    expect(nat.audio()).toEqual(ts.audio());
  });

  it('keeps a payload that repeats once and still records what the TypeScript receiver does (sines, silence, 1 ms packets)', () => {
    for (const signal of ['sines', 'silence'] as const) {
      const { ts, nat } = receiveBoth({ seed: 2, loss: 0, duplicate: 0, reorder: 0, jitterNs: 0, malformed: 0, sourceFilter: true, recordSeconds: 60, ppm: 0, encoding: 'L24', channels: 8, signal });
      const packets = ts.metrics()!.packets;
      expect(packets).toBeGreaterThan(390);
      expect(nat.audio()).toEqual(ts.audio());
      const store = nat.recordingStore();
      // Silence is one payload; the sines repeat every packet too (their 48-frame period).
      expect(store.storedChunks).toBeLessThanOrEqual(signal === 'silence' ? 1 : 48);
      expect(store.privateChunks).toBe(0);
      // Both native receivers find each repeat by what followed the chunk before it, not by
      // hashing (chunk_store.hpp): one lookup hashes per distinct chunk stored, and one more
      // where the period first wraps.
      expect(store.hashedLookups).toBeLessThanOrEqual(store.storedChunks + 1);
    }
    // The probe (an MLS of 511 frames) repeats no 48-frame payload within 400 ms: every packet
    // is its own, kept once for both native receivers of the stream on this network.
    const { ts, nat, twin } = receiveBoth({ seed: 3, loss: 0, duplicate: 0, reorder: 0, jitterNs: 0, malformed: 0, sourceFilter: true, recordSeconds: 60, ppm: 0, encoding: 'L24', channels: 8, signal: 'probe' });
    expect(nat.recordingStore().storedChunks).toBe(ts.metrics()!.packets);
    expect(twin.recordingStore().storedChunks).toBe(ts.metrics()!.packets);
    expect(twin.audio()).toEqual(ts.audio());
    // A chunk is hashed once, when stored: the other receiver finds it as what followed the last.
    expect(twin.recordingStore().hashedLookups).toBe(ts.metrics()!.packets);
  });

  it('counts, drops and records as the TypeScript receiver under loss, reordering, duplication, jitter and malformed datagrams (fast-check)', () => {
    let impaired = 0;
    let outOfChunk = 0;
    fc.assert(
      fc.property(receiverCase, (c) => {
        const { ts, nat, twin } = receiveBoth(c);
        const m = ts.metrics()!;
        if (m.lost + m.duplicates + m.reordered + m.late + Object.keys(m.dropped).length > 0) impaired++;
        expect(nat.metrics()).toEqual(m);
        const a = ts.audio()!;
        const b = nat.audio();
        expect(b.firstSample).toBe(a.firstSample);
        expect(b.missingFrames).toBe(a.missingFrames);
        expect(Buffer.from(b.interleaved.buffer).equals(Buffer.from(a.interleaved.buffer))).toBe(true);
        expect(Buffer.from(twin.audio().interleaved.buffer).equals(Buffer.from(a.interleaved.buffer))).toBe(true);
        readsInPlaceAs(nat, a, c.seed);
        if (nat.recordingStore().privateChunks > 0) outOfChunk++;
      }),
      { numRuns: 30, seed: 4242 },
    );
    // The property saw the impairments it is about, not only clean runs.
    expect(impaired).toBeGreaterThan(15);
    // ...and packets off the recording's chunks (shifted, shorter), which it copies privately.
    expect(outOfChunk).toBeGreaterThan(3);
  });
});
