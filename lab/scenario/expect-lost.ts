// The audio a run ACTUALLY lost, worked out from the impairments' own record (the
// LossLedger the network tap keeps) and the device's configured timing, never from the
// device's counters or stamps of what it lost: then compared with the glitches heard in
// what came back. An audio packet into the device is lost when the network dropped it,
// when the wire never carried its media (a sender's reboot pause), or when it arrived
// after the device's IO cycle had read its first frame; one out of the device is lost
// when the network dropped it (the lab's receivers keep late packets).
//
// When does the device read frame m? The HAL host's cycle at device sample C reads input
// [C - B - inS, C - inS) (B the IO buffer, inS the input safety offset), which the device
// presents L frames (its link offset) behind media time (driver/core device.cpp readInput,
// driver/host hal_host.cpp). So frame m is read by the first cycle whose media time passes
// m + inS + L: at the local time of media m + inS + L + 1 at the earliest and of
// m + inS + L + B at the latest (the cycles' phase is not part of the configuration). A
// packet arriving in between is counted "undecidable": the expected glitches are exact
// only when there is none, and the verdict says so instead of guessing.
import { detectChannelGlitches, type Glitch } from '../measure/glitches.ts';
import { detectChannelGlitchesNative } from '../measure/native-glitches.ts';
import { mediaTimeOf } from '../net/ptp-timescale.ts';
import type { Aes67Receiver } from '../peers/aes67-receiver.ts';
import type { LedgerPacket } from '../impair/loss-ledger.ts';
import { clipRanges, mergeRanges, type MediaRange } from './device-log.ts';
import type { RunRecord } from './runner.ts';
import { returnedAudioFromDecoded, returnedAudioOf } from './returned-audio.ts';

type Value = number | string | boolean | null;

/** lab/measure/glitches' mergeGap default plus its predictor's tail: gaps closer than this are heard as one glitch. */
const HEARD_AS_ONE = 16 + 2;
/** A glitch and a gap of lost audio pair when they overlap within this many samples. */
const TOLERANCE = 4;

export const LEDGER_METRICS = ['glitches.expected', 'glitches.heard', 'glitches.equalsLedger', 'recovery.afterEvent', 'ledger.undecidable', 'ledger.lost', 'ledger.late', 'ledger.unsentFrames', 'ledger.ssrcChanges', 'ledger.sequenceWraps', 'ledger.timestampWraps', 'recovery.afterLoss'] as const;

/** The media time nearest `reference` whose low 32 bits (after the offset) are `rtp`. */
function unwrap(rtp: number, offset: number, reference: bigint): number {
  const low = BigInt((rtp - offset) >>> 0);
  let diff = (low - reference) & 0xffffffffn;
  if (diff >= 0x80000000n) diff -= 0x100000000n;
  return Number(reference + diff);
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

export interface ExpectedLoss {
  values: Map<string, Value>;
  why: Map<string, string>;
  figures: Record<string, Value>;
}

/**
 * The ledger metrics of a finished run (only called when the scenario expects one of them).
 * `reference`: glitches heard by the TypeScript detector in audio read from the recording's
 * blocks, as measure.ts's reference way; otherwise by the C++ one, in audio a native
 * receiver reads in place (the same glitches, measure-fast.test.ts).
 */
export function expectLost(r: RunRecord, options: { reference?: boolean } = {}): ExpectedLoss {
  const detectGlitchesIn = options.reference ? detectChannelGlitches : detectChannelGlitchesNative;
  const values = new Map<string, Value>();
  const why = new Map<string, string>();
  const figures: Record<string, Value> = {};
  const w = r.world;
  const s = w.scenario;
  const d = r.device;
  const rate = d.rate;
  const ledger = w.tap?.ledger;
  if (!ledger) {
    for (const m of LEDGER_METRICS) {
      values.set(m, null);
      why.set(m, 'the run had no impairment tap: give the scenario a network impairment (delay: 0s puts the tap on the path without changing any packet)');
    }
    return { values, why, figures };
  }
  const props = d.dut.properties();
  const B = props.ioBufferFrames;
  const L = props.inputLatencyFrames;
  const inS = props.inputSafetyOffsetFrames;
  const rtConfigured = L + inS + 2 * B + props.outputSafetyOffsetFrames;
  const localTimeOf = r.log.localTimeOf;
  const mediaAt = (localNs: number) => mediaTimeOf(w.time.ptpTimeAt(localNs), rate);
  const baseDelay = s.network.baseDelay;

  // ---- what was lost on the way in (device receive timeline) and out (transmit timeline) ----
  const rxOf = new Map(d.receive.map((x, i) => [x.config.destination, i]));
  const txOf = new Map(d.transmit.map((x, i) => [x.config.destination, i]));
  const lostIn: MediaRange[][] = d.receive.map(() => []);
  const lostOut: MediaRange[][] = d.transmit.map(() => []);
  let dropped = 0;
  let late = 0;
  let coveredDelay = 0;
  let undecidable = 0;
  const undecidableAt: string[] = [];
  for (const p of ledger.packets as LedgerPacket[]) {
    if (p.direction === 'out') {
      const t = txOf.get(p.endpoint);
      if (t === undefined || p.copies.length > 0) continue;
      const c = d.transmit[t].config;
      const m = unwrap(p.rtpTimestamp, c.mediaclkOffset ?? 0, mediaAt(p.sentAt));
      lostOut[t].push({ from: m, to: m + c.framesPerPacket });
      dropped++;
      continue;
    }
    const i = rxOf.get(p.endpoint);
    if (i === undefined) continue;
    const c = d.receive[i].config;
    const F = c.framesPerPacket;
    const m = unwrap(p.rtpTimestamp, c.mediaclkOffset ?? 0, mediaAt(p.sentAt));
    if (p.copies.length === 0) {
      lostIn[i].push({ from: m, to: m + F });
      dropped++;
      continue;
    }
    const arrival = p.sentAt + baseDelay + Math.min(...p.copies);
    const readEarliest = localTimeOf(m + inS + L + 1);
    const readLatest = localTimeOf(m + inS + L + B);
    if (arrival <= readEarliest) {
      if (Math.min(...p.copies) > 0) coveredDelay++;
      continue;
    }
    if (arrival <= readLatest) {
      undecidable++;
      if (undecidableAt.length < 4) undecidableAt.push(`${p.endpoint} seq ${p.sequence} at ${round(p.sentAt / 1e6)} ms`);
      continue;
    }
    // Frames read before it came: at least those whose latest read time passed.
    let end = m + 1;
    while (end < m + F && localTimeOf(end + inS + L + B) < arrival) end++;
    lostIn[i].push({ from: m, to: end });
    late++;
  }
  let unsentFrames = 0;
  for (const u of ledger.unsent) {
    const i = rxOf.get(u.endpoint);
    if (i === undefined) continue;
    const c = d.receive[i].config;
    const m = unwrap(u.fromTimestamp, c.mediaclkOffset ?? 0, mediaAt(u.resumedAt));
    lostIn[i].push({ from: m, to: m + u.frames });
    unsentFrames += u.frames;
  }
  // A silent wire with the media carrying on: the device reads on by its own clock and finds
  // nothing for as long as the wire was silent (beyond one packet time).
  let silentFrames = 0;
  for (const x of ledger.silences) {
    const i = rxOf.get(x.endpoint);
    if (i === undefined) continue;
    const c = d.receive[i].config;
    const m = unwrap(x.fromTimestamp, c.mediaclkOffset ?? 0, mediaAt(x.lastSentAt));
    const frames = Math.round(((x.resumedAt - x.lastSentAt - x.intervalNs) * rate) / 1e9);
    lostIn[i].push({ from: m, to: m + frames });
    silentFrames += frames;
  }
  figures['ledger.silentWireFrames'] = silentFrames;
  let ssrcChanges = 0;
  let seqWraps = 0;
  let tsWraps = 0;
  for (const x of d.receive) {
    const f = ledger.streamFacts(x.config.destination);
    if (!f) continue;
    ssrcChanges += f.ssrcs - 1;
    seqWraps += f.sequenceWraps;
    tsWraps += f.timestampWraps;
  }
  values.set('ledger.lost', dropped);
  values.set('ledger.late', late);
  values.set('ledger.undecidable', undecidable);
  values.set('ledger.unsentFrames', unsentFrames);
  values.set('ledger.ssrcChanges', ssrcChanges);
  values.set('ledger.sequenceWraps', seqWraps);
  values.set('ledger.timestampWraps', tsWraps);
  figures['ledger.delayedButCovered'] = coveredDelay;
  figures['ledger.readWindow'] = `frame m is read between media m + ${inS + L + 1} and m + ${inS + L + B} (input safety ${inS} + link offset ${L} + IO buffer ${B})`;
  if (undecidableAt.length) figures['ledger.undecidableAt'] = undecidableAt.join('; ');

  // ---- compared with what came back: the first sine channel of each returned stream ----
  let expectedCount = 0;
  let heard = 0;
  let paired = true;
  let recovery = 0;
  let analysed = 0;
  let shared = 0;
  /** Where the glitches were heard: the scenario time their audio was sent, and how long. */
  const glitchesAt: string[] = [];
  /** Scenario times (ns) the last glitch heard ends at, per analysed channel. */
  const glitchEnds: number[] = [];
  const notes: string[] = [];
  d.transmit.forEach((t, ti) => {
    const rec = r.receivers.find((x) => x.measures && x.stream === ti);
    // One channel read from the recorded bytes (returned-audio.ts), not the whole stream decoded.
    const receiver = rec?.receiver as Aes67Receiver | undefined;
    const view = receiver?.recording();
    const decoded = view ? undefined : receiver?.audio();
    // The reference way reads the recording's blocks, not its in-place reader.
    const audio = view ? returnedAudioOf(options.reference ? { ...view, inPlace: undefined } : view) : decoded ? returnedAudioFromDecoded(decoded) : undefined;
    if (!audio || audio.frames === 0) return;
    const k = t.origins.findIndex((o) => o !== null && o.sender.signals?.[o.channel].kind === 'sine');
    if (k < 0) return;
    const o = t.origins[k]!;
    const cs = o.sender.signals![o.channel];
    const first = Number(audio.firstSample);
    const frames = audio.frames;
    // The steady part: after the device's first packets of the origin, before its last.
    const fIn = d.receive[o.rx].config.framesPerPacket;
    const fOut = t.config.framesPerPacket;
    const log = r.log.receive[o.rx];
    let from = first + 2 * fOut;
    let to = first + frames - 2 * fOut;
    if (log.firstAccepted !== undefined) from = Math.max(from, log.firstAccepted + rtConfigured + 2 * fIn);
    // The end is the wire's last packet, not the device's: audio it refused must stay in view.
    const facts = ledger.streamFacts(d.receive[o.rx].config.destination);
    if (facts) to = Math.min(to, unwrap(facts.lastTimestamp, d.receive[o.rx].config.mediaclkOffset ?? 0, mediaAt(facts.lastSentAt)) + fIn + rtConfigured - 2 * fIn);
    if (to - from < 64) return;
    analysed++;
    const gaps = [...lostIn[o.rx].map((g) => ({ from: g.from + rtConfigured, to: g.to + rtConfigured })), ...lostOut[ti]];
    const expected = mergeRanges(clipRanges(mergeRanges(gaps), from, to), HEARD_AS_ONE);
    const x = audio.channel(k, from - first, to - from);
    const det = detectGlitchesIn(x, rate, t.config.deviceChannels[k], { captureStartSample: from, frequencyHz: cs.frequencyHz, trimSilence: false });
    const hits = (g: Glitch, e: MediaRange) => e.from < g.sample + g.length + TOLERANCE && e.to > g.sample - TOLERANCE;
    for (const g of det.glitches.slice(0, 6 - glitchesAt.length)) {
      glitchesAt.push(`${t.name} ${round((localTimeOf(g.sample - rtConfigured) - 0) / 1e9, 4)} s (${round((g.length * 1e3) / rate)} ms)`);
    }
    for (const g of det.glitches) glitchEnds.push(localTimeOf(g.sample + g.length - rtConfigured));
    expectedCount += expected.length;
    heard += det.glitches.length;
    const stray = det.glitches.filter((g) => !expected.some((e) => hits(g, e)));
    const silent = expected.filter((e) => !det.glitches.some((g) => hits(g, e)));
    if (stray.length || silent.length) paired = false;
    if (stray.length) notes.push(`${t.name}: ${stray.length} glitch(es) where nothing was lost, first at media ${stray[0].sample}`);
    if (silent.length) notes.push(`${t.name}: ${silent.length} gap(s) of lost audio not heard, first at media ${silent[0].from}`);
    // A gap heard as two glitches is one glitch too many; gaps a few packets apart may share one.
    for (const e of expected) {
      const n = det.glitches.filter((g) => hits(g, e)).length;
      if (n > 1) {
        paired = false;
        notes.push(`${t.name}: lost audio at media ${e.from} heard as ${n} glitches`);
      }
    }
    for (const g of det.glitches) {
      const at = expected.filter((e) => hits(g, e));
      if (at.length === 0) continue;
      shared += at.length - 1;
      recovery = Math.max(recovery, ((g.sample + g.length - Math.max(...at.map((e) => e.to))) * 1e9) / rate);
    }
  });
  if (analysed === 0) {
    for (const m of ['glitches.expected', 'glitches.heard', 'glitches.equalsLedger', 'recovery.afterLoss', 'recovery.afterEvent']) {
      values.set(m, null);
      why.set(m, 'no returned sine channel long enough to analyse');
    }
    return { values, why, figures };
  }
  figures['ledger.glitchesHeard'] = heard;
  figures['ledger.glitchesExpected'] = expectedCount;
  values.set('glitches.heard', heard);
  figures['ledger.gapsSharingAGlitch'] = shared;
  if (glitchesAt.length) figures['ledger.glitchesHeardAt'] = glitchesAt.join('; ');
  values.set('glitches.expected', expectedCount);
  // One glitch per stretch of lost audio, but stretches a few packets apart (an in and an
  // out loss, say) may be heard as one: counted, and the count must still add up.
  const equal = paired && heard + shared === expectedCount && undecidable === 0;
  values.set('glitches.equalsLedger', equal);
  if (!equal) {
    const parts = [...notes];
    if (heard + shared !== expectedCount) parts.push(`${heard} glitches heard (${shared} of them over two stretches), ${expectedCount} expected from the ledger`);
    if (undecidable > 0) parts.push(`${undecidable} packets arrived inside the IO cycle's read window (undecidable without the cycles' phase): change the delay or the seed`);
    why.set('glitches.equalsLedger', parts.join('; '));
  }
  // From the end of each stretch of lost audio to the end of the glitch heard there (ms).
  values.set('recovery.afterLoss', round(Math.max(0, recovery) / 1e6));
  figures['ledger.recoveryAfterLossMs'] = round(Math.max(0, recovery) / 1e6);
  // From the last grandmaster event or the end of the impairment window to the end of the
  // last glitch heard after it (over the whole analysed audio, wherever the device refused).
  const events = [...s.grandmasters.flatMap((g) => g.events.map((e) => e.at)), ...(s.network.active?.until !== undefined ? [s.network.active.until] : [])];
  if (events.length === 0) {
    values.set('recovery.afterEvent', null);
    why.set('recovery.afterEvent', 'needs a grandmaster event or network.active.until');
  } else {
    const last = Math.max(...events);
    const after = glitchEnds.filter((e) => e > last);
    values.set('recovery.afterEvent', round((after.length ? Math.max(...after) - last : 0) / 1e6));
  }
  return { values, why, figures };
}

/** measure.ts's hook: the ledger metrics and figures, when the scenario expects any of them. */
export function addExpectedLoss(r: RunRecord, values: Map<string, Value>, why: Map<string, string>, figures: Record<string, Value>, options: { reference?: boolean } = {}): void {
  if (!Object.keys(r.world.scenario.expect).some((k) => (LEDGER_METRICS as readonly string[]).includes(k))) return;
  const e = expectLost(r, options);
  for (const [k, v] of e.values) values.set(k, v);
  for (const [k, v] of e.why) why.set(k, v);
  Object.assign(figures, e.figures);
}
