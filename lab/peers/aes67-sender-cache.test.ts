// The sender's payload cache must not change a byte on the wire: a sender that keeps each
// encoded payload of a periodic signal and plays it again a period later sends exactly the
// datagrams of one that renders and encodes every packet (checked over more than a period,
// for packet sizes that divide the period and ones that do not, with silence and a probe).
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { linearTimescale, rtpTimestampOf } from '../net/ptp-timescale.ts';
import { encodePcm, type PcmEncoding } from '../net/pcm.ts';
import { serializeRtp } from '../net/rtp.ts';
import { channelSignals, interleaved } from '../scenario/sender-signal.ts';
import type { SenderSpec } from '../scenario/schema.ts';
import { Aes67Sender } from './aes67-sender.ts';

interface Case {
  rate: number;
  frames: number;
  channels: number;
  encoding: PcmEncoding;
  spec: Partial<SenderSpec>;
  ms: number;
  /** The signal's period is too long to cache: nothing is served from it. */
  uncached?: boolean;
}

/** Every datagram one sender sends in `ms` of virtual time, with or without its payload cache. */
function datagrams(c: Case, payloadCache: boolean) {
  const native = loadNative();
  const clock = new native.VirtualClock(1_000_000_007);
  const network = new native.VirtualNetwork(clock, 0);
  const tx = virtualHost(network, clock, '10.67.142.1');
  const rx = virtualHost(network, clock, '10.67.142.2').open({ port: 5004, receiveQueueLimit: 1 << 20 });
  rx.join('239.69.142.1');
  const spec = { name: 's', kind: 'aes67', drift: 0, ...c.spec } as SenderSpec;
  const signal = interleaved(channelSignals(spec, c.channels, c.rate, 'x.yaml'), c.rate);
  const sender = new Aes67Sender({
    transport: tx,
    timescale: linearTimescale(1_767_225_600_000_000_000n, 0),
    destination: '239.69.142.1',
    channels: c.channels,
    sampleRate: c.rate,
    encoding: c.encoding,
    framesPerPacket: c.frames,
    signal,
    mediaclkOffset: 12345,
    initialSequence: 0xfff0, // the sequence wraps inside the run
    payloadCache,
  });
  const got: Buffer[] = [];
  const drain = {
    poll() {
      for (let d = rx.receive(); d; d = rx.receive()) got.push(d.data);
      return Infinity;
    },
  };
  runVirtual([sender, drain], network, clock, { untilNs: clock.now() + c.ms * 1e6 });
  return { got, sender, signal, period: signal.period };
}

describe.skipIf(!addonBuilt())('Aes67Sender payload cache', () => {
  const cases: Case[] = [
    { rate: 48_000, frames: 48, channels: 8, encoding: 'L24', spec: {}, ms: 1300 },
    { rate: 48_000, frames: 16, channels: 2, encoding: 'L16', spec: { signal: { sine: 1000, level: -6, step: 0 } }, ms: 1100 },
    { rate: 44_100, frames: 6, channels: 2, encoding: 'L24', spec: { signal: 'silence' }, ms: 1200 },
    { rate: 96_000, frames: 12, channels: 4, encoding: 'L32', spec: { signal: { sine: 997, level: -1, step: 100 } }, ms: 1100 },
    // An MLS probe with the sines: a common period too long to keep, so rendered per packet.
    { rate: 48_000, frames: 48, channels: 4, encoding: 'L24', spec: { probe: { channel: 2, degree: 14, level: -6 } }, ms: 400, uncached: true },
  ];
  for (const c of cases) {
    it(`sends the same bytes with and without it: ${c.channels} ch ${c.encoding} ${c.rate} Hz, ${c.frames} frames, ${JSON.stringify(c.spec)}`, () => {
      const cached = datagrams(c, true);
      const plain = datagrams(c, false);
      expect(plain.sender.payloadCacheHits).toBe(0);
      if (c.uncached) expect(cached.sender.payloadCacheHits).toBe(0);
      // Over a period went by, so the cache served packets (the signal's period is what it claims).
      if (!c.uncached) {
        expect(cached.period).toBeDefined();
        expect(c.ms).toBeGreaterThan((cached.period! / c.rate) * 1000);
        expect(cached.sender.payloadCacheHits).toBeGreaterThan(0);
      }
      expect(cached.got.length).toBe(plain.got.length);
      expect(cached.got.length).toBeGreaterThan((c.ms * c.rate) / 1000 / c.frames - 2);
      // And both are what serializeRtp(encodePcm(render)) makes of each packet (the sender's path before the cache).
      const s = plain.sender;
      for (let i = 0; i < plain.got.length; i++) {
        const first = s.firstSample + BigInt(i * c.frames);
        const want = serializeRtp({
          padding: false,
          marker: i === 0,
          payloadType: s.payloadType,
          sequenceNumber: (0xfff0 + i) & 0xffff,
          timestamp: rtpTimestampOf(first, 12345),
          ssrc: s.ssrc,
          csrcs: [],
          payload: encodePcm(plain.signal.render(Number(first), c.frames, c.channels), c.encoding),
        });
        if (!plain.got[i].equals(want)) expect.fail(`datagram ${i} is not serializeRtp's: ${plain.got[i].toString('hex', 0, 24)} vs ${Buffer.from(want).toString('hex', 0, 24)}`);
        if (!cached.got[i].equals(plain.got[i])) expect.fail(`datagram ${i} differs: ${cached.got[i].toString('hex', 0, 24)} vs ${plain.got[i].toString('hex', 0, 24)}`);
      }
    });
  }

  it('leaves a signal without a period (noise) uncached', () => {
    const r = datagrams({ rate: 48_000, frames: 48, channels: 2, encoding: 'L24', spec: { signal: { noise: 'white', seed: 3, level: -20 } as never }, ms: 50 }, true);
    expect(r.period).toBeUndefined();
    expect(r.sender.payloadCacheHits).toBe(0);
    expect(r.got.length).toBeGreaterThan(40);
  });
});
