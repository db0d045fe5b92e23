// The impairments' own record of what they did to audio: every RTP datagram the network's
// impairment model decided on (dropped, delayed, duplicated), and every stretch of media a
// sender never sent (a reboot's pause). It knows nothing of the device: the audio the
// device must have lost is worked out from this record alone (lab/scenario/expect-lost.ts)
// and then compared with what came back, so a device that hides or invents a loss, or
// counts its own losses wrongly, cannot make the comparison agree with itself.

export type LedgerDirection = 'in' | 'out';

export interface LedgerPacket {
  /** Destination "ip:port" of the stream. */
  endpoint: string;
  /** in: to the device's receive streams; out: the device's transmit streams. */
  direction: LedgerDirection;
  sequence: number;
  ssrc: number;
  rtpTimestamp: number;
  /** Local send time (ns). */
  sentAt: number;
  /** Extra delay (ns) of each delivered copy: [] lost, two entries a duplicate. */
  copies: number[];
}

/** Media that never went on the wire: RTP timestamps [fromTimestamp, fromTimestamp + frames) of one stream. */
export interface LedgerUnsent {
  endpoint: string;
  fromTimestamp: number;
  frames: number;
  /** Local send time (ns) of the first packet after the hole. */
  resumedAt: number;
  /** The packet after the hole came from another SSRC (a sender reboot). */
  newSsrc: boolean;
}

/** The wire carried nothing of one stream for a while, its media carrying on after (a sender's clock stepped back). */
export interface LedgerSilence {
  endpoint: string;
  /** RTP timestamp just after the last packet before the silence. */
  fromTimestamp: number;
  /** Send time of that last packet and of the next one (ns). */
  lastSentAt: number;
  resumedAt: number;
  /** The stream's packet interval on the wire (ns). */
  intervalNs: number;
}

interface StreamState {
  ssrcs: Set<number>;
  ssrc: number;
  lastSeq: number;
  lastTs: number;
  /** Frames per packet: the timestamp step between consecutive sequence numbers (0 until seen). */
  frames: number;
  seqWraps: number;
  tsWraps: number;
  lastSentAt: number;
  /** Smallest send interval between consecutive packets (ns; 0 until seen). */
  interval: number;
}

const u32 = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

export class LossLedger {
  /** Datagrams the impairment dropped, delayed or duplicated (untouched ones are not kept). */
  readonly packets: LedgerPacket[] = [];
  readonly unsent: LedgerUnsent[] = [];
  readonly silences: LedgerSilence[] = [];
  private readonly streams = new Map<string, StreamState>();

  /**
   * Every RTP datagram of a media stream as it enters the network, in send order, with the
   * copies the impairment model returned ([0] when it was not selected). Keeps the datagram
   * when it was dropped, delayed or duplicated; notes holes in the stream's media.
   */
  record(endpoint: string, direction: LedgerDirection, rtp: Uint8Array, sentAt: number, copies: number[]): void {
    if (rtp.length < 12) return;
    const sequence = (rtp[2] << 8) | rtp[3];
    const rtpTimestamp = u32(rtp, 4);
    const ssrc = u32(rtp, 8);
    this.observe(endpoint, sequence, rtpTimestamp, ssrc, sentAt);
    if (copies.length === 1 && copies[0] === 0) return;
    this.packets.push({ endpoint, direction, sequence, ssrc, rtpTimestamp, sentAt, copies: [...copies] });
  }

  private observe(endpoint: string, sequence: number, ts: number, ssrc: number, sentAt: number): void {
    const s = this.streams.get(endpoint);
    if (!s) {
      this.streams.set(endpoint, { ssrcs: new Set([ssrc]), ssrc, lastSeq: sequence, lastTs: ts, frames: 0, seqWraps: 0, tsWraps: 0, lastSentAt: sentAt, interval: 0 });
      return;
    }
    const newSsrc = ssrc !== s.ssrc;
    s.ssrcs.add(ssrc);
    const step = (ts - s.lastTs) >>> 0;
    if (!newSsrc && ((sequence - s.lastSeq) & 0xffff) === 1 && step > 0 && step < 0x80000000 && (s.frames === 0 || step < s.frames)) s.frames = step;
    // A wrap: numerically smaller, yet a small step forward modulo 2^16 / 2^32.
    if (!newSsrc && sequence < s.lastSeq && ((sequence - s.lastSeq) & 0xffff) < 0x8000) s.seqWraps++;
    if (ts < s.lastTs && step < 0x80000000) s.tsWraps++;
    // Media the wire never carried: the timestamp moved on by more than one packet.
    if (s.frames > 0 && step > s.frames && step < 0x80000000) {
      this.unsent.push({ endpoint, fromTimestamp: (s.lastTs + s.frames) >>> 0, frames: step - s.frames, resumedAt: sentAt, newSsrc });
    }
    const gap = sentAt - s.lastSentAt;
    if (gap > 0 && (s.interval === 0 || gap < s.interval)) s.interval = gap;
    // Silence: no packet for over four packet times although no media was skipped.
    if (s.interval > 0 && gap > 4 * s.interval && !(s.frames > 0 && step > s.frames && step < 0x80000000)) {
      this.silences.push({ endpoint, fromTimestamp: (s.lastTs + s.frames) >>> 0, lastSentAt: s.lastSentAt, resumedAt: sentAt, intervalNs: s.interval });
    }
    s.ssrc = ssrc;
    s.lastSeq = sequence;
    s.lastTs = ts;
    s.lastSentAt = sentAt;
  }

  /** What the ledger saw of one stream: SSRCs, sequence and timestamp wraps, frames per packet. */
  streamFacts(endpoint: string): { ssrcs: number; sequenceWraps: number; timestampWraps: number; framesPerPacket: number; lastTimestamp: number; lastSentAt: number } | undefined {
    const s = this.streams.get(endpoint);
    return s ? { ssrcs: s.ssrcs.size, sequenceWraps: s.seqWraps, timestampWraps: s.tsWraps, framesPerPacket: s.frames, lastTimestamp: s.lastTs, lastSentAt: s.lastSentAt } : undefined;
  }
}
