// One RTP stream (destination and SSRC) as the analyzer sees it: integrity, packet
// interval (PIT), Δ packet time vs RTP timestamp and TS-DF (EBU Tech 3337), DSCP, payload
// sizes and time-stamp steps for format detection, and Wireshark's figures beside them.
import { WiresharkRtpStats } from './wireshark-rtp-stats.ts';

export const PIT_HISTOGRAM_BIN_US = 10;
const RECENT_SEQS = 512;

export class RtpStreamAnalysis {
  readonly wireshark = new WiresharkRtpStats();
  packets = 0;
  duplicates = 0;
  reordered = 0;
  payloadSizeChanges = 0;
  payloadTypeChanges = 0;
  readonly payloadSizes = new Map<number, number>();
  readonly tsSteps = new Map<number, number>();
  readonly dscp = new Map<number, number>();
  readonly payloadTypes = new Map<number, number>();
  macMismatches = 0;
  multicastSeen = false;
  truncated = 0;
  firstFrame = 0;
  /** Packet interval (µs) statistics. */
  pitMin = Infinity;
  pitMax = -Infinity;
  pitSum = 0;
  pitCount = 0;
  readonly pitHistogram = new Map<number, number>();
  /** Δ packet time − RTP timestamp time (µs), over packets. */
  deltaMin = Infinity;
  deltaMax = -Infinity;
  deltaSum = 0;
  deltaCount = 0;
  /** TS-DF (µs): max over windows of (max D − min D). */
  tsdfMax = 0;
  tsdfWindows = 0;
  private tsdfWindowStartNs = -1;
  private tsdfRefArrivalNs = 0;
  private tsdfRefTs = 0;
  private tsdfDMin = 0;
  private tsdfDMax = 0;

  private lastArrivalNs = -1;
  private lastSeq = -1;
  private highestExtSeq = -1;
  private lastPayloadSize = -1;
  private lastPt = -1;
  private lastTs = 0;
  private readonly recent = new Int32Array(RECENT_SEQS).fill(-1);

  constructor(
    readonly sourceIp: number,
    readonly sourcePort: number,
    readonly destinationIp: number,
    readonly destinationPort: number,
    readonly ssrc: number,
  ) {}

  /**
   * One packet. `arrivalNs` is capture time relative to the capture start (double ns),
   * `absSec`/`absNsec` the absolute capture time for Δ against the media clock.
   */
  add(
    arrivalNs: number,
    relMs: number,
    absSec: number,
    absNsec: number,
    seq: number,
    timestamp: number,
    marker: boolean,
    payloadType: number,
    payloadSize: number,
    dscp: number,
    macOk: boolean,
    clockRate: number,
    mediaclkOffset: number,
    tsdfWindowNs: number,
    frameNumber: number,
    /** The rate Wireshark would know at this packet (SDP seen earlier, or static PT). */
    wiresharkRate: number,
  ): void {
    if (this.packets === 0) this.firstFrame = frameNumber;
    this.wireshark.add(relMs, seq, timestamp, marker, wiresharkRate);
    this.count(this.dscp, dscp);
    this.count(this.payloadTypes, payloadType);
    this.count(this.payloadSizes, payloadSize);
    if (!macOk) this.macMismatches++;
    if (this.lastPayloadSize >= 0 && payloadSize !== this.lastPayloadSize) this.payloadSizeChanges++;
    if (this.lastPt >= 0 && payloadType !== this.lastPt) this.payloadTypeChanges++;
    this.lastPayloadSize = payloadSize;
    this.lastPt = payloadType;

    // Duplicates: the same sequence number seen among the recent ones; reordered: older than
    // the highest seen and not a duplicate.
    const slot = seq % RECENT_SEQS;
    let extSeq = seq;
    if (this.highestExtSeq >= 0) {
      const d = ((seq - (this.highestExtSeq & 0xffff) + 0x8000) & 0xffff) - 0x8000;
      extSeq = this.highestExtSeq + d;
    }
    if (this.recent[slot] === seq && this.packets > 0 && extSeq <= this.highestExtSeq) this.duplicates++;
    else if (this.highestExtSeq >= 0 && extSeq < this.highestExtSeq) this.reordered++;
    this.recent[slot] = seq;
    const inOrder = extSeq > this.highestExtSeq;
    if (inOrder) this.highestExtSeq = extSeq;

    if (this.lastArrivalNs >= 0 && inOrder) {
      const pit = (arrivalNs - this.lastArrivalNs) / 1000;
      if (pit < this.pitMin) this.pitMin = pit;
      if (pit > this.pitMax) this.pitMax = pit;
      this.pitSum += pit;
      this.pitCount++;
      this.count(this.pitHistogram, Math.floor(pit / PIT_HISTOGRAM_BIN_US) * PIT_HISTOGRAM_BIN_US);
      if (seq === ((this.lastSeq + 1) & 0xffff)) this.count(this.tsSteps, (timestamp - this.lastTs) >>> 0);
    }
    if (inOrder) {
      this.lastArrivalNs = arrivalNs;
      this.lastSeq = seq;
      this.lastTs = timestamp;
    }

    if (clockRate > 0) {
      // Δ (EBU LIST): capture time minus the time the RTP timestamp stands for on the media
      // clock (PTP epoch, minus the SDP mediaclk offset), unwrapped to the nearest 2^32 cycle.
      // Whole-second ticks are an exact integer (< 2^53); reduce before adding the fraction,
      // or the fraction drowns in the magnitude (0.3 µs steps at today's epoch).
      const ticksNow = (((absSec * clockRate) % 4294967296) + (absNsec * clockRate) / 1e9) % 4294967296;
      const mediaTs = (timestamp - mediaclkOffset) >>> 0;
      let diff = (ticksNow - mediaTs) % 4294967296;
      if (diff > 2147483648) diff -= 4294967296;
      else if (diff < -2147483648) diff += 4294967296;
      const deltaUs = (diff * 1e6) / clockRate;
      if (deltaUs < this.deltaMin) this.deltaMin = deltaUs;
      if (deltaUs > this.deltaMax) this.deltaMax = deltaUs;
      this.deltaSum += deltaUs;
      this.deltaCount++;
      this.tsdf(arrivalNs, timestamp, clockRate, tsdfWindowNs);
    }
    this.packets++;
  }

  /** EBU Tech 3337: D(i) = (R(i) − R(ref)) − (S(i) − S(ref)) within each window. */
  private tsdf(arrivalNs: number, timestamp: number, clockRate: number, windowNs: number): void {
    if (this.tsdfWindowStartNs < 0 || arrivalNs - this.tsdfWindowStartNs >= windowNs) {
      if (this.tsdfWindowStartNs >= 0) this.closeTsdfWindow();
      this.tsdfWindowStartNs = arrivalNs;
      this.tsdfRefArrivalNs = arrivalNs;
      this.tsdfRefTs = timestamp;
      this.tsdfDMin = 0;
      this.tsdfDMax = 0;
      return;
    }
    const sNs = ((((timestamp - this.tsdfRefTs) | 0) * 1e9) / clockRate);
    const d = arrivalNs - this.tsdfRefArrivalNs - sNs;
    if (d < this.tsdfDMin) this.tsdfDMin = d;
    if (d > this.tsdfDMax) this.tsdfDMax = d;
  }

  private closeTsdfWindow(): void {
    const v = (this.tsdfDMax - this.tsdfDMin) / 1000;
    if (v > this.tsdfMax) this.tsdfMax = v;
    this.tsdfWindows++;
  }

  finish(): void {
    if (this.tsdfWindowStartNs >= 0) {
      this.closeTsdfWindow();
      this.tsdfWindowStartNs = -1;
    }
  }

  private count(m: Map<number, number>, k: number): void {
    m.set(k, (m.get(k) ?? 0) + 1);
  }
}

/** The value seen most often in a counting map, or undefined. */
export function mostCommon(m: Map<number, number>): number | undefined {
  let best: number | undefined;
  let bestCount = -1;
  for (const [k, c] of m) if (c > bestCount) [best, bestCount] = [k, c];
  return best;
}
