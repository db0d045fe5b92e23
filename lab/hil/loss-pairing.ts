// Real time, through the impairment relay: the audio the network lost, worked out from the
// relay's own record (the LossLedger of every datagram it dropped, delayed or duplicated)
// and nothing the DUT says, then paired with the glitches heard in what came back. A
// packet the relay dropped on its way into the DUT is a gap of the sender's media
// [m, m + frames); through the loopback it comes back `roundTrip` later on the output the
// rig wires that input to. The judgement is the virtual runner's glitches.equalsLost
// (lab/scenario/measure.ts): every gap heard as a glitch at its place, every glitch heard
// at a gap, and the DUT counting lost exactly the packets the relay dropped. Unlike the
// virtual runner, late packets are not gaps here (the DUT's packet stamps are not read):
// a glitch from a packet delayed past the DUT's link offset is one the network's losses
// do not explain, which is what it is.
import type { LossLedger } from '../impair/loss-ledger.ts';

/** lab/measure/glitches' merge gap plus its predictor's tail (as lab/scenario/expect-lost.ts): gaps this close are heard as one glitch. */
export const HEARD_AS_ONE = 16 + 2;
/** A glitch and a gap pair when they overlap within this many samples. */
export const TOLERANCE = 4;
/** A gap is required to be heard only this far inside an analysed span (the detector needs context either side). */
export const EDGE_MARGIN = 64;

export interface MediaGap {
  sender: number;
  /** Sender media time, [from, to). */
  from: number;
  to: number;
}

/** What the windows analysed of one stream's sine channel: returned media time [from, to), its sender, the round trip used. */
export interface AnalysedSpan {
  stream: number;
  sender: number;
  from: number;
  to: number;
  roundTrip: number;
}

export interface HeardGlitch {
  stream: number;
  sample: number;
  length: number;
}

export interface LossPairing {
  /** Gaps of lost audio (merged as heard) that lay wholly inside an analysed span. */
  expected: number;
  /** Of those, heard as a glitch at their place. */
  heard: number;
  /** Glitches at no gap of lost audio. */
  unexplained: number;
  /** The first few of each, for the report. */
  notes: string[];
}

/** The sender-media gaps of the datagrams the relay dropped (copies []), per sender endpoint. */
export function lostMedia(
  ledger: LossLedger,
  senders: { endpoint: string; sender: number; mediaclkOffset: number; framesPerPacket: number; mediaAt: (localNs: number) => number }[],
): MediaGap[] {
  const out: MediaGap[] = [];
  for (const p of ledger.packets) {
    if (p.direction !== 'in' || p.copies.length > 0) continue;
    const s = senders.find((x) => x.endpoint === p.endpoint);
    if (!s) continue;
    // The media time nearest the send time whose low 32 bits, after the offset, are the timestamp.
    const reference = s.mediaAt(p.sentAt);
    let diff = ((p.rtpTimestamp - s.mediaclkOffset - reference) >>> 0) % 2 ** 32;
    if (diff >= 2 ** 31) diff -= 2 ** 32;
    const from = reference + diff;
    out.push({ sender: s.sender, from, to: from + s.framesPerPacket });
  }
  return out;
}

function merge(ranges: { from: number; to: number }[], gap: number): { from: number; to: number }[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: { from: number; to: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + gap) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** Pairs the gaps of lost audio with the glitches heard, span by span. */
export function pairLossWithGlitches(lost: MediaGap[], spans: AnalysedSpan[], glitches: HeardGlitch[]): LossPairing {
  const r: LossPairing = { expected: 0, heard: 0, unexplained: 0, notes: [] };
  const note = (s: string) => {
    if (r.notes.length < 8) r.notes.push(s);
  };
  const hits = (g: HeardGlitch, e: { from: number; to: number }) => e.from < g.sample + g.length + TOLERANCE && e.to > g.sample - TOLERANCE;
  // Every gap, on every stream that carries its sender, as it comes back (by each span's round trip).
  const returnedGaps = new Map<number, { from: number; to: number }[]>();
  for (const sp of spans) {
    const gaps = lost.filter((g) => g.sender === sp.sender).map((g) => ({ from: g.from + sp.roundTrip, to: g.to + sp.roundTrip }));
    const inSpan = merge(gaps.filter((g) => g.to > sp.from - EDGE_MARGIN && g.from < sp.to + EDGE_MARGIN), HEARD_AS_ONE);
    returnedGaps.set(sp.stream, [...(returnedGaps.get(sp.stream) ?? []), ...inSpan]);
    for (const e of inSpan) {
      if (e.from < sp.from + EDGE_MARGIN || e.to > sp.to - EDGE_MARGIN) continue;
      r.expected++;
      if (glitches.some((g) => g.stream === sp.stream && hits(g, e))) r.heard++;
      else note(`stream ${sp.stream + 1}: lost audio at media ${e.from}..${e.to} was not heard`);
    }
  }
  for (const g of glitches) {
    if ((returnedGaps.get(g.stream) ?? []).some((e) => hits(g, e))) continue;
    r.unexplained++;
    note(`stream ${g.stream + 1}: a glitch at media ${g.sample} (${g.length} samples) where the relay dropped nothing`);
  }
  return r;
}
