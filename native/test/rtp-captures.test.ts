// The engine's RTP parser (through native) on every RTP packet of the real captures gives
// what Wireshark's tshark gives, agrees with the lab's TypeScript parser, and the decoded
// audio of each stream is continuous across packet boundaries.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import { openCapture } from '../../lab/net/pcap/reader.ts';
import { UdpDecoder, formatIpv4 } from '../../lab/net/pcap/udp.ts';
import { sharedCapturesDir } from '../../lab/net/pcap/shared-captures.ts';
import { parseRtp as parseRtpTs } from '../../lab/net/rtp.ts';
import { tsharkFields } from '../../lab/net/tshark.ts';

const native = loadNative();
const files = ['st2110-30', 'st2022-7'].flatMap((dir) => {
  const d = path.join(sharedCapturesDir, 'ebu-list', dir);
  return existsSync(d) ? ['l16_48000_2ch_1ms.pcap', 'l24_48000_8ch_0125.pcap', 'st2110-30_16bit_48khz_125us_2ch.pcap',
    'st2110-30_24bit_48khz_1ms_2ch.pcap', 'ST2022-7-Audio.pcap', 'ST2022-7-Audio_dropped_in_both.pcap']
    .map((f) => path.join(d, f)).filter(existsSync) : [];
});

interface Row { frame: number; destination: string; seq: number; ts: number; ssrc: number; pt: number; payload: Uint8Array }

function engineRows(file: string): Row[] {
  const reader = openCapture(file);
  const udp = new UdpDecoder();
  const rows: Row[] = [];
  for (const frame of reader) {
    const d = udp.decode(frame);
    if (!d) continue;
    const p = native.parseRtp(d.payload);
    if (p.error !== undefined) throw new Error(`frame ${frame.number}: engine says ${p.error}`);
    const ts = parseRtpTs(d.payload);
    expect([ts.sequenceNumber, ts.timestamp, ts.ssrc, ts.payloadType, ts.payload.length], `TS vs C++ at frame ${frame.number}`)
      .toEqual([p.sequenceNumber, p.timestamp, p.ssrc, p.payloadType, p.payload.length]);
    rows.push({ frame: frame.number, destination: `${formatIpv4(d.destinationIp)}:${d.destinationPort}`, seq: p.sequenceNumber,
      ts: p.timestamp, ssrc: p.ssrc, pt: p.payloadType, payload: Uint8Array.from(p.payload) });
  }
  return rows;
}

describe.skipIf(files.length === 0)('engine RTP parser on the EBU LIST captures (../shared/captures)', () => {
  it.each(files.map((f) => [path.basename(f), f]))('%s: every packet matches tshark, audio is continuous', (_name, file) => {
    const rows = engineRows(file);
    const ports = [...new Set(rows.map((r) => r.destination.split(':')[1]))];
    const shark = tsharkFields(file, ['frame.number', 'rtp.seq', 'rtp.timestamp', 'rtp.ssrc', 'rtp.p_type', 'udp.length'],
      ports.flatMap((p) => ['-d', `udp.port==${p},rtp`]), 'f').filter((r) => r[1] !== '');
    expect(rows.length).toBe(shark.length);
    rows.forEach((r, i) => {
      const [frame, seq, ts, ssrc, pt, udpLength] = shark[i];
      expect([r.frame, r.seq, r.ts, r.ssrc, r.pt, r.payload.length + 12 + 8]).toEqual(
        [Number(frame), Number(seq), Number(ts), Number(ssrc), Number(pt), Number(udpLength)]);
    });

    // Continuity: per stream, the format follows from the data (bytes per frame = payload /
    // timestamp step) and the file's declared width; then no jump at a packet boundary is
    // larger than the largest step inside packets (except where a packet is missing).
    const encoding = /l16|16bit/i.test(file) ? 'L16' : 'L24';
    const bps = encoding === 'L16' ? 2 : 3;
    let judged = 0;
    for (const destination of new Set(rows.map((r) => r.destination))) {
      const stream = rows.filter((r) => r.destination === destination);
      const step = (stream[1].ts - stream[0].ts) >>> 0;
      const channels = stream[0].payload.length / step / bps;
      expect(Number.isInteger(channels), `${destination}: ${stream[0].payload.length} bytes per ${step} frames`).toBe(true);
      let maxInside = 0;
      let maxBoundary = 0;
      let previous: Float32Array | undefined;
      let previousSeq = -1;
      for (const r of stream) {
        const audio = native.decodePcm(encoding, r.payload);
        for (let f = 1; f < step; f++)
          for (let c = 0; c < channels; c++) maxInside = Math.max(maxInside, Math.abs(audio[f * channels + c] - audio[(f - 1) * channels + c]));
        if (previous && ((previousSeq + 1) & 0xffff) === r.seq) {
          for (let c = 0; c < channels; c++) maxBoundary = Math.max(maxBoundary, Math.abs(audio[c] - previous[(step - 1) * channels + c]));
        }
        previous = audio;
        previousSeq = r.seq;
      }
      // A signal that already jumps by more than half of full scale inside packets (the
      // 8-packet 125 us capture) cannot show a boundary discontinuity: judge the others.
      if (maxInside > 1.0) continue;
      judged++;
      expect(maxBoundary, `${destination}: largest step across packets vs inside`).toBeLessThanOrEqual(maxInside * 1.05 + 2 ** -(8 * bps - 1));
    }
    if (!file.includes('125us_2ch')) expect(judged, 'streams judged for continuity').toBeGreaterThan(0);
  });
});
