import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { linearTimescale, mediaTimeOf } from '../net/ptp-timescale.ts';
import { parseRtp } from '../net/rtp.ts';
import { decodePcm, type PcmEncoding } from '../net/pcm.ts';
import { describeAes67 } from '../net/sdp.ts';
import { lintSdp } from '../net/sdp-lint.ts';
import { sine } from '../signal/sine.ts';
import { Aes67Sender, resolveFramesPerPacket } from './aes67-sender.ts';
import path from 'node:path';
import { withTempDir } from '../net/test-support.ts';
import { tsharkFields } from '../net/tshark.ts';
import { SAP_GROUP_RFC2974 } from '../net/sap.ts';
import { SapAnnouncer } from './sap-announcer.ts';
import { tsharkSeriousExpert } from './test-support.ts';
import { VirtualCapture } from './virtual-capture.ts';

interface Case {
  channels: number;
  sampleRate: number;
  encoding: PcmEncoding;
  frames: number;
}

/** Runs a sender on the virtual network for `ms`; returns every datagram a receiver got. */
function runSender(c: Case, ms: number, extra: { mediaclkOffset?: number; ppm?: number; sendDelayNs?: number } = {}) {
  const native = loadNative();
  const clock = new native.VirtualClock(1_000_000_007); // not on a packet boundary
  const network = new native.VirtualNetwork(clock, 0);
  const tx = virtualHost(network, clock, '10.67.141.1');
  const rxHost = virtualHost(network, clock, '10.67.141.2');
  const timescale = linearTimescale(undefined, extra.ppm ?? 0);
  const sender = new Aes67Sender({
    transport: tx,
    timescale,
    destination: '239.69.141.1',
    channels: c.channels,
    sampleRate: c.sampleRate,
    encoding: c.encoding,
    framesPerPacket: c.frames,
    signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -20, channelStepHz: 50 },
    mediaclkOffset: extra.mediaclkOffset ?? 0,
    sendDelayNs: extra.sendDelayNs,
  });
  const rx = rxHost.open({ port: 5004, receiveQueueLimit: 1 << 20 });
  rx.join('239.69.141.1');
  const got: { at: number; dscp: number; data: Buffer }[] = [];
  const receiver = {
    poll() {
      for (let d = rx.receive(); d; d = rx.receive()) got.push({ at: d.receivedAt, dscp: d.dscp, data: d.data });
      return Infinity;
    },
  };
  runVirtual([sender, receiver], network, clock, { untilNs: clock.now() + ms * 1e6 });
  return { sender, got, timescale };
}

describe.skipIf(!addonBuilt())('Aes67Sender in virtual time', () => {
  const cases: Case[] = [
    { channels: 2, sampleRate: 48000, encoding: 'L24', frames: 48 },
    { channels: 8, sampleRate: 48000, encoding: 'L16', frames: 6 },
    { channels: 64, sampleRate: 48000, encoding: 'L24', frames: 6 },
    { channels: 1, sampleRate: 44100, encoding: 'L32', frames: 44 },
    { channels: 4, sampleRate: 96000, encoding: 'L24', frames: 12 },
    { channels: 2, sampleRate: 384000, encoding: 'L16', frames: 1536 },
    { channels: 16, sampleRate: 48000, encoding: 'L24', frames: 16 },
  ];
  for (const c of cases) {
    it(`${c.channels} ch ${c.encoding} ${c.sampleRate} Hz ${c.frames} frames: timestamps are PTP media time, packets leave when their last sample exists, payload is the signal`, () => {
      const offset = 123_456_789;
      const { sender, got, timescale } = runSender(c, 50, { mediaclkOffset: offset });
      const expectedPackets = Math.floor((50e-3 * c.sampleRate) / c.frames);
      expect(Math.abs(got.length - expectedPackets)).toBeLessThanOrEqual(1);
      const reference = sine({ frequencyHz: 997, levelDbfs: -20, channelStepHz: 50 }, c.sampleRate);
      let lastSeq = -1;
      for (const g of got) {
        const p = parseRtp(g.data);
        expect(g.dscp).toBe(34);
        // The packet left when its last sample began: media time at arrival (zero network delay)
        // is exactly first sample + F, computed here from the timescale with BigInt.
        const mediaNow = mediaTimeOf(timescale.ptpTimeAt(g.at), c.sampleRate);
        const firstSample = mediaNow - BigInt(c.frames);
        expect(p.timestamp).toBe(Number((firstSample + BigInt(offset)) % 2n ** 32n));
        if (lastSeq >= 0) expect(p.sequenceNumber).toBe((lastSeq + 1) & 0xffff);
        lastSeq = p.sequenceNumber;
        expect(p.payloadType).toBe(96);
        const samples = decodePcm(p.payload, c.encoding);
        expect(samples.length).toBe(c.frames * c.channels);
        const want = reference.render(Number(firstSample), c.frames, c.channels);
        const lsb = 2 ** -({ L16: 15, L24: 23, L32: 31 }[c.encoding]);
        for (let i = 0; i < samples.length; i++) expect(Math.abs(samples[i] - want[i])).toBeLessThanOrEqual(lsb);
      }
      expect(sender.stats.maxLatenessNs).toBeLessThan(1);
      // Its SDP describes what it sends, parsed back by the lab's SDP reader.
      const d = describeAes67(sender.sdp());
      expect([d.encoding, d.sampleRate, d.channels, d.framesPerPacket, d.mediaclkOffset, d.destination, d.port, d.payloadType]).toEqual([c.encoding, c.sampleRate, c.channels, c.frames, offset, '239.69.141.1', 5004, 96]);
      expect(d.sourceFilter).toBe('10.67.141.1');
    });
  }

  it('follows a drifting timescale (+100 ppm): RTP time advances 100 ppm faster than local time', () => {
    const c: Case = { channels: 1, sampleRate: 48000, encoding: 'L24', frames: 48 };
    const { got } = runSender(c, 2000, { ppm: 100 });
    const first = parseRtp(got[0].data);
    const last = parseRtp(got[got.length - 1].data);
    const ticks = (last.timestamp - first.timestamp) >>> 0;
    const localS = (got[got.length - 1].at - got[0].at) / 1e9;
    expect(ticks / localS / 48000).toBeCloseTo(1 + 100e-6, 6);
  });

  it('adds a processing delay to every departure when told to', () => {
    const c: Case = { channels: 2, sampleRate: 48000, encoding: 'L24', frames: 48 };
    const a = runSender(c, 20).got;
    const b = runSender(c, 20, { sendDelayNs: 2_500_000 }).got;
    expect(b[0].at - a[0].at).toBe(2_500_000);
    expect(parseRtp(b[0].data).timestamp).toBe(parseRtp(a[0].data).timestamp);
  });

  it('writes an SDP the lab linter passes (AES67 profile)', () => {
    const { sender } = runSender({ channels: 8, sampleRate: 48000, encoding: 'L24', frames: 48 }, 1);
    const problems = lintSdp(sender.sdp()).filter((f) => f.severity === 'error');
    expect(problems).toEqual([]);
  });

  it('puts RTP (and its SDP by SAP) on the wire that tshark dissects cleanly, packet for packet as sent', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    const t = virtualHost(network, clock, '10.67.141.5');
    withTempDir((dir) => {
      const file = path.join(dir, 'aes67.pcapng');
      const cap = new VirtualCapture(network, file);
      const sender = new Aes67Sender({ transport: t, timescale: linearTimescale(), destination: '239.69.141.5', channels: 8, sampleRate: 96000, encoding: 'L24', framesPerPacket: 12, signal: { kind: 'noise', seed: 3, levelDbfs: -20 }, mediaclkOffset: 42, ptpRefclk: { gmid: '00-1D-C1-FF-FE-50-36-33', domain: 0 } });
      const sap = new SapAnnouncer({ transport: t, group: SAP_GROUP_RFC2974, intervalNs: 10e6, sdp: sender.sdp() });
      runVirtual([sender, sap], network, clock, { untilNs: 50e6 });
      cap.close();
      const decode = ['-d', 'udp.port==5004,rtp'];
      expect(tsharkSeriousExpert(file, decode)).toEqual([]);
      const rtp = tsharkFields(file, ['rtp.seq', 'rtp.timestamp', 'rtp.p_type', 'rtp.ssrc', 'ip.dsfield.dscp', 'udp.length'], [...decode, '-Y', 'rtp']);
      expect(rtp.length).toBe(sender.stats.packets);
      rtp.forEach((r, k) => {
        expect(Number(r[1])).toBe(sender.timestampOf(BigInt(k)));
        expect([Number(r[2]), Number(r[3]), r[4], Number(r[5])]).toEqual([96, sender.ssrc, '34', 8 + 12 + 12 * 8 * 3]);
        if (k > 0) expect(Number(r[0])).toBe((Number(rtp[k - 1][0]) + 1) & 0xffff);
      });
      const sdp = tsharkFields(file, ['sap.flags.t', 'sdp.media.media', 'sdp.media.port', 'sdp.media.format', 'sdp.mime.type', 'sdp.sample_rate'], ['-Y', 'sap'], 'a');
      expect(sdp.length).toBe(sap.announcements);
      expect([sdp[0][1], sdp[0][2], sdp[0][4], sdp[0][5]]).toEqual(['audio', '5004', 'L24', '96000']);
      expect(sdp[0][3].split(',')).toContain('DynamicRTP-Type-96');
    });
  });

  it('refuses what AES67 does not allow, naming the limit', () => {
    expect(() => resolveFramesPerPacket(48000, 5)).toThrow(/104.2 µs \(5 frames at 48000 Hz\) is outside AES67's 125 µs to 4 ms/);
    expect(() => resolveFramesPerPacket(48000, 193)).toThrow(/outside AES67/);
    expect(resolveFramesPerPacket(44100, undefined, 125)).toBe(6);
    expect(resolveFramesPerPacket(48000, undefined, 333)).toBe(16);
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    const t = virtualHost(network, clock, '10.67.141.9');
    const base = { transport: t, timescale: linearTimescale(), destination: '239.69.1.1', sampleRate: 48000, encoding: 'L24' as const, framesPerPacket: 48, signal: { kind: 'silence' as const } };
    expect(() => new Aes67Sender({ ...base, channels: 65 })).toThrow(/channels 65: an AES67 sender here carries 1 to 64/);
    expect(() => new Aes67Sender({ ...base, channels: 2, sampleRate: 22050 })).toThrow(/22050 Hz: use one of/);
    expect(() => new Aes67Sender({ ...base, channels: 2, payloadType: 10 })).toThrow(/dynamic types 96-127/);
    expect(() => new Aes67Sender({ ...base, channels: 64, sampleRate: 384000, framesPerPacket: 1536, encoding: 'L32' })).toThrow(/more than a UDP datagram holds/);
  });
});
