// An AES67 sender as the lab emulates it: PCM (L16/L24/L32) in RTP, 1-64 channels at
// 44.1-384 kHz, any whole number of frames per packet from 125 µs to 4 ms. RTP timestamps
// are media time from the network's PTP timescale (AES67 §7.2 / ST 2110-10: samples since
// the PTP epoch at the rate, plus the SDP's mediaclk:direct= offset, mod 2^32). Packet k
// carries media samples [m0 + kF, m0 + (k+1)F) and leaves when its last sample exists, at
// the local time of PTP time of sample m0 + (k+1)F (plus an optional processing delay):
// due times are absolute, so pacing never drifts. Media is DSCP 34 (AF41) by default
// (FIELD-NOTES "AES67 / ST 2110-30 / PTP", DSCP).
import type { DatagramSocket, LabTransport, TimedActor } from '../net/lab-transport.ts';
import { encodePcm, bytesPerSample, PCM_ENCODINGS, type PcmEncoding } from '../net/pcm.ts';
import { mediaTimeOf, ptpTimeOfSample, rtpTimestampOf, type PtpTimescale } from '../net/ptp-timescale.ts';
import { buildAes67Sdp, type Aes67StreamDescription, type PtpRefclk } from '../net/sdp.ts';
import { createSignal, type SignalSpec } from '../signal/index.ts';
import { checkSampleRate, type Signal } from '../signal/signal.ts';

/** Largest RTP payload one IPv4 UDP datagram carries (65535 − 20 − 8 − 12). */
export const MAX_RTP_PAYLOAD_BYTES = 65495;

export interface Aes67SenderOptions {
  transport: LabTransport;
  timescale: PtpTimescale;
  /** Multicast group or unicast address. */
  destination: string;
  port?: number;
  channels: number;
  sampleRate: number;
  encoding: PcmEncoding;
  /** Frames per packet; or give ptimeUs and it is rounded to whole frames. */
  framesPerPacket?: number;
  ptimeUs?: number;
  signal: Signal | SignalSpec;
  mediaclkOffset?: number;
  payloadType?: number;
  ssrc?: number;
  initialSequence?: number;
  dscp?: number;
  ttl?: number;
  sessionName?: string;
  sessionId?: number;
  sessionVersion?: number;
  /** The grandmaster this sender's media clock follows (SDP ts-refclk). */
  ptpRefclk?: PtpRefclk;
  /** Put an RFC 4570 source-filter in a multicast SDP (AES67 §8.3 recommends it; default true). */
  sourceFilter?: boolean;
  channelLabels?: string[];
  /** Local time to start at (default: its first poll). */
  startAtNs?: number;
  /** Extra delay between a packet's last sample and its departure (default 0). */
  sendDelayNs?: number;
  /**
   * Reboots: at local time atNs the sender goes silent for pauseNs (the packets due then are
   * never sent), then comes back with a new SSRC and sequence number, its media clock still
   * from PTP (FIELD-NOTES "What users complain about": SSRC change after a sender reboot).
   */
  reboots?: { atNs: number; pauseNs: number; ssrc: number; sequence?: number }[];
  /**
   * Keep each encoded payload of a periodic signal (Signal.period) and send it again a
   * period later instead of rendering and encoding it anew (default true; the bytes are the
   * same, aes67-sender-cache.test.ts compares them). Off, or for a signal without a period, or
   * when the payloads of one period would take more than PAYLOAD_CACHE_BYTES: rendered per packet.
   */
  payloadCache?: boolean;
}

/** Most memory one sender's payload cache may take. */
export const PAYLOAD_CACHE_BYTES = 32 << 20;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface SenderStats {
  packets: number;
  /** How late packets left after their due time (ns): 0 in virtual time. */
  maxLatenessNs: number;
  meanLatenessNs: number;
  /** Packets skipped because the sender fell more than a second behind (real time stalls). */
  skipped: number;
}

/** FNV-1a, for deterministic defaults (SSRC, sequence) from a name. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export function isMulticast(ip: string): boolean {
  const first = Number(ip.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** Validates and resolves frames per packet: 125 µs to 4 ms, whole frames. */
export function resolveFramesPerPacket(sampleRate: number, framesPerPacket?: number, ptimeUs?: number): number {
  let frames = framesPerPacket;
  if (frames === undefined) {
    if (ptimeUs === undefined) throw new Error('sender needs framesPerPacket or ptimeUs');
    frames = Math.round((ptimeUs * sampleRate) / 1e6);
  }
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`frames per packet ${frames} must be a positive integer`);
  const us = (frames * 1e6) / sampleRate;
  // 125 µs at 44.1 kHz is 5.5 frames: 6 (136 µs) is the shortest whole packet there.
  const minFrames = Math.ceil((125 * sampleRate) / 1e6 - 1e-9);
  if (frames < minFrames || us > 4000 + 1e-9) {
    throw new RangeError(`ptime ${us.toFixed(1)} µs (${frames} frames at ${sampleRate} Hz) is outside AES67's 125 µs to 4 ms`);
  }
  return frames;
}

export class Aes67Sender implements TimedActor {
  /** It only sends: nothing to do between its packets' due times. */
  readonly pollOn = 'due';
  readonly framesPerPacket: number;
  readonly signal: Signal;
  /** The SSRC it sends with now (a reboot changes it). */
  ssrc: number;
  readonly port: number;
  readonly payloadType: number;
  readonly mediaclkOffset: number;
  /** Media time (samples since the PTP epoch) of the first packet's first sample (set at start). */
  firstSample = -1n;
  /** Packets whose payload came from the payload cache (sent again a period later). */
  payloadCacheHits = 0;
  /** The first packet's sequence number (a native twin starts from it: native-aes67-sender.ts). */
  readonly firstSequence: number;
  private readonly socket: DatagramSocket;
  private readonly frameBuffer: Float32Array;
  /** The datagram being sent: header written in place, payload copied in (send() copies it out). */
  private readonly datagram: Uint8Array;
  /** "destination:port", as send() takes it. */
  private readonly endpoint: string;
  /** Encoded payloads by (first sample mod period) / step, filled as first sent; step = gcd(period, F). */
  private readonly cache?: { period: number; step: number; payloads: (Uint8Array | undefined)[] };
  private packetIndex = 0n;
  private sequence: number;
  private nextDue: number;
  private latenessSum = 0;
  private readonly statsValue: SenderStats = { packets: 0, maxLatenessNs: 0, meanLatenessNs: 0, skipped: 0 };
  private latenessMaxSinceTaken = 0;
  private readonly realTime: boolean;
  private closed = false;
  private rebootIndex = 0;
  private marker = true;
  protected description: Aes67StreamDescription;

  constructor(readonly o: Aes67SenderOptions) {
    this.realTime = o.transport.kind === 'udp';
    checkSampleRate(o.sampleRate);
    if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 64) throw new RangeError(`channels ${o.channels}: an AES67 sender here carries 1 to 64`);
    if (!PCM_ENCODINGS.includes(o.encoding)) throw new RangeError(`encoding ${o.encoding}: use L16, L24 or L32`);
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(o.destination)) throw new Error(`destination "${o.destination}" is not an IPv4 address`);
    this.framesPerPacket = resolveFramesPerPacket(o.sampleRate, o.framesPerPacket, o.ptimeUs);
    const payloadBytes = this.framesPerPacket * o.channels * bytesPerSample(o.encoding);
    if (payloadBytes > MAX_RTP_PAYLOAD_BYTES) {
      throw new RangeError(`${o.channels} ch × ${this.framesPerPacket} frames of ${o.encoding} is ${payloadBytes} bytes: more than a UDP datagram holds (${MAX_RTP_PAYLOAD_BYTES})`);
    }
    this.signal = 'render' in o.signal ? o.signal : createSignal(o.signal, o.sampleRate);
    if (this.signal.sampleRate !== o.sampleRate) throw new Error(`signal is ${this.signal.sampleRate} Hz, the stream ${o.sampleRate} Hz`);
    this.port = o.port ?? 5004;
    this.payloadType = o.payloadType ?? 96;
    if (!Number.isInteger(this.payloadType) || this.payloadType < 96 || this.payloadType > 127) throw new RangeError(`payload type ${this.payloadType}: AES67 uses dynamic types 96-127`);
    this.mediaclkOffset = o.mediaclkOffset ?? 0;
    if (!Number.isInteger(this.mediaclkOffset) || this.mediaclkOffset < 0 || this.mediaclkOffset > 0xffffffff) throw new RangeError(`mediaclk offset ${this.mediaclkOffset} must be 0..4294967295`);
    const name = o.sessionName ?? `lab ${o.transport.address} ${o.destination}:${this.port}`;
    this.ssrc = o.ssrc ?? fnv1a(`ssrc ${name}`);
    this.sequence = this.firstSequence = (o.initialSequence ?? fnv1a(`seq ${name}`)) & 0xffff;
    const multicast = isMulticast(o.destination);
    this.socket = o.transport.open({ dscp: o.dscp ?? 34, ...(o.ttl !== undefined ? { ttl: o.ttl } : {}) });
    this.frameBuffer = new Float32Array(this.framesPerPacket * o.channels);
    this.datagram = new Uint8Array(12 + payloadBytes);
    this.endpoint = `${o.destination}:${this.port}`;
    const period = this.signal.period;
    if ((o.payloadCache ?? true) && period !== undefined && Number.isSafeInteger(period) && period > 0) {
      const step = gcd(period, this.framesPerPacket);
      if ((period / step) * payloadBytes <= PAYLOAD_CACHE_BYTES) this.cache = { period, step, payloads: new Array(period / step) };
    }

    this.nextDue = o.startAtNs ?? -Infinity;

    const sessionId = o.sessionId ?? fnv1a(`session ${name}`);
    this.description = {
      name,
      origin: { username: '-', sessionId: String(sessionId), sessionVersion: String(o.sessionVersion ?? sessionId), address: o.transport.address },
      destination: o.destination,
      port: this.port,
      ...(multicast ? { ttl: o.ttl ?? 32 } : {}),
      ...(multicast && (o.sourceFilter ?? true) ? { sourceFilter: o.transport.address } : {}),
      encoding: o.encoding,
      sampleRate: o.sampleRate,
      channels: o.channels,
      ptimeUs: Math.round((this.framesPerPacket * 1e6) / o.sampleRate),
      framesPerPacket: this.framesPerPacket,
      payloadType: this.payloadType,
      ptpRefclk: o.ptpRefclk ?? 'traceable',
      mediaclkOffset: this.mediaclkOffset,
      direction: 'sendonly',
      ...(o.channelLabels ? { channelLabels: o.channelLabels } : {}),
    };
  }

  /** The stream as its SDP describes it. */
  get stream(): Aes67StreamDescription {
    return { ...this.description };
  }

  /** This sender's SDP (lab/net/sdp.ts builder). */
  sdp(): string {
    return buildAes67Sdp(this.description);
  }

  /** A new grandmaster: ts-refclk follows it and the session version goes up (FIELD-NOTES: senders must update it). */
  setRefclk(refclk: PtpRefclk): boolean {
    const old = this.description.ptpRefclk;
    const same = old === refclk || (typeof old === 'object' && typeof refclk === 'object' && old.gmid === refclk.gmid && old.domain === refclk.domain);
    if (same) return false;
    this.description = { ...this.description, ptpRefclk: refclk, origin: { ...this.description.origin, sessionVersion: String(BigInt(this.description.origin.sessionVersion) + 1n) } };
    return true;
  }

  /** The largest lateness (ns) since the last call (for a measured span: call once at its start, once at its end). */
  takeMaxLateness(): number {
    const m = this.latenessMaxSinceTaken;
    this.latenessMaxSinceTaken = 0;
    return m;
  }

  get stats(): SenderStats {
    return { ...this.statsValue, meanLatenessNs: this.statsValue.packets ? this.latenessSum / this.statsValue.packets : 0 };
  }

  /** RTP timestamp of packet k's first sample. */
  timestampOf(packet: bigint): number {
    return rtpTimestampOf(this.firstSample + packet * BigInt(this.framesPerPacket), this.mediaclkOffset);
  }

  poll(now: number): number {
    if (this.closed) return Infinity;
    if (this.firstSample < 0n) {
      if (now < this.nextDue) return this.nextDue;
      this.start(Math.max(now, this.nextDue));
    }
    if (now - this.nextDue > 1e9) this.skipAhead(now);
    while (this.nextDue <= now) {
      if (!this.rebooting()) this.sendPacket(now);
      this.nextDue = this.dueOf(this.packetIndex);
    }
    return this.nextDue;
  }

  close(): void {
    if (!this.closed) this.socket.close();
    this.closed = true;
  }

  /** True while the packet due now falls in a reboot's pause (it is skipped, never sent). */
  private rebooting(): boolean {
    const r = this.o.reboots?.[this.rebootIndex];
    if (!r || this.nextDue < r.atNs) return false;
    if (this.nextDue < r.atNs + r.pauseNs) {
      this.packetIndex++;
      return true;
    }
    this.ssrc = r.ssrc >>> 0;
    this.sequence = (r.sequence ?? fnv1a(`seq reboot ${this.rebootIndex} ${r.ssrc}`)) & 0xffff;
    this.marker = true;
    this.rebootIndex++;
    return false;
  }

  private start(at: number): void {
    const startMedia = mediaTimeOf(this.o.timescale.ptpTimeAt(at), this.o.sampleRate);
    const f = BigInt(this.framesPerPacket);
    this.firstSample = ((startMedia + f - 1n) / f) * f; // packet boundaries on multiples of F
    this.nextDue = this.dueOf(0n);
  }

  private dueOf(packet: bigint): number {
    const lastSampleEnd = this.firstSample + (packet + 1n) * BigInt(this.framesPerPacket);
    return this.o.timescale.localTimeOf(ptpTimeOfSample(lastSampleEnd, this.o.sampleRate)) + (this.o.sendDelayNs ?? 0);
  }

  /** The payload of the packet whose first sample is `first`: from the cache, or rendered and encoded. */
  private payloadOf(first: bigint): Uint8Array {
    const c = this.cache;
    if (!c) {
      this.signal.render(Number(first), this.framesPerPacket, this.o.channels, this.frameBuffer);
      return encodePcm(this.frameBuffer, this.o.encoding);
    }
    const slot = Number(first % BigInt(c.period)) / c.step;
    let payload = c.payloads[slot];
    if (!payload) {
      this.signal.render(Number(first), this.framesPerPacket, this.o.channels, this.frameBuffer);
      payload = c.payloads[slot] = encodePcm(this.frameBuffer, this.o.encoding);
    } else this.payloadCacheHits++;
    return payload;
  }

  private sendPacket(now: number): void {
    const first = this.firstSample + this.packetIndex * BigInt(this.framesPerPacket);
    // RTP header (RFC 3550 §5.1) as lab/net/rtp.ts serializeRtp writes it: V=2, no padding,
    // extension or CSRCs; marker on the first packet and
    // the first after a reboot.
    const d = this.datagram;
    const ts = rtpTimestampOf(first, this.mediaclkOffset);
    d[0] = 0x80;
    d[1] = (this.marker ? 0x80 : 0) | (this.payloadType & 0x7f);
    d[2] = this.sequence >>> 8;
    d[3] = this.sequence & 0xff;
    d[4] = ts >>> 24;
    d[5] = (ts >>> 16) & 0xff;
    d[6] = (ts >>> 8) & 0xff;
    d[7] = ts & 0xff;
    d[8] = this.ssrc >>> 24;
    d[9] = (this.ssrc >>> 16) & 0xff;
    d[10] = (this.ssrc >>> 8) & 0xff;
    d[11] = this.ssrc & 0xff;
    d.set(this.payloadOf(first), 12);
    this.socket.send(this.endpoint, d);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packetIndex++;
    this.marker = false;
    // In real time, when it actually left: a poll that catches up after a stall sends for a
    // while, and its last packets are later than the poll's start says.
    const lateness = Math.max(0, (this.realTime ? this.o.transport.now() : now) - this.nextDue);
    this.statsValue.packets++;
    this.latenessSum += lateness;
    if (lateness > this.statsValue.maxLatenessNs) this.statsValue.maxLatenessNs = lateness;
    if (lateness > this.latenessMaxSinceTaken) this.latenessMaxSinceTaken = lateness;
  }

  /** After a stall of more than a second, resume at the current packet rather than bursting. */
  private skipAhead(now: number): void {
    const media = mediaTimeOf(this.o.timescale.ptpTimeAt(now - (this.o.sendDelayNs ?? 0)), this.o.sampleRate);
    const target = (media - this.firstSample) / BigInt(this.framesPerPacket) - 1n;
    if (target > this.packetIndex) {
      this.statsValue.skipped += Number(target - this.packetIndex);
      this.packetIndex = target;
      this.nextDue = this.dueOf(this.packetIndex);
    }
  }
}
