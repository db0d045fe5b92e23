// The UDP datagrams of a capture as a replay sends them: times relative to the first one,
// destinations / ports / SSRCs rewritten, RTP timestamps optionally re-based, looped.
// Streams from the file (bounded memory); each loop reads the file again.
import { CaptureReader } from '../net/pcap/reader.ts';
import { formatIpv4, UdpDecoder } from '../net/pcap/udp.ts';

export interface ReplayDatagram {
  /** Nanoseconds after the first replayed datagram (loops continue the timeline). */
  timeNs: number;
  source: string;
  destination: string;
  dscp: number;
  payload: Uint8Array;
  loop: number;
}

export interface ReplayOptions {
  /** Rewrites "ip:port" (or "ip", or ":port") of original destinations to a new "ip:port". */
  map?: Map<string, string>;
  /** Sends everything to this "ip:port" (after `map`). */
  to?: string;
  /** Only datagrams to these destination ports. */
  ports?: number[];
  /** Replaces the SSRC of every RTP packet. */
  ssrc?: number;
  /**
   * Re-bases RTP timestamps: per SSRC, ts − first ts + `rebaseTo(clockRate)` where clockRate is
   * looked up per destination "ip:port" (from the analysis of the same capture).
   */
  rebase?: { clockRates: Map<string, number>; startTicks: (clockRate: number) => number };
  loops?: number;
}

const looksLikeRtp = (p: Uint8Array) => p.length >= 12 && p[0] >> 6 === 2 && (p[1] < 200 || p[1] > 204);

function rewriteDestination(original: string, o: ReplayOptions): string {
  const [ip, port] = original.split(':');
  let dest = o.map?.get(original) ?? o.map?.get(ip) ?? o.map?.get(`:${port}`) ?? original;
  if (o.to) dest = o.to;
  if (!dest.includes(':')) dest = `${dest}:${port}`;
  else if (dest.startsWith(':')) dest = `${ip}${dest}`;
  return dest;
}

export function* replayDatagrams(file: string, o: ReplayOptions = {}): Generator<ReplayDatagram> {
  const loops = o.loops ?? 1;
  if (!(Number.isInteger(loops) && loops >= 1)) throw new RangeError(`loops ${loops}: a whole number ≥ 1`);
  let loopOffsetNs = 0;
  // Per original stream (destination + SSRC): first timestamp, span, packets per loop.
  const streams = new Map<string, { firstTs: number; lastTs: number; lastSeq: number; packets: number; base: number; seqBase: number; tsBase: number }>();
  for (let loop = 0; loop < loops; loop++) {
    const decoder = new UdpDecoder();
    let firstSec = -1;
    let firstNsec = 0;
    let lastNs = 0;
    for (const f of new CaptureReader(file)) {
      const d = decoder.decode(f);
      if (!d || d.truncated) continue;
      if (o.ports && !o.ports.includes(d.destinationPort)) continue;
      if (firstSec < 0) [firstSec, firstNsec] = [f.tsSec, f.tsNsec];
      lastNs = (f.tsSec - firstSec) * 1e9 + (f.tsNsec - firstNsec); // relative: exact in a double
      const original = `${formatIpv4(d.destinationIp)}:${d.destinationPort}`;
      const payload = d.payload.slice();
      if (looksLikeRtp(payload)) rewriteRtp(payload, original, loop, streams, o);
      yield { timeNs: loopOffsetNs + lastNs, source: `${formatIpv4(d.sourceIp)}:${d.sourcePort}`, destination: rewriteDestination(original, o), dscp: d.dscp, payload, loop };
    }
    // The next loop starts one mean packet interval after this one ends.
    loopOffsetNs += lastNs + Math.round(decoder.counters.udp > 1 ? lastNs / (decoder.counters.udp - 1) : 1e6);
    for (const s of streams.values()) {
      s.seqBase += s.packets;
      s.tsBase += ((s.lastTs - s.firstTs) >>> 0) + Math.round(((s.lastTs - s.firstTs) >>> 0) / Math.max(1, s.packets - 1));
      s.packets = 0;
    }
  }
}

function rewriteRtp(p: Uint8Array, destination: string, loop: number, streams: Map<string, { firstTs: number; lastTs: number; lastSeq: number; packets: number; base: number; seqBase: number; tsBase: number }>, o: ReplayOptions): void {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const ssrc = v.getUint32(8);
  const ts = v.getUint32(4);
  const seq = v.getUint16(2);
  const key = `${destination}#${ssrc}`;
  let s = streams.get(key);
  if (!s) {
    const rate = o.rebase?.clockRates.get(destination);
    const base = o.rebase && rate ? o.rebase.startTicks(rate) : ts;
    streams.set(key, (s = { firstTs: ts, lastTs: ts, lastSeq: seq, packets: 0, base, seqBase: 0, tsBase: 0 }));
  }
  if (loop === 0) {
    s.lastTs = ts;
    s.lastSeq = seq;
  }
  s.packets++;
  if (loop > 0 || o.rebase) {
    v.setUint32(4, (s.base + ((ts - s.firstTs) >>> 0) + s.tsBase) >>> 0);
    v.setUint16(2, (seq + s.seqBase) & 0xffff);
  }
  if (o.ssrc !== undefined) v.setUint32(8, o.ssrc >>> 0);
}
