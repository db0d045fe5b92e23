// One subscribed RTP audio stream as a lab receiver holds it: the socket (port, group join,
// source filter), the packet checks (dropped with a reason, never thrown), the RTP metrics
// a measurement needs (loss, duplicates, reordering, SSRC changes, RFC 3550 jitter,
// arrival against the media clock) and the decoded audio placed by media time, so a lost
// packet leaves silence where it belonged and a late or reordered one lands in its place.
import type { ReceivedDatagram } from '../../native/index.ts';
import type { DatagramSocket, LabTransport } from '../net/lab-transport.ts';
import { bytesPerSample, decodePcm, type PcmEncoding } from '../net/pcm.ts';
import { mediaTimeOf, ptpTimeOfSample, type PtpTimescale } from '../net/ptp-timescale.ts';
import { parseRtp, RtpParseError } from '../net/rtp.ts';
import type { Aes67StreamDescription } from '../net/sdp.ts';
import { isMulticast } from './aes67-sender.ts';

export interface ReceivedAudio {
  sampleRate: number;
  channels: number;
  encoding: PcmEncoding;
  /** Media time (samples since the PTP epoch) of the first frame. */
  firstSample: bigint;
  /** Interleaved frames from the first packet's media time to the last recorded one. */
  interleaved: Float32Array;
  /** Frames no accepted packet covered (lost, late or never sent). */
  missingFrames: number;
}

export interface RtpMetrics {
  packets: number;
  bytes: number;
  ssrc?: number;
  ssrcChanges: number;
  /** Packets the sequence numbers say were sent (per SSRC run, summed). */
  expected: number;
  lost: number;
  duplicates: number;
  reordered: number;
  /** RFC 3550 §6.4.1 interarrival jitter, in ns: the current value and the largest seen. */
  jitterNs: number;
  jitterMaxNs: number;
  /** Arrival (receiver's PTP time) minus the PTP time of the packet's first sample (ns). */
  arrivalMinNs: number;
  arrivalMeanNs: number;
  arrivalMaxNs: number;
  /** With a playout delay: packets that arrived after their first sample was due, dropped. */
  late: number;
  /** Smallest (deadline − arrival) over all packets (ns); negative when one was late. */
  worstMarginNs: number;
  /** Datagrams dropped before RTP accounting, by reason. */
  dropped: Record<string, number>;
  /**
   * Datagrams the socket dropped before this receiver read them (a real socket: the kernel,
   * its receive buffer full; the virtual network: the queue limit): a loss on this host,
   * not on the network. Part of `lost` when they were of this stream.
   */
  socketOverflows: number;
  firstArrivalNs?: number;
  lastArrivalNs?: number;
}

export interface RtpSubscriptionOptions {
  transport: LabTransport;
  timescale: PtpTimescale;
  stream: Aes67StreamDescription;
  /** Playout point after a packet's first sample (ns); later packets are dropped as late. */
  playoutDelayNs?: number;
  /** Audio kept, in seconds of media time from the first packet (default 60). */
  recordSeconds?: number;
  /**
   * Fed by the caller: no socket of its own; the caller drains one (openStreamSocket) and hands
   * each datagram to take(), to as many subscriptions as it likes (consecutive recordings of
   * one stream without opening a socket for each: on Linux a new socket joining the group
   * cost the open one a datagram now and then — seen in the HIL soak at window openings).
   */
  fed?: boolean;
}

/** A socket that receives stream `s` as a subscription does: its port, bound to and joined to its group (with the source filter). */
export function openStreamSocket(transport: LabTransport, s: Aes67StreamDescription): DatagramSocket {
  const multicast = isMulticast(s.destination);
  const socket = transport.open({ port: s.port, receiveQueueLimit: 1 << 14, ...(multicast ? { bindAddress: s.destination } : {}) });
  if (multicast) {
    if (s.sourceFilter) socket.join(s.destination, s.sourceFilter);
    else socket.join(s.destination);
  }
  return socket;
}

const RECENT = 1024;

/** Is "ip:port" `endpoint` on address `ip`? (What endpoint.split(':')[0] === ip says, without the split.) */
function isAddressOf(endpoint: string, ip: string): boolean {
  return endpoint === ip || (endpoint.length > ip.length && endpoint.charCodeAt(ip.length) === 58 /* ":" */ && endpoint.startsWith(ip));
}

/** The fields of a description that need a new socket or decoder when they change. */
export function streamKey(d: Aes67StreamDescription): string {
  return [d.destination, d.port, d.sourceFilter ?? '', d.encoding, d.sampleRate, d.channels, d.payloadType, d.mediaclkOffset ?? 0].join('|');
}

export class RtpSubscription {
  private readonly m: RtpMetrics = {
    packets: 0,
    bytes: 0,
    ssrcChanges: 0,
    expected: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    jitterNs: 0,
    jitterMaxNs: 0,
    arrivalMinNs: Infinity,
    arrivalMeanNs: 0,
    arrivalMaxNs: -Infinity,
    late: 0,
    worstMarginNs: Infinity,
    dropped: {},
    socketOverflows: 0,
  };
  /** Its own socket; undefined when fed by the caller. */
  private readonly socket?: DatagramSocket;
  private readonly frameBytes: number;
  private readonly group?: string;
  // Sequence tracking for the current SSRC.
  private baseSeq = -1;
  private highestSeq = -1;
  private uniqueThisRun = 0;
  private readonly recent = new Float64Array(RECENT).fill(-1);
  private expectedBefore = 0;
  private receivedBefore = 0;
  // RFC 3550 jitter state (timestamp units).
  private jitter = 0;
  private lastTransit: number | null = null;
  private arrivalSum = 0;
  // Audio by media time, in blocks of one second, kept as the payload's bytes and decoded
  // when audio() asks (decodePcm works sample by sample, so this is what decoding each
  // packet on arrival gives, without the work for packets nobody reads back).
  private firstSample = -1n;
  private readonly blocks = new Map<number, { bytes: Uint8Array; filled: Uint8Array }>();
  private lastFrameEnd = 0;
  private closed = false;

  constructor(readonly o: RtpSubscriptionOptions) {
    const s = o.stream;
    this.frameBytes = s.channels * bytesPerSample(s.encoding);
    if (isMulticast(s.destination)) this.group = s.destination;
    if (!o.fed) this.socket = openStreamSocket(o.transport, s);
  }

  get stream(): Aes67StreamDescription {
    return this.o.stream;
  }

  /** The metrics so far (the socket's drop count read now: one system call). */
  get metrics(): RtpMetrics {
    if (!this.closed && this.socket) this.m.socketOverflows = this.socket.receiveOverflows();
    return this.m;
  }

  close(): void {
    if (!this.closed && this.socket) {
      this.m.socketOverflows = this.socket.receiveOverflows();
      this.socket.close();
    }
    this.closed = true;
  }

  /** Drains the socket; returns how many packets were accepted. */
  drain(): number {
    if (this.closed || !this.socket) return 0;
    let n = 0;
    for (let d = this.socket.receive(); d; d = this.socket.receive()) if (this.take(d)) n++;
    return n;
  }

  private drop(reason: string): false {
    this.m.dropped[reason] = (this.m.dropped[reason] ?? 0) + 1;
    return false;
  }

  /** One datagram; false when it was dropped (the reason is counted). */
  take(d: ReceivedDatagram): boolean {
    const s = this.o.stream;
    if (d.truncated) return this.drop('truncated');
    if (this.group && !isAddressOf(d.destination, this.group)) return this.drop('other-destination');
    if (s.sourceFilter && !isAddressOf(d.source, s.sourceFilter)) return this.drop('source-filter');
    let p;
    try {
      p = parseRtp(d.data);
    } catch (e) {
      if (e instanceof RtpParseError) return this.drop(`rtp-${e.reason}`);
      throw e;
    }
    if (p.payloadType !== s.payloadType) return this.drop('payload-type');
    if (p.payload.length === 0 || p.payload.length % this.frameBytes !== 0) return this.drop('payload-length');
    const m = this.m;
    const frames = p.payload.length / this.frameBytes;
    const arrival = d.receivedAt;

    if (m.ssrc !== undefined && p.ssrc !== m.ssrc) {
      m.ssrcChanges++;
      this.expectedBefore += this.highestSeq - this.baseSeq + 1;
      this.receivedBefore += this.uniqueThisRun;
      this.uniqueThisRun = 0;
      this.baseSeq = -1;
      this.recent.fill(-1);
      this.lastTransit = null;
    }
    m.ssrc = p.ssrc;

    // Extended sequence number nearest the highest seen.
    let ext = p.sequenceNumber;
    if (this.baseSeq < 0) {
      this.baseSeq = ext;
      this.highestSeq = ext;
    } else {
      const cycle = this.highestSeq - (this.highestSeq & 0xffff);
      ext = cycle + p.sequenceNumber;
      if (ext - this.highestSeq > 0x8000) ext -= 0x10000;
      else if (this.highestSeq - ext > 0x8000) ext += 0x10000;
    }
    const slot = ((ext % RECENT) + RECENT) % RECENT;
    if (this.recent[slot] === ext) {
      m.duplicates++;
      return false;
    }
    this.recent[slot] = ext;
    if (ext < this.highestSeq) m.reordered++;
    else this.highestSeq = ext;
    if (ext < this.baseSeq) this.baseSeq = ext;
    this.uniqueThisRun++;
    m.packets++;
    m.bytes += d.data.length;
    m.firstArrivalNs ??= arrival;
    m.lastArrivalNs = arrival;
    m.expected = this.expectedBefore + this.highestSeq - this.baseSeq + 1;
    m.lost = m.expected - (this.receivedBefore + this.uniqueThisRun);

    // Media time of the first sample: the RTP timestamp less the mediaclk offset, unwrapped
    // next to the receiver's own media time at arrival.
    const ptpArrival = this.o.timescale.ptpTimeAt(arrival);
    const mediaNow = mediaTimeOf(ptpArrival, s.sampleRate);
    const media32 = (BigInt(p.timestamp) - BigInt(s.mediaclkOffset ?? 0)) & 0xffffffffn;
    let diff = (media32 - mediaNow) & 0xffffffffn;
    if (diff >= 0x80000000n) diff -= 0x100000000n;
    const sample = mediaNow + diff;
    const delta = Number(ptpArrival - ptpTimeOfSample(sample, s.sampleRate));
    m.arrivalMinNs = Math.min(m.arrivalMinNs, delta);
    m.arrivalMaxNs = Math.max(m.arrivalMaxNs, delta);
    this.arrivalSum += delta;
    m.arrivalMeanNs = this.arrivalSum / m.packets;

    // RFC 3550 §6.4.1 / A.8: transit in timestamp units.
    const transit = (arrival * s.sampleRate) / 1e9 - p.timestamp;
    if (this.lastTransit !== null) {
      let dTransit = Math.abs(transit - this.lastTransit);
      if (dTransit > 2 ** 31) dTransit = Math.abs(dTransit - 2 ** 32); // timestamp wrap
      this.jitter += (dTransit - this.jitter) / 16;
      m.jitterNs = (this.jitter * 1e9) / s.sampleRate;
      if (m.jitterNs > m.jitterMaxNs) m.jitterMaxNs = m.jitterNs;
    }
    this.lastTransit = transit;

    if (this.o.playoutDelayNs !== undefined) {
      const margin = this.o.playoutDelayNs - delta;
      if (margin < m.worstMarginNs) m.worstMarginNs = margin;
      if (margin < 0) {
        m.late++;
        return true; // counted as received, but it came too late to play
      }
    }
    this.place(sample, p.payload, frames);
    return true;
  }

  private place(sample: bigint, payload: Uint8Array, frames: number): void {
    const s = this.o.stream;
    if (this.firstSample < 0n) this.firstSample = sample;
    const offset = Number(sample - this.firstSample);
    const limit = (this.o.recordSeconds ?? 60) * s.sampleRate;
    if (offset < 0) return void this.drop('before-recording');
    if (offset + frames > limit) return void this.drop('recording-full');
    const fb = this.frameBytes;
    // The frames in runs that stay inside one block.
    for (let f = 0; f < frames; ) {
      const frame = offset + f;
      const b = Math.floor(frame / s.sampleRate);
      let block = this.blocks.get(b);
      if (!block) this.blocks.set(b, (block = { bytes: new Uint8Array(s.sampleRate * fb), filled: new Uint8Array(s.sampleRate) }));
      const i = frame - b * s.sampleRate;
      const n = Math.min(frames - f, s.sampleRate - i);
      block.bytes.set(payload.subarray(f * fb, (f + n) * fb), i * fb);
      block.filled.fill(1, i, i + n);
      f += n;
    }
    this.lastFrameEnd = Math.max(this.lastFrameEnd, offset + frames);
  }

  /**
   * The recording as it is held (payload bytes in one-second blocks, not decoded), handed
   * over: the subscription closes and keeps nothing. For a caller that decodes it elsewhere
   * with recordedAudio() (the HIL runner's analysis worker, the blocks' buffers transferred
   * to it), so the decoding never runs on the thread that receives.
   */
  takeRecording(): RawRecording {
    this.close();
    const blocks = [...this.blocks.entries()].map(([index, b]) => ({ index, bytes: b.bytes, filled: b.filled }));
    this.blocks.clear();
    return { stream: this.o.stream, firstSample: this.firstSample, lastFrameEnd: this.lastFrameEnd, blocks };
  }

  /** The audio recorded so far (silence where nothing arrived in time). */
  audio(): ReceivedAudio {
    return recordedAudio(this.o.stream, this.firstSample, this.lastFrameEnd, (b) => this.blocks.get(b));
  }

  /** The recording so far as it is held (not decoded, not copied, not handed over): what audio() decodes. */
  recording(): RecordingView {
    return { stream: this.o.stream, firstSample: this.firstSample, lastFrameEnd: this.lastFrameEnd, blockAt: (b) => this.blocks.get(b) };
  }
}

/**
 * A recording read where it is held: recordedAudio(stream, firstSample, lastFrameEnd, blockAt)
 * is its audio. For a reader that wants a few channels of it without decoding them all
 * (lab/scenario/returned-audio.ts).
 */
export interface RecordingView {
  stream: Aes67StreamDescription;
  firstSample: bigint;
  lastFrameEnd: number;
  blockAt: (b: number) => { bytes: Uint8Array; filled: Uint8Array } | null | undefined;
  /** The recording read where it is held, no block copied out (the native receiver's); what it reads is what blockAt's blocks hold. */
  inPlace?: RecordingReader;
}

/** One channel's frames `ranges` ([from, to) pairs, sorted and apart) against table[(phase + f - origin) mod table.length]. */
export interface ChannelComparison {
  channel: number;
  table: Float32Array;
  origin: number;
  phase: number;
  ranges: Float64Array;
}

/** A recording's channels read in place (native/src/recorded_channel.hpp). */
export interface RecordingReader {
  /** Per comparison, how many frames of its ranges differ from its table (a frame outside the recording always does). */
  countDiffering(comparisons: ChannelComparison[]): number[];
  /** Channel k's frames [from, from + len) decoded into out[at...]; 0 outside the recording. */
  readChannel(k: number, from: number, len: number, out: Float32Array, at: number): void;
}

/** A recording as RtpSubscription holds it (takeRecording): plain data and buffers, for another thread's recordedAudio(). */
export interface RawRecording {
  stream: Aes67StreamDescription;
  /** Media time of frame 0 (-1 when nothing was recorded). */
  firstSample: bigint;
  lastFrameEnd: number;
  blocks: { index: number; bytes: Uint8Array; filled: Uint8Array }[];
}

/** The audio of a RawRecording (on whichever thread has it). */
export function rawRecordingAudio(r: RawRecording): ReceivedAudio {
  const byIndex = new Map(r.blocks.map((b) => [b.index, b]));
  return recordedAudio(r.stream, r.firstSample, r.lastFrameEnd, (b) => byIndex.get(b));
}

/**
 * Recorded audio from one-second blocks of payload bytes (`filled` marks the frames a packet
 * covered): decoded, with silence where no block or frame was filled. RtpSubscription and
 * the native receiver (native-aes67-receiver.ts) both hand over their blocks this way.
 */
export function recordedAudio(
  s: Aes67StreamDescription,
  firstSample: bigint,
  lastFrameEnd: number,
  blockAt: (b: number) => { bytes: Uint8Array; filled: Uint8Array } | null | undefined,
): ReceivedAudio {
  const ch = s.channels;
  const frameBytes = ch * bytesPerSample(s.encoding);
  const frames = lastFrameEnd;
  const interleaved = new Float32Array(frames * ch);
  let missing = 0;
  for (let b = 0; b * s.sampleRate < frames; b++) {
    const block = blockAt(b);
    const start = b * s.sampleRate;
    const n = Math.min(s.sampleRate, frames - start);
    if (!block) {
      missing += n;
      continue;
    }
    interleaved.set(decodePcm(block.bytes.subarray(0, n * frameBytes), s.encoding), start * ch);
    for (let i = 0; i < n; i++) if (!block.filled[i]) missing++;
  }
  return { sampleRate: s.sampleRate, channels: ch, encoding: s.encoding, firstSample, interleaved, missingFrames: missing };
}
