// What the device under test logged, folded as it is drained (EmulatedDut's packet and
// cycle stamp rings are bounded, so the runner empties them every slice of virtual time):
// per receive stream, the media ranges it never placed in its playout buffer (gaps), the
// packets it refused (late, too early) or dropped as duplicates, the transit of accepted
// packets against its own media clock (for the latency attribution and the drift between
// a sender's clock and its own); per IO cycle, how far behind and ahead of "now" the HAL
// read and wrote (the safety offsets and buffer the attribution needs).
import type { DutCycleStamp, DutPacketStamp, DutStampFold } from '../../native/driver.ts';

export interface MediaRange {
  from: number;
  to: number;
}

export interface ReceiveLog {
  framesPerPacket: number;
  /** Media time of the first frame of the first accepted packet, or undefined. */
  firstAccepted?: number;
  /** End (exclusive) of the highest accepted packet. */
  acceptedEnd?: number;
  /** Ranges between accepted packets that nothing filled, in media order. */
  gaps: MediaRange[];
  /** Ranges of packets received but not placed (not duplicates): late or too early. */
  refused: MediaRange[];
  duplicates: number;
  packets: number;
  /** Arrival minus the device media clock's local time of the packet's first sample (ns). */
  transitCount: number;
  transitSum: number;
  transitMin: number;
  transitMax: number;
  /** Least-squares sums of transit (ns) against arrival (s), for the drift slope. */
  reg: { n: number; sx: number; sy: number; sxx: number; sxy: number; x0: number };
}

export class DeviceLog {
  readonly receive: ReceiveLog[];
  readonly sentPackets: number[];
  cycles = 0;
  /** currentTime - inputTime and outputTime - currentTime over every cycle (frames). */
  inputSpan = { min: Infinity, max: -Infinity };
  outputSpan = { min: Infinity, max: -Infinity };
  cycleFrames = { min: Infinity, max: -Infinity };

  constructor(
    receiveFramesPerPacket: number[],
    transmitStreams: number,
    /** Local time (ns) at which device media sample `m` begins. */
    readonly localTimeOf: (m: number) => number,
  ) {
    this.receive = receiveFramesPerPacket.map((f) => ({
      framesPerPacket: f,
      gaps: [],
      refused: [],
      duplicates: 0,
      packets: 0,
      transitCount: 0,
      transitSum: 0,
      transitMin: Infinity,
      transitMax: -Infinity,
      reg: { n: 0, sx: 0, sy: 0, sxx: 0, sxy: 0, x0: NaN },
    }));
    this.sentPackets = new Array(transmitStreams).fill(0);
  }

  /** End (exclusive) of the device input the HAL has read so far, in device sample time. */
  private readEnd = -Infinity;

  /**
   * One slice of stamps, in time order: a packet arriving at a cycle's wake time was placed
   * before that cycle read (EmulatedDut polls its sockets first).
   */
  addSlice(packets: DutPacketStamp[], cycles: DutCycleStamp[]): void {
    let c = 0;
    for (const p of packets) {
      while (c < cycles.length && cycles[c].wakeHostTime < p.hostTime) this.addCycle(cycles[c++]);
      this.addPacket(p);
    }
    while (c < cycles.length) this.addCycle(cycles[c++]);
  }

  /**
   * addSlice of EmulatedDut stampColumns(): the same stamps as rows of numbers, read through
   * one scratch stamp each (addPacket and addCycle keep no reference to it).
   */
  addStampColumns({ packets, cycles }: { packets: Float64Array; cycles: Float64Array }): void {
    const p = this.packetScratch;
    const c = this.cycleScratch;
    const cycleAt = (j: number) => {
      c.cycle = cycles[j];
      c.predictedHostTime = cycles[j + 1];
      c.wakeHostTime = cycles[j + 2];
      c.currentTime = cycles[j + 3];
      c.inputTime = cycles[j + 4];
      c.outputTime = cycles[j + 5];
      c.mediaCurrentTime = cycles[j + 6];
      c.frames = cycles[j + 7];
      c.hostTicksPerFrame = cycles[j + 8];
      return c;
    };
    let j = 0;
    for (let i = 0; i < packets.length; i += 9) {
      p.direction = packets[i] === 1 ? 'received' : 'sent';
      p.accepted = packets[i + 1] === 1;
      p.stream = packets[i + 2];
      p.sequence = packets[i + 3];
      p.rtpTimestamp = packets[i + 4];
      p.frames = packets[i + 5];
      p.mediaTime = packets[i + 6];
      p.hostTime = packets[i + 7];
      p.deviceTime = packets[i + 8];
      while (j < cycles.length && cycles[j + 2] < p.hostTime) {
        this.addCycle(cycleAt(j));
        j += 9;
      }
      this.addPacket(p);
    }
    for (; j < cycles.length; j += 9) this.addCycle(cycleAt(j));
  }

  /**
   * Takes what EmulatedDut's C++ fold of the same stamps holds (startStampFold, foldStamps):
   * this log then reads as if every slice had gone through addSlice. Only into a fresh log.
   */
  absorb(f: DutStampFold): void {
    if (this.cycles !== 0 || this.receive.some((r) => r.packets !== 0) || this.sentPackets.some((n) => n !== 0)) throw new Error('DeviceLog.absorb: the log already holds stamps');
    if (f.receive.length !== this.receive.length || f.sentPackets.length !== this.sentPackets.length) throw new Error(`DeviceLog.absorb: the fold has ${f.receive.length} receive and ${f.sentPackets.length} transmit streams, the log ${this.receive.length} and ${this.sentPackets.length}`);
    const ranges = (a: Float64Array) => Array.from({ length: a.length / 2 }, (_, i) => ({ from: a[2 * i], to: a[2 * i + 1] }));
    f.receive.forEach((x, i) => {
      const r = this.receive[i];
      if (x.firstAccepted !== undefined) r.firstAccepted = x.firstAccepted;
      if (x.acceptedEnd !== undefined) r.acceptedEnd = x.acceptedEnd;
      r.gaps = ranges(x.gaps);
      r.refused = ranges(x.refused);
      r.duplicates = x.duplicates;
      r.packets = x.packets;
      r.transitCount = x.transitCount;
      r.transitSum = x.transitSum;
      r.transitMin = x.transitMin;
      r.transitMax = x.transitMax;
      r.reg = { ...x.reg };
    });
    f.sentPackets.forEach((n, i) => (this.sentPackets[i] = n));
    this.cycles = f.cycles;
    this.inputSpan = { ...f.inputSpan };
    this.outputSpan = { ...f.outputSpan };
    this.cycleFrames = { ...f.cycleFrames };
  }

  private readonly packetScratch: DutPacketStamp = { direction: 'sent', accepted: false, stream: 0, sequence: 0, rtpTimestamp: 0, frames: 0, mediaTime: 0, hostTime: 0, deviceTime: 0 };
  private readonly cycleScratch: DutCycleStamp = { cycle: 0, predictedHostTime: 0, wakeHostTime: 0, currentTime: 0, inputTime: 0, outputTime: 0, mediaCurrentTime: 0, frames: 0, hostTicksPerFrame: 0 };

  private addPacket(s: DutPacketStamp): void {
    if (s.direction === 'sent') {
      this.sentPackets[s.stream]++;
      return;
    }
    const r = this.receive[s.stream];
    r.packets++;
    if (s.frames === 0) return; // not RTP of this stream's shape: counted by the receiver
    let from = s.mediaTime;
    const to = from + s.frames;
    if (!s.accepted) {
      if (r.acceptedEnd !== undefined && to <= r.acceptedEnd && !overlaps(r.gaps, from, to)) r.duplicates++;
      else r.refused.push({ from, to });
      return;
    }
    // Placed, but the reader had passed its first frames: those were skipped (late).
    const passed = this.readEnd - s.deviceTime;
    if (passed > 0) {
      r.refused.push({ from, to: from + Math.min(passed, s.frames) });
      from += Math.min(passed, s.frames);
    }
    const transit = s.hostTime - this.localTimeOf(s.mediaTime);
    r.transitCount++;
    r.transitSum += transit;
    if (transit < r.transitMin) r.transitMin = transit;
    if (transit > r.transitMax) r.transitMax = transit;
    const g = r.reg;
    if (Number.isNaN(g.x0)) g.x0 = s.hostTime;
    const x = (s.hostTime - g.x0) / 1e9;
    g.n++;
    g.sx += x;
    g.sy += transit;
    g.sxx += x * x;
    g.sxy += x * transit;
    if (r.firstAccepted === undefined || r.acceptedEnd === undefined) {
      r.firstAccepted = from;
      r.acceptedEnd = to;
    } else if (from >= r.acceptedEnd) {
      if (from > r.acceptedEnd) r.gaps.push({ from: r.acceptedEnd, to: from });
      r.acceptedEnd = to;
    } else {
      // Placed although behind the highest: a reordered packet filling (part of) a gap.
      r.gaps = subtract(r.gaps, from, to);
      if (to > r.acceptedEnd) r.acceptedEnd = to;
    }
  }

  private addCycle(c: DutCycleStamp): void {
    this.cycles++;
    if (c.inputTime + c.frames > this.readEnd) this.readEnd = c.inputTime + c.frames;
    const inSpan = c.currentTime - c.inputTime;
    const outSpan = c.outputTime - c.currentTime;
    if (inSpan < this.inputSpan.min) this.inputSpan.min = inSpan;
    if (inSpan > this.inputSpan.max) this.inputSpan.max = inSpan;
    if (outSpan < this.outputSpan.min) this.outputSpan.min = outSpan;
    if (outSpan > this.outputSpan.max) this.outputSpan.max = outSpan;
    if (c.frames < this.cycleFrames.min) this.cycleFrames.min = c.frames;
    if (c.frames > this.cycleFrames.max) this.cycleFrames.max = c.frames;
  }

  /** Slope of transit over arrival, ns per s = ppm x 1e3; positive: packets come later and later (the sender is slow). */
  transitSlopePpm(stream: number): number | null {
    const g = this.receive[stream].reg;
    const den = g.n * g.sxx - g.sx * g.sx;
    if (g.n < 3 || den <= 0) return null;
    return (g.n * g.sxy - g.sx * g.sy) / den / 1e3;
  }
}

function overlaps(ranges: MediaRange[], from: number, to: number): boolean {
  for (const r of ranges) if (r.from < to && r.to > from) return true;
  return false;
}

/** `ranges` minus [from, to). */
export function subtract(ranges: MediaRange[], from: number, to: number): MediaRange[] {
  const out: MediaRange[] = [];
  for (const r of ranges) {
    if (r.to <= from || r.from >= to) {
      out.push(r);
      continue;
    }
    if (r.from < from) out.push({ from: r.from, to: from });
    if (r.to > to) out.push({ from: to, to: r.to });
  }
  return out;
}

/** Sorted, with ranges less than `gap` apart joined. */
export function mergeRanges(ranges: MediaRange[], gap = 0): MediaRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: MediaRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + gap) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** Ranges clipped to [from, to); empty ones dropped. */
export function clipRanges(ranges: MediaRange[], from: number, to: number): MediaRange[] {
  return ranges.map((r) => ({ from: Math.max(r.from, from), to: Math.min(r.to, to) })).filter((r) => r.to > r.from);
}
