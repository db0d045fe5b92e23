// A pcap sender: one RTP audio stream of a capture replayed onto the virtual network by
// lab/replay's replayDatagrams, keeping the capture's own packet timing, sent to the
// scenario's group, with its RTP timestamps re-based onto the network's media time (so the
// device's playout, which places audio by PTP-derived media time, accepts it as it would
// accept the original sender's on its own network). The stream's format comes from
// lab/analyze's reading of the capture; its SDP is what a user would paste for it.
import type { DatagramSocket, LabTransport, TimedActor } from '../net/lab-transport.ts';
import { decodePcm } from '../net/pcm.ts';
import { parseRtp } from '../net/rtp.ts';
import type { Signal } from '../signal/signal.ts';
import { mediaTimeOf, type PtpTimescale } from '../net/ptp-timescale.ts';
import { buildAes67Sdp } from '../net/sdp.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { replayDatagrams, type ReplayDatagram } from '../replay/replay-source.ts';

export interface CapturedStream {
  /** The original destination "ip:port". */
  original: string;
  encoding: PcmEncoding;
  channels: number;
  sampleRate: number;
  framesPerPacket: number;
  payloadType: number;
  packets: number;
}

/** The first RTP audio stream lab/analyze finds in `file` with a complete format. */
export function capturedAudioStream(file: string): CapturedStream {
  const a = analyzeCapture(file);
  const s = a.streams.find((x) => x.encoding && x.channels && x.sampleRate && x.framesPerPacket);
  if (!s) throw new Error(`${file}: no RTP audio stream whose format lab/analyze could read (streams: ${a.streams.length})`);
  if (!['L16', 'L24', 'L32'].includes(s.encoding!)) throw new Error(`${file}: stream ${s.destination} is ${s.encoding}; the device takes L16, L24 or L32`);
  return { original: s.destination, encoding: s.encoding as PcmEncoding, channels: s.channels!, sampleRate: s.sampleRate!, framesPerPacket: s.framesPerPacket!, payloadType: s.payloadType, packets: s.packets };
}

export interface ReplaySenderOptions {
  transport: LabTransport;
  timescale: PtpTimescale;
  file: string;
  stream: CapturedStream;
  destination: string;
  port: number;
  loops: number;
  sessionName: string;
}

const CHUNK = 4096;

/**
 * The audio a replay actually sent, by media time (frames no packet carried are silent):
 * the reference the device's output is compared with.
 */
export class SentAudio {
  private readonly chunks = new Map<number, Float32Array>();

  constructor(readonly channels: number) {}

  record(media: number, interleaved: Float32Array): void {
    const ch = this.channels;
    const frames = interleaved.length / ch;
    for (let f = 0; f < frames; f++) {
      const m = media + f;
      const k = Math.floor(m / CHUNK);
      let chunk = this.chunks.get(k);
      if (!chunk) this.chunks.set(k, (chunk = new Float32Array(CHUNK * ch)));
      chunk.set(interleaved.subarray(f * ch, (f + 1) * ch), (m - k * CHUNK) * ch);
    }
  }

  /** Channel `c` as a Signal (mono). */
  channel(c: number, sampleRate: number): Signal {
    return {
      description: `replayed capture channel ${c + 1}`,
      sampleRate,
      render: (start, frames, channels, out) => {
        const buf = out ?? new Float32Array(frames * channels);
        for (let i = 0; i < frames; i++) {
          const m = start + i;
          const k = Math.floor(m / CHUNK);
          const chunk = this.chunks.get(k);
          buf[i * channels] = chunk ? chunk[(m - k * CHUNK) * this.channels + c] : 0;
        }
        return buf;
      },
    };
  }
}

export class ReplaySender implements TimedActor {
  sent = 0;
  readonly audio: SentAudio;
  /** What its SDP's mediaclk offset and the re-based timestamps make media time 0 of. */
  private rebaseStart = 0n;
  private readonly socket: DatagramSocket;
  private iterator?: Generator<ReplayDatagram>;
  private next?: ReplayDatagram;
  private startedAt = 0;
  private done = false;

  constructor(readonly o: ReplaySenderOptions) {
    this.socket = o.transport.open({ dscp: 34 });
    this.audio = new SentAudio(o.stream.channels);
  }

  /** The SDP a user would paste for the replayed stream (format from the capture's analysis). */
  sdp(): string {
    const s = this.o.stream;
    return buildAes67Sdp({
      name: this.o.sessionName,
      origin: { username: '-', sessionId: '1', sessionVersion: '1', address: this.o.transport.address },
      destination: this.o.destination,
      port: this.o.port,
      ttl: 32,
      sourceFilter: this.o.transport.address,
      encoding: s.encoding,
      sampleRate: s.sampleRate,
      channels: s.channels,
      ptimeUs: Math.round((s.framesPerPacket * 1e6) / s.sampleRate),
      framesPerPacket: s.framesPerPacket,
      payloadType: s.payloadType,
      mediaclkOffset: 0,
      ptpRefclk: 'traceable',
      direction: 'sendonly',
    });
  }

  poll(now: number): number {
    if (this.done) return Infinity;
    if (!this.iterator) {
      this.startedAt = now;
      const s = this.o.stream;
      // The first packet's first sample is one packet time old when it leaves, as a live sender's.
      this.rebaseStart = mediaTimeOf(this.o.timescale.ptpTimeAt(now), s.sampleRate) - BigInt(s.framesPerPacket);
      const start = Number(this.rebaseStart & 0xffffffffn);
      this.iterator = replayDatagrams(this.o.file, {
        map: new Map([[s.original, `${this.o.destination}:${this.o.port}`]]),
        ports: [Number(s.original.split(':')[1])],
        rebase: { clockRates: new Map([[s.original, s.sampleRate]]), startTicks: () => start },
        loops: this.o.loops,
      });
      this.advance();
    }
    while (this.next && this.startedAt + this.next.timeNs <= now) {
      if (this.next.destination === `${this.o.destination}:${this.o.port}`) {
        this.socket.send(this.next.destination, this.next.payload);
        this.sent++;
        this.remember(this.next.payload);
      }
      this.advance();
    }
    return this.next ? this.startedAt + this.next.timeNs : Infinity;
  }

  close(): void {
    this.socket.close();
    this.done = true;
  }

  /** Keeps what a packet carried at its media time (the re-based timestamp, unwrapped near the start). */
  private remember(payload: Uint8Array): void {
    const p = parseRtp(payload);
    const low = BigInt(p.timestamp);
    let diff = (low - this.rebaseStart) & 0xffffffffn;
    if (diff >= 0x80000000n) diff -= 0x100000000n;
    this.audio.record(Number(this.rebaseStart + diff), decodePcm(p.payload, this.o.stream.encoding));
  }

  private advance(): void {
    const r = this.iterator!.next();
    this.next = r.done ? undefined : r.value;
    if (r.done) this.done = true;
  }
}
