// A DUT's stereo L24 1 ms streams as a capture holds them, for the live crossings that patch
// streams into a running DUT (dut-hotswap, dut-tx-removal): the packets read by the lab's own
// pcapng reader, RTP parser and PCM decoder (not the engine's), channel 1's audio, and what
// breaks a stream's continuity (a sequence or timestamp step, silence inside it).
import { CaptureReader } from '../net/pcap/reader.ts';
import { formatIpv4, UdpDecoder } from '../net/pcap/udp.ts';
import { decodePcm } from '../net/pcm.ts';
import { parseRtp } from '../net/rtp.ts';

export interface CapturedPacket {
  /** Capture time, s. */
  time: number;
  sequence: number;
  timestamp: number;
  /** Channel 1's samples. */
  left: Float32Array;
}

/** The packets to `group`:`port` in the capture, in the order they were captured. */
export function packetsTo(file: string, group: string, port = 5004): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  const udp = new UdpDecoder();
  for (const f of new CaptureReader(file)) {
    const d = udp.decode(f);
    if (!d || formatIpv4(d.destinationIp) !== group || d.destinationPort !== port) continue;
    const p = parseRtp(d.payload);
    const both = decodePcm(p.payload, 'L24');
    const left = new Float32Array(both.length / 2);
    for (let i = 0; i < left.length; i++) left[i] = both[2 * i];
    out.push({ time: f.tsSec + f.tsNsec / 1e9, sequence: p.sequenceNumber, timestamp: p.timestamp, left });
  }
  return out;
}

/** Channel 1 of the packets, one after the other. */
export function audioOf(packets: CapturedPacket[]): Float32Array {
  const a = new Float32Array(packets.reduce((n, p) => n + p.left.length, 0));
  let o = 0;
  for (const p of packets) {
    a.set(p.left, o);
    o += p.left.length;
  }
  return a;
}

/** Where packets do not follow one another (sequence +1, timestamp +48). */
export function steps(packets: CapturedPacket[]): string[] {
  const bad: string[] = [];
  for (let i = 1; i < packets.length; i++) {
    const ds = (packets[i].sequence - packets[i - 1].sequence) & 0xffff;
    const dt = (packets[i].timestamp - packets[i - 1].timestamp) >>> 0;
    if (ds !== 1 || dt !== 48) bad.push(`packet ${i} of ${packets.length}: sequence +${ds}, timestamp +${dt}`);
  }
  return bad;
}

/** Runs of two or more zero samples after the first sound: silence inside the stream. */
export function silentRuns(audio: Float32Array): string[] {
  const runs: string[] = [];
  let i = audio.findIndex((v) => v !== 0);
  if (i < 0) return ['no sound at all'];
  while (i < audio.length) {
    if (audio[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < audio.length && audio[j] === 0) j++;
    if (j - i >= 2) runs.push(`${j - i} zero samples from sample ${i} (packet ${Math.floor(i / 48)} of ${audio.length / 48})`);
    i = j;
  }
  return runs;
}
