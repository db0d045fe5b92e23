// RTP stream statistics computed the way Wireshark's RTP analysis tap does (the figures
// `tshark -z rtp,streams` prints): lost from the sequence span, Δ between packets, and
// RFC 3550 §6.4.1 interarrival jitter J += (|D| − J)/16 in ms, only when the clock rate is
// known. Kept separate from the lab's own metrics so it can be held to tshark exactly.

export class WiresharkRtpStats {
  packets = 0;
  private first = true;
  private startSeq = 0;
  private stopSeq = 0;
  private seqNum = 0;
  private seqCycles = 0;
  private under = false;
  private time = 0; // ms of the last in-order packet
  private seqTimestamp = 0; // extended timestamp of the last in-order packet
  private extTimestamp = 0;
  private lastTs = 0;
  private delta = 0;
  jitter = 0;
  minDelta = -1;
  maxDelta = 0;
  meanDelta = 0;
  minJitter = -1;
  maxJitter = 0;
  meanJitter = 0;
  sequenceErrors = 0;
  firstTimeMs = 0;
  /** The last non-zero clock rate used (0: jitter never computed). */
  clockRate = 0;
  lastTimeMs = 0;

  /** One packet; `timeMs` is relative to the capture's first frame, as Wireshark's rel_ts. */
  add(timeMs: number, seq: number, timestamp: number, marker: boolean, clockRate: number): void {
    // Extended (unwrapped) RTP timestamp, as the RTP dissector keeps per stream.
    if (this.packets === 0) this.extTimestamp = timestamp;
    else this.extTimestamp += ((timestamp - this.lastTs) | 0);
    this.lastTs = timestamp;
    const ext = this.extTimestamp;
    this.lastTimeMs = timeMs;
    if (this.first) {
      this.first = false;
      this.startSeq = this.stopSeq = this.seqNum = seq;
      this.time = timeMs;
      this.firstTimeMs = timeMs;
      this.seqTimestamp = ext;
      this.packets++;
      return;
    }
    const inTimeSequence = this.seqTimestamp <= ext;
    const wrongTimestamp = !inTimeSequence;
    if (seq < this.startSeq && inTimeSequence && !this.under) {
      this.seqCycles++;
      this.under = true;
    } else if (seq === 0 && this.stopSeq === 65535 && inTimeSequence && !this.under) {
      this.seqCycles++;
      this.under = true;
    } else if (seq > this.startSeq && inTimeSequence && this.under) {
      this.under = false;
    }
    if (inTimeSequence && this.seqNum + 1 === seq) this.seqNum = seq;
    else if (inTimeSequence && this.seqNum === 65535 && seq === 0) this.seqNum = seq;
    else if (inTimeSequence && (this.seqNum + 1 < seq || this.seqNum - seq > 0xff00)) {
      this.seqNum = seq;
      this.sequenceErrors++;
    } else if (this.seqNum + 1 > seq) this.sequenceErrors++;

    let currentJitter = this.jitter;
    if (clockRate !== 0) {
      this.clockRate = clockRate;
      const nominalDiff = (ext - this.seqTimestamp) / (clockRate / 1000);
      const expected = this.time + nominalDiff;
      const diff = Math.abs(timeMs - expected);
      currentJitter = (15 * this.jitter + diff) / 16;
      this.delta = timeMs - this.time;
      this.jitter = currentJitter;
    } else {
      this.delta = timeMs - this.time;
    }
    if (!marker && !wrongTimestamp) {
      if (this.delta > this.maxDelta) this.maxDelta = this.delta;
      if (this.minDelta === -1 || this.delta < this.minDelta) this.minDelta = this.delta;
      this.meanDelta = (this.meanDelta * (this.packets - 1) + this.delta) / this.packets;
      if (clockRate !== 0) {
        if (this.jitter > this.maxJitter) this.maxJitter = this.jitter;
        this.meanJitter = (this.meanJitter * (this.packets - 1) + currentJitter) / this.packets;
        if (this.minJitter === -1 || this.jitter < this.minJitter) this.minJitter = this.jitter;
      }
    }
    if (inTimeSequence) {
      this.time = timeMs;
      this.seqTimestamp = ext;
    }
    this.stopSeq = seq;
    this.packets++;
  }

  /** Expected minus received, as Wireshark counts it (negative with duplicates). */
  get lost(): number {
    return this.expected - this.packets;
  }

  get expected(): number {
    return this.stopSeq + this.seqCycles * 65536 - this.startSeq + 1;
  }
}
