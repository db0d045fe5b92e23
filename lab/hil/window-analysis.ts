// One window of what the DUT sent back, judged against what the lab sent: the round trip
// from the MLS probe (on the channel the rig's loopback map says carries it), every
// returned channel compared sample by sample with its sender channel delayed by that round
// trip (quantized as the path carries it), and the glitch detector on the first sine
// channel of each stream. Windows overlap; each glitch is counted once (only past the end
// of the stream's previous window). Pure: the worker thread (window-worker.ts) and tests
// call it alike.
import { detectChannelGlitches } from '../measure/glitches.ts';
import { measureLatency } from '../measure/latency.ts';
import { sineQuality } from '../measure/sine-quality.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { quantizeInPlace } from '../scenario/measure.ts';
import type { ChannelSignal } from '../scenario/sender-signal.ts';
import type { AnalysedSpan, MediaGap } from './loss-pairing.ts';
import type { PlannedTx } from './plan.ts';

const FULL_SCALE: Record<PcmEncoding, number> = { L16: 2 ** 15, L24: 2 ** 23, L32: 2 ** 31 };

export interface WindowAudio {
  stream: number;
  /** Media time of the first frame. */
  firstSample: number;
  channels: number;
  interleaved: Float32Array;
  framesPerPacket: number;
  /** Sender media the impairment relay dropped on its way into the DUT (loss-pairing.ts): left out of the sample comparison. */
  lost?: MediaGap[];
}

export interface WindowGlitch {
  stream: number;
  /** Stream channel (0-based) and the DUT output it carries. */
  channel: number;
  output: number;
  sample: number;
  length: number;
  kinds: string[];
}

export interface WindowResult {
  /** Round trip in samples from this window's probe, when it had one. */
  roundTrip?: number;
  confidence?: number;
  /** The round trip the comparison used (this window's, or the last one measured). */
  comparedWith?: number;
  mismatched: number;
  compared: number;
  notes: string[];
  glitches: WindowGlitch[];
  analysedChannels: number;
  /** The streams whose sine channel was analysed for glitches in this batch. */
  analysedStreams: number[];
  /** Media samples analysed for glitches, summed over channels. */
  glitchSamples: number;
  /** Sine quality of each stream's analysed channel (once per stream, its first window): measured against what was sent. */
  sines: { stream: number; output: number; expectedHz: number; frequencyHz: number; thdnDb: number; levelDbfs: number }[];
  /** The window had nothing back from the DUT. */
  nothingBack?: boolean;
  /** What of each stream's sine channel this batch newly looked at for glitches, with the round trip it was compared with. */
  spans?: AnalysedSpan[];
  /** Samples left out of the comparison as lost audio (the relay's drops, shifted by the round trip). */
  skippedAsLost?: number;
}

export interface SenderSignals {
  encoding: PcmEncoding;
  signals: ChannelSignal[];
  probeChannel?: number;
  probeDegree?: number;
}

export class WindowAnalyser {
  private lastRoundTrip?: number;
  /** Per stream: media time up to which glitches were already looked for. */
  private readonly analysedUpTo = new Map<number, number>();
  private readonly sineDone = new Set<number>();

  constructor(
    private readonly transmit: PlannedTx[],
    private readonly senders: SenderSignals[],
    private readonly rate: number,
  ) {}

  /** The steady part of a window: after its first two packets, before its last. */
  private region(w: WindowAudio): { from: number; to: number } {
    const frames = w.interleaved.length / w.channels;
    return { from: w.firstSample + 2 * w.framesPerPacket, to: w.firstSample + frames - w.framesPerPacket };
  }

  /** Analyses one window of every stream (the probe's stream first, so its round trip is used by all). */
  analyse(windows: WindowAudio[]): WindowResult {
    const result: WindowResult = { mismatched: 0, compared: 0, notes: [], glitches: [], analysedChannels: 0, analysedStreams: [], glitchSamples: 0, sines: [] };
    // 1. The round trip, from the channel the rig says carries the probe back.
    for (const w of windows) {
      const t = this.transmit[w.stream];
      const r = this.region(w);
      t.origins.forEach((o, k) => {
        if (!o || result.roundTrip !== undefined) return;
        const s = this.senders[o.sender];
        if (s.probeChannel !== o.channel || s.probeDegree === undefined) return;
        const n = 2 ** s.probeDegree - 1;
        const a = r.from;
        if (a + 2 * n - 1 > r.to) {
          result.notes.push(`window too short for one probe period (${2 * n - 1} samples)`);
          return;
        }
        const ref = s.signals[o.channel].signal.render(a, n, 1);
        const slice = new Float32Array(2 * n - 1);
        for (let i = 0; i < slice.length; i++) slice[i] = w.interleaved[(a - w.firstSample + i) * w.channels + k];
        const m = measureLatency({ mode: 'round-trip', sampleRate: this.rate, probe: ref, probeStartSample: a, capture: [slice], captureStartSample: a });
        result.roundTrip = m.channels[0].latencySamples;
        result.confidence = m.channels[0].confidence;
      });
    }
    if (result.roundTrip !== undefined) this.lastRoundTrip = result.roundTrip;
    const rt = this.lastRoundTrip;
    if (rt !== undefined) result.comparedWith = rt;

    // 2. Every channel sample by sample; 3. glitches on each stream's first sine channel.
    for (const w of windows) {
      const t = this.transmit[w.stream];
      const r = this.region(w);
      const len = r.to - r.from;
      if (len <= 0) continue;
      let glitchDone = false;
      t.origins.forEach((o, k) => {
        if (!o) return;
        const s = this.senders[o.sender];
        const cs = s.signals[o.channel];
        const x = new Float32Array(len);
        for (let i = 0; i < len; i++) x[i] = w.interleaved[(r.from - w.firstSample + i) * w.channels + k];
        if (rt !== undefined) {
          const q = quantizeInPlace(cs.signal.render(r.from - rt, len, 1), s.encoding);
          if (FULL_SCALE[t.encoding] < FULL_SCALE[s.encoding]) quantizeInPlace(q, t.encoding);
          // Lost audio (the relay's drops of this channel's sender) is not compared: it is judged as glitches.
          const skip = new Uint8Array(len);
          for (const g of w.lost ?? []) {
            if (g.sender !== o.sender) continue;
            const a = Math.max(0, g.from + rt - r.from);
            const b = Math.min(len, g.to + rt - r.from);
            if (b > a) skip.fill(1, a, b);
          }
          let wrong = 0;
          let skipped = 0;
          for (let i = 0; i < len; i++) {
            if (skip[i]) skipped++;
            else if (x[i] !== q[i]) wrong++;
          }
          result.skippedAsLost = (result.skippedAsLost ?? 0) + skipped;
          result.compared += len - skipped;
          result.mismatched += wrong;
          if (wrong > 0) result.notes.push(`${t.name} channel ${k + 1} (output ${o.output}): ${wrong} of ${len} samples differ from sender ${o.sender + 1} channel ${o.channel + 1}`);
        }
        if (glitchDone || cs.kind !== 'sine') return;
        glitchDone = true;
        result.analysedChannels++;
        if (!result.analysedStreams.includes(w.stream)) result.analysedStreams.push(w.stream);
        if (!this.sineDone.has(w.stream)) {
          // lab/measure/sine-quality with no frequency hint: it finds what came back.
          this.sineDone.add(w.stream);
          const q = sineQuality(x.subarray(0, Math.min(len, this.rate)), this.rate);
          result.sines.push({ stream: w.stream, output: o.output, expectedHz: cs.frequencyHz!, frequencyHz: q.frequencyHz, thdnDb: q.thdnDb, levelDbfs: 20 * Math.log10(q.amplitude) });
        }
        const det = detectChannelGlitches(x, this.rate, o.output, { captureStartSample: r.from, frequencyHz: cs.frequencyHz, trimSilence: false });
        const from = this.analysedUpTo.get(w.stream) ?? -Infinity;
        // Audio no window held (a window of this stream came back empty, or started late): a dropout as long as the hole.
        if (Number.isFinite(from) && r.from > from) result.glitches.push({ stream: w.stream, channel: k, output: o.output, sample: from, length: r.from - from, kinds: ['dropout'] });
        for (const g of det.glitches) {
          if (g.sample + g.length <= from) continue;
          result.glitches.push({ stream: w.stream, channel: k, output: o.output, sample: g.sample, length: g.length, kinds: [...g.kinds] });
        }
        result.glitchSamples += r.to - Math.max(r.from, Number.isFinite(from) ? from : r.from);
        if (rt !== undefined) (result.spans ??= []).push({ stream: w.stream, sender: o.sender, from: Math.max(r.from, Number.isFinite(from) ? from : r.from), to: r.to, roundTrip: rt });
      });
      this.analysedUpTo.set(w.stream, Math.max(this.analysedUpTo.get(w.stream) ?? -Infinity, r.to));
    }
    return result;
  }
}

/**
 * The streams analysed at least once whose last windows brought nothing back (emptySinceAudio:
 * per stream, the windows since the last that brought audio), or whose audio ended well before
 * their last window closed (quietAtEnd: a stop inside the last window, which leaves no empty
 * window after it): they stopped, and no later window shows the hole as a dropout, so each
 * counts as one glitch more.
 */
export function streamsStoppedAtEnd(emptySinceAudio: number[], analysedStreams: number[], quietAtEnd: boolean[] = []): number[] {
  return [...new Set(analysedStreams)].filter((i) => emptySinceAudio[i] > 0 || quietAtEnd[i] === true).sort((x, y) => x - y);
}
