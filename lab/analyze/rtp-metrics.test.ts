import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { analyzeCapture } from './analyze-capture.ts';
import { tsharkRtpStreams } from './tshark-rtp-streams.ts';
import { withTempDir } from '../net/test-support.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';
import { serializeRtp } from '../net/rtp.ts';
import { encodePcm } from '../net/pcm.ts';

// A synthetic 1 ms L24 stereo stream whose capture times the test chooses, so PIT, TS-DF and
// Δ follow from the construction: the media clock is the capture clock (PTP epoch, offset 0).
const RATE = 48000;
const FRAMES = 48;
const T0_SEC = 1_700_000_000n;

interface Shape {
  /** Extra delay (ns) of packet i beyond its media time, and which packets to send in what order. */
  delayNs: (i: number) => number;
  order: number[];
  dscp?: (i: number) => number;
}

function writeStream(file: string, shape: Shape) {
  const w = new PcapngWriter(file);
  const ifc = w.addInterface({ linkType: LINKTYPE_ETHERNET });
  const samples = new Float32Array(FRAMES * 2);
  for (const i of shape.order) {
    const mediaNs = T0_SEC * 1_000_000_000n + BigInt(i) * 1_000_000n;
    const ts = Number(((mediaNs * BigInt(RATE)) / 1_000_000_000n) % 4294967296n);
    for (let k = 0; k < FRAMES; k++) samples[2 * k] = samples[2 * k + 1] = 0.25 * Math.sin((2 * Math.PI * 1000 * (i * FRAMES + k)) / RATE);
    const payload = serializeRtp({ padding: false, marker: false, payloadType: 97, sequenceNumber: (1000 + i) & 0xffff, timestamp: ts, ssrc: 0x67, csrcs: [], payload: encodePcm(samples, 'L24') });
    w.writePacket(ifc, mediaNs + BigInt(shape.delayNs(i)), buildUdpFrame({ sourceIp: '10.67.20.1', destinationIp: '239.69.20.1', sourcePort: 5004, destinationPort: 5004, payload, dscp: shape.dscp?.(i) ?? 34 }));
  }
  w.close();
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('stream metrics on constructed captures', () => {
  it('PIT, TS-DF and Δ follow from the packet delays', () => {
    const base = 300_000; // every packet 300 µs after its media time
    const spike = 700_000; // packet 500 another 700 µs later
    withTempDir((dir) => {
      const file = path.join(dir, 's.pcapng');
      writeStream(file, { delayNs: (i) => base + (i === 500 ? spike : 0), order: range(1000) });
      const s = analyzeCapture(file, { tsdfWindowMs: 200 }).streams[0];
      expect([s.encoding, s.channels, s.sampleRate, s.ptimeUs]).toEqual(['L24', 2, 48000, 1000]);
      expect(s.deltaUs!.min).toBeCloseTo(base / 1000, 3);
      expect(s.deltaUs!.max).toBeCloseTo((base + spike) / 1000, 3);
      expect(s.pitUs!.min).toBeCloseTo(1000 - spike / 1000, 3);
      expect(s.pitUs!.max).toBeCloseTo(1000 + spike / 1000, 3);
      expect(s.pitUs!.avg).toBeCloseTo(1000, 3);
      // TS-DF: only the window holding the late packet spreads, by exactly the extra delay.
      expect(s.tsdfUs!.max).toBeCloseTo(spike / 1000, 3);
      expect(s.checks.find((c) => c.name === 'tsdf')!.verdict).toBe('pass'); // 700 µs < 1 ptime
      expect(s.checks.find((c) => c.name === 'delta.min')!.verdict).toBe('pass');
    });
  });

  it('counts loss, duplicates and reordering; tshark agrees on packets and loss', () => {
    // Lose 10 and 11, duplicate 20, swap 30 and 31.
    const order = range(100).filter((i) => i !== 10 && i !== 11);
    order.splice(order.indexOf(20), 0, 20);
    const at30 = order.indexOf(30);
    [order[at30], order[at30 + 1]] = [order[at30 + 1], order[at30]];
    withTempDir((dir) => {
      const file = path.join(dir, 's.pcapng');
      writeStream(file, { delayNs: () => 100_000, order, dscp: (i) => (i === 50 ? 46 : 34) });
      const s = analyzeCapture(file).streams[0];
      const t = tsharkRtpStreams(file)[0];
      expect([s.packets, s.lost]).toEqual([t.packets, t.lost]);
      expect(s.packets).toBe(order.length);
      expect(s.duplicates).toBe(1);
      expect(s.reordered).toBe(1);
      expect(s.dscpValues).toEqual([34, 46]);
      expect(s.checks.find((c) => c.name === 'dscp')!.verdict).toBe('warn');
      expect(s.multicastMacMatch).toBe(true);
    });
  });
});
