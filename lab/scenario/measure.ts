// What a finished run measured, as the metrics of metrics.ts, the report's series and its
// figures. The reference is always independent of the device: what a sender sent is
// rendered again from its signal (a function of the sample index), what the network lost
// comes from the impairment hook, what came back from the lab's own receivers; the
// device's own stamps and counters are used to attribute and explain, and are checked
// against those.
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { detectChannelGlitches, joinGlitchCauses, type EngineGlitchLog, type Glitch } from '../measure/glitches.ts';
import { attributeLatency, measureLatency, type LatencyMeasurement, type LatencyStage } from '../measure/latency.ts';
import { mediaTimeOf } from '../net/ptp-timescale.ts';
import type { Aes67Receiver } from '../peers/aes67-receiver.ts';
import type { DanteAes67Receiver } from '../peers/dante-aes67-receiver.ts';
import { glitchMarks, latencySamples, pitHistogramFromAnalysis } from '../report/from-measure.ts';
import { judge } from '../report/judge.ts';
import type { Expectation, GlitchMark, Histogram, LatencySamples, Series } from '../report/schema.ts';
import { clipRanges, mergeRanges, type MediaRange } from './device-log.ts';
import { limitOf, METRICS } from './metrics.ts';
import { addExpectedLoss } from './expect-lost.ts';
import type { RunRecord } from './runner.ts';
import { DEVICE_ADDRESS } from './world.ts';
import { expectedSamples } from './expected-audio.ts';
import { returnedAudioFromDecoded, returnedAudioOf } from './returned-audio.ts';
import { loadNative } from '../../native/index.ts';
import { detectChannelGlitchesNative } from '../measure/native-glitches.ts';
import { fftNative } from '../signal/native-fft.ts';
import { judgeOnPurpose } from '../report/judge.ts';
import { lastGrandmasterEvent } from './device-ptp.ts';
import { FALSE_LOCK_ERROR_NS, FALSE_LOCK_STALE_NS } from './ptp-sample-tally.ts';

type Value = number | string | boolean | null;

export interface Measured {
  expectations: Expectation[];
  ptpOffset: Series[];
  playoutFill: Series[];
  latency: LatencySamples[];
  pitHistogram: Histogram[];
  glitches: GlitchMark[];
  figures: Record<string, Value>;
}

/** Longest stretch of returned audio a lab receiver records for measurement. */
export const MAX_RECORD_S = 60;
/** Playout fill is judged from this long after the device started (start-up excluded). */
export const SETTLE_NS = 200_000_000;

/** The glitch detector joins intervals closer than this (lab/measure/glitches mergeGap default) ... */
const DETECTOR_MERGE_GAP = 16;
/** ... and a gap's prediction error runs this many samples past its end. */
const PREDICTOR_TAIL = 2;
/** Probe windows measured at most per run. */
const MAX_PROBE_WINDOWS = 12;
const DANTE_BADNESS = ['subscribed', 'no-audio', 'unresolved', 'prohibited'];

const round = (x: number, digits = 6) => Number(x.toFixed(digits));

/** The media time nearest `reference` whose low 32 bits (after the offset) are `rtp`. */
function unwrap(rtp: number, offset: number, reference: bigint): number {
  const low = BigInt((rtp - offset) >>> 0);
  let diff = (low - reference) & 0xffffffffn;
  if (diff >= 0x80000000n) diff -= 0x100000000n;
  return Number(reference + diff);
}

export { quantizeInPlace } from './expected-audio.ts';

/** Channel `k` of `interleaved` from frame `offset` into `out`; counts samples differing from `expected` where `skip` is 0 (the reference way). */
function compareChannel(interleaved: Float32Array, channels: number, k: number, offset: number, expected: Float32Array, skip: Uint8Array, out: Float32Array): { wrong: number; compared: number } {
  let wrong = 0;
  let compared = 0;
  for (let i = 0; i < out.length; i++) {
    const v = interleaved[(offset + i) * channels + k];
    out[i] = v;
    if (skip[i]) continue;
    compared++;
    if (v !== expected[i]) wrong++;
  }
  return { wrong, compared };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export interface MeasureOptions {
  /**
   * The returned audio the straightforward way, kept to check the fast one
   * (measure-fast.test.ts): every returned stream decoded whole into floats
   * (recordedAudio), each compared channel's expected samples rendered and quantised over
   * its whole span, and compared through a mask of its gaps. The fast way reads each
   * channel from the recorded payload bytes (returned-audio.ts; a native receiver's where
   * its recording holds them, native/src/recorded_channel.hpp), compares it with one
   * quantised period of a periodic signal (expected-audio.ts), gap by gap. The reference
   * way detects glitches with the TypeScript detector (lab/measure/glitches.ts) and
   * correlates the latency probe with the TypeScript FFT (lab/signal/fft.ts), the fast way
   * with the C++ ones (lab/measure/native-glitches.ts, lab/signal/native-fft.ts).
   */
  reference?: boolean;
}

export function measureScenario(r: RunRecord, options: MeasureOptions = {}): Measured {
  const reference = options.reference ?? false;
  const detectGlitchesIn = reference ? detectChannelGlitches : detectChannelGlitchesNative;
  const latencyOptions = reference ? undefined : { transform: fftNative };
  const w = r.world;
  const s = w.scenario;
  const d = r.device;
  const rate = d.rate;
  const props = d.dut.properties();
  const B = props.ioBufferFrames;
  const L = props.inputLatencyFrames;
  const rtConfigured = L + props.inputSafetyOffsetFrames + 2 * B + props.outputSafetyOffsetFrames;
  const values = new Map<string, Value>();
  const why = new Map<string, string>();
  const figures: Record<string, Value> = {};
  const notMeasured = (name: string, reason: string) => {
    values.set(name, null);
    why.set(name, reason);
  };
  const localTimeOf = r.log.localTimeOf;
  const scenarioStartSample = Number(mediaTimeOf(w.epoch, rate));
  const mediaAt = (localNs: number) => mediaTimeOf(w.time.ptpTimeAt(localNs), rate);

  figures['device.clock'] = d.ptp
    ? "EmulatedDut's own PTP slave (the engine's PtpSlave inside the device) gives its media clock; its IO started once it had locked"
    : `no grandmaster: EmulatedDut's stand-in media clock, locked to the true timescale (PTP epoch ${w.epoch} ns at virtual 0) at ${s.device.hostDrift} ppm (device.hostDrift)`;
  figures['device.ioBufferFrames'] = B;
  figures['device.linkOffsetFrames'] = L;
  figures['device.inputSafetyOffsetFrames'] = props.inputSafetyOffsetFrames;
  figures['device.outputSafetyOffsetFrames'] = props.outputSafetyOffsetFrames;
  figures['device.outputLatencyFrames'] = props.outputLatencyFrames;
  figures['latency.configuredFrames'] = rtConfigured;
  if (s.note) figures['scenario.note'] = s.note.trim();
  if (s.duration / 1e9 + 1 > MAX_RECORD_S) figures['audio.judgedSeconds'] = `the first ${MAX_RECORD_S} s of returned audio (latency, glitches, mismatches); counters cover the whole run`;
  figures['discovery.timeMs'] = round(r.discoveredAt / 1e6);
  for (const x of w.senders) if (x.spec.kind === 'dante' || x.spec.kind === 'ravenna') figures[`discovery.${x.spec.name}.ms`] = round((x.foundAt ?? r.discoveredAt) / 1e6);
  values.set('discovery.time', round(r.discoveredAt / 1e6));
  if (w.grandmasters.length > 0) {
    figures['ptp.leader'] = w.time.leader?.name ?? null;
    figures['ptp.leaderChanges'] = w.time.changes.length;
    w.time.changes.forEach((c, i) => (figures[`ptp.leaderChange${i + 1}`] = `${c.grandmaster} at ${round(c.atNs / 1e9, 3)} s`));
  }

  // ---- what the network lost, mapped to media time ----
  const rxByEndpoint = new Map(d.receive.map((x, i) => [x.config.destination, i]));
  const txByEndpoint = new Map(d.transmit.map((x, i) => [x.config.destination, i]));
  const lostIn: MediaRange[][] = d.receive.map(() => []);
  const lostOut: MediaRange[][] = d.transmit.map(() => []);
  let droppedIn = 0;
  for (const p of w.tap?.dropped ?? []) {
    if (p.direction === 'in') {
      const i = rxByEndpoint.get(p.endpoint);
      if (i === undefined) continue;
      droppedIn++;
      const c = d.receive[i].config;
      const m = unwrap(p.rtpTimestamp, c.mediaclkOffset ?? 0, mediaAt(p.sentAt));
      lostIn[i].push({ from: m, to: m + c.framesPerPacket });
    } else {
      const t = txByEndpoint.get(p.endpoint);
      if (t === undefined) continue;
      const c = d.transmit[t].config;
      const m = unwrap(p.rtpTimestamp, c.mediaclkOffset ?? 0, mediaAt(p.sentAt));
      lostOut[t].push({ from: m, to: m + c.framesPerPacket });
    }
  }
  values.set('network.lost', w.tap ? w.tap.dropped.length : 0);
  values.set('network.delayMax', w.tap ? round(w.tap.mediaDelayMaxNs / 1e6) : 0);
  const ns = w.network.stats();
  figures['network.sent'] = ns.sent;
  figures['network.delivered'] = ns.delivered;
  figures['network.droppedByImpairment'] = ns.droppedByImpairment;
  figures['network.duplicatedByImpairment'] = ns.duplicatedByImpairment;
  figures['network.queueOverflow'] = ns.queueOverflow;
  if (w.impairment) {
    const c = w.impairment.counters;
    figures['impairment.seen'] = c.seen;
    figures['impairment.lostRandom'] = c.lostRandom;
    figures['impairment.lostBurst'] = c.lostBurst;
    figures['impairment.reordered'] = c.reordered;
    figures['impairment.duplicated'] = c.duplicated;
    if (c.delayCount > 0) {
      const mean = c.delaySum / c.delayCount;
      figures['impairment.delayMeanUs'] = round(mean / 1e3, 3);
      figures['impairment.delaySdUs'] = round(Math.sqrt(Math.max(0, c.delaySumSq / c.delayCount - mean * mean)) / 1e3, 3);
    }
    figures['impairment.lossRuns'] = [...c.lossRuns].sort((a, b) => a[0] - b[0]).map(([len, n]) => `${n}x${len}`).join(' ') || 'none';
    figures['network.lostToDevice'] = droppedIn;
  }

  // ---- what the device refused or never got, per receive stream ----
  const gapsIn: { range: MediaRange; cause: string }[][] = d.receive.map((rx, i) => {
    const log = r.log.receive[i];
    return log.gaps.map((g) => {
      const late = log.refused.some((x) => x.from < g.to && x.to > g.from);
      const lost = lostIn[i].some((x) => x.from < g.to && x.to > g.from);
      return { range: g, cause: late ? 'late' : lost ? 'lost' : 'missing' };
    });
  });
  const counters = r.counters;
  values.set('rtp.device.lost', counters.receivers.reduce((a, x) => a + x.lost, 0));
  values.set('rtp.device.late', counters.receivers.reduce((a, x) => a + x.playout.latePackets, 0));
  // The receiver drops a duplicate it recognises by sequence number; the playout buffer one that got past it.
  values.set('rtp.device.duplicates', counters.receivers.reduce((a, x) => a + (x.dropped.duplicate ?? 0) + x.playout.duplicatePackets, 0));
  values.set('rtp.device.reordered', counters.receivers.reduce((a, x) => a + x.reordered, 0));
  values.set('rtp.device.ssrcChanges', counters.receivers.reduce((a, x) => a + x.ssrcChanges, 0));
  // What the device made of each sender's SDP against what the sender really sends.
  const native = loadNative();
  let fppWrong = 0;
  let channelsWrong = 0;
  let lintWarnings = 0;
  const lintCodes: string[] = [];
  d.receive.forEach((rx, i) => {
    const x = rx.sender;
    figures[`rx.${x.spec.name}.framesPerPacket`] = `${rx.config.framesPerPacket} (sender sends ${x.framesPerPacket})`;
    figures[`rx.${x.spec.name}.channels`] = `${rx.config.channels} (sender sends ${x.channels})`;
    const labels = rx.description.channelLabels;
    if (labels && labels.length !== rx.config.channels) figures[`rx.${x.spec.name}.labels`] = `i= lists ${labels.length} labels for ${rx.config.channels} channels (commas in names); the device received the stream without labels`;
    if (rx.description.notes.length > 0) figures[`rx.${x.spec.name}.sdpNotes`] = rx.description.notes.map((n) => `line ${n.line}: ${n.message}`).join('; ');
    if (rx.config.framesPerPacket !== x.framesPerPacket) fppWrong++;
    if (rx.config.channels !== x.channels) channelsWrong++;
    const text = rx.via === 'sdp' ? x.sdp() : undefined;
    if (text === undefined) return;
    for (const f of native.lintSdp(text)) {
      if (f.severity !== 'warning' && f.severity !== 'error') continue;
      lintWarnings++;
      lintCodes.push(`${x.spec.name}: ${f.code} (${f.message})`);
    }
    void i;
  });
  values.set('rx.framesPerPacketWrong', fppWrong);
  values.set('rx.channelsWrong', channelsWrong);
  values.set('sdp.rxLintWarnings', lintWarnings);
  if (lintCodes.length) {
    figures['sdp.rxLint'] = lintCodes.join('; ');
    why.set('sdp.rxLintWarnings', lintCodes.join('; '));
  }
  d.receive.forEach((rx, i) => {
    const c = counters.receivers[i];
    const name = rx.sender.spec.name;
    figures[`rx.${name}.received`] = c.received;
    figures[`rx.${name}.lost`] = c.lost;
    figures[`rx.${name}.late`] = c.playout.latePackets;
    figures[`rx.${name}.framesMissing`] = c.playout.framesMissing;
    figures[`rx.${name}.transitMaxUs`] = round(c.transitMaxNs / 1e3, 3);
    const dropped = Object.entries(c.dropped).filter(([, n]) => n > 0);
    if (dropped.length) figures[`rx.${name}.dropped`] = dropped.map(([k, n]) => `${k} ${n}`).join(', ');
  });
  d.transmit.forEach((t, i) => {
    const c = counters.transmitters[i];
    figures[`tx.${t.name}.packetsSent`] = c.packetsSent;
    figures[`tx.${t.name}.sendLatenessMaxUs`] = round(c.latenessMaxNs / 1e3, 3);
    if (c.waitingForAudio > 0) figures[`tx.${t.name}.waitingForAudio`] = c.waitingForAudio;
    if (c.ringGaps + c.ringOverflowFrames + c.sendErrors > 0) figures[`tx.${t.name}.problems`] = `ring gaps ${c.ringGaps}, overflow ${c.ringOverflowFrames} frames, send errors ${c.sendErrors}`;
  });
  // The stamp logs are rings drained every slice from the start: a drop would leave the
  // gaps incomplete. What they dropped before the start was never to be measured.
  const logDropped = counters.packetLogDropped + counters.host.cycleLogDropped - r.stampLogDroppedBeforeStart;
  if (logDropped > 0) figures['device.stampLogDropped'] = logDropped;
  if (r.stampLogDroppedBeforeStart > 0) figures['device.stampLogDroppedBeforeStart'] = r.stampLogDroppedBeforeStart;
  figures['device.inputDiscontinuities'] = counters.device.inputDiscontinuities;
  figures['device.outputDiscontinuities'] = counters.device.outputDiscontinuities;
  figures['device.ioErrors'] = counters.host.ioErrors;
  figures['device.ioWakeLatenessMaxUs'] = round(counters.host.maxLatenessNs / 1e3, 3);

  // ---- the lab receivers ----
  const labMetrics = r.receivers.map((x) => (x.receiver as Aes67Receiver | DanteAes67Receiver).metrics());
  const sumLab = (k: 'lost' | 'late' | 'duplicates' | 'reordered') => labMetrics.reduce((a, m) => a + (m ? m[k] : 0), 0);
  values.set('rtp.lab.lost', sumLab('lost'));
  values.set('rtp.lab.late', sumLab('late'));
  values.set('rtp.lab.duplicates', sumLab('duplicates'));
  values.set('rtp.lab.reordered', sumLab('reordered'));
  r.receivers.forEach((x, i) => {
    const m = labMetrics[i];
    figures[`lab.${x.name}.packets`] = m?.packets ?? 0;
    if (m && m.packets > 0) figures[`lab.${x.name}.arrivalMaxUs`] = round(m.arrivalMaxNs / 1e3, 3);
  });
  const dante = r.receivers.filter((x) => x.kind === 'dante').map((x) => ({ x, st: (x.receiver as DanteAes67Receiver).status() }));
  if (dante.length > 0) {
    const worst = dante.reduce((a, b) => (DANTE_BADNESS.indexOf(b.st.state) > DANTE_BADNESS.indexOf(a.st.state) ? b : a));
    values.set('dante.status', worst.st.state);
    const margins = dante.map((x) => x.st.worstMarginNs).filter((m): m is number => m !== undefined);
    if (margins.length > 0) values.set('dante.worstMargin', round(Math.min(...margins) / 1e6));
    else notMeasured('dante.worstMargin', 'no dante receiver got a packet');
    why.set('dante.status', `${worst.x.name}: ${worst.st.reason}`);
    for (const { x, st } of dante) {
      figures[`dante.${x.name}.state`] = st.state;
      figures[`dante.${x.name}.reason`] = st.reason;
      if (st.warnings.length) figures[`dante.${x.name}.warnings`] = st.warnings.join('; ');
    }
  }

  // ---- playout fill ----
  const playoutFill: Series[] = d.receive.map((rx, i) => r.fill[i].series(`${rx.sender.spec.name} (frames ahead of the device's read)`, 'frames', (t) => round(t / 1e9)));
  if (r.fill.some((f) => f.count > 0)) {
    values.set('playout.fillMin', Math.min(...r.fill.map((f) => f.min)));
    values.set('playout.fillMax', Math.max(...r.fill.map((f) => f.max)));
  } else {
    notMeasured('playout.fillMin', `the run ended before the playout settled (${SETTLE_NS / 1e6} ms after the device started)`);
    notMeasured('playout.fillMax', why.get('playout.fillMin')!);
  }
  let drift: number | null = null;
  d.receive.forEach((rx, i) => {
    const slope = r.log.transitSlopePpm(i);
    if (slope === null) return;
    const ppm = round(-slope, 3);
    figures[`rx.${rx.sender.spec.name}.driftPpm`] = ppm;
    if (drift === null || Math.abs(ppm) > Math.abs(drift)) drift = ppm;
  });
  if (drift === null) notMeasured('playout.driftPpm', 'too few packets reached the device');
  else values.set('playout.driftPpm', drift);

  // ---- the audio that came back ----
  const returned = d.transmit.map((t, ti) => {
    const rec = r.receivers.find((x) => x.measures && x.stream === ti);
    const receiver = rec?.receiver as Aes67Receiver | undefined;
    const view = reference ? undefined : receiver?.recording();
    const decoded = view ? undefined : receiver?.audio();
    const audio = view ? returnedAudioOf(view, native.countDifferingSamples) : decoded ? returnedAudioFromDecoded(decoded) : undefined;
    return { t, ti, rec, audio, decoded };
  });
  /** Gaps of lost audio in TX stream `ti`'s channel whose origin is receive stream `rx`, on its media time line. */
  const gapsFor = (ti: number, rx: number | undefined): { range: MediaRange; cause: string }[] => {
    const inbound = rx === undefined ? [] : gapsIn[rx].map((g) => ({ range: { from: g.range.from + rtConfigured, to: g.range.to + rtConfigured }, cause: g.cause }));
    const outbound = lostOut[ti].map((x) => ({ range: x, cause: 'lost' }));
    return [...inbound, ...outbound];
  };
  /** The steady part of a returned channel: after the device's first packets of its origin, before the last. */
  const regionFor = (ti: number, rx: number | undefined, firstSample: number, frames: number) => {
    const fIn = rx === undefined ? 0 : d.receive[rx].config.framesPerPacket;
    const fOut = d.transmit[ti].config.framesPerPacket;
    const log = rx === undefined ? undefined : r.log.receive[rx];
    let from = firstSample + 2 * fOut;
    let to = firstSample + frames - 2 * fOut;
    if (log?.firstAccepted !== undefined) from = Math.max(from, log.firstAccepted + rtConfigured + 2 * fIn);
    if (log?.acceptedEnd !== undefined) to = Math.min(to, log.acceptedEnd + rtConfigured - 2 * fIn);
    return { from, to };
  };

  // Latency: the probe channel, window by window.
  const probeTx = returned.flatMap(({ t, ti, audio }) => t.origins.map((o, k) => ({ o, k, ti, audio })).filter((x) => x.o && x.o.sender.signals?.[x.o.channel].kind === 'probe'))[0];
  const latency: LatencySamples[] = [];
  let rtMeasured: number | undefined;
  if (probeTx && probeTx.audio && probeTx.o) {
    const { o, k, ti, audio } = probeTx;
    const probeSignal = o.sender.signals![o.channel];
    const n = probeSignal.period!;
    const first = Number(audio.firstSample);
    const frames = audio.frames;
    const region = regionFor(ti, o.rx, first, frames);
    // The probe sent at [a, a + n) comes back inside [a, a + 2n - 1) for any round trip under n.
    const measurements: LatencyMeasurement[] = [];
    const lags: number[] = [];
    // Windows start where the returned audio is steady, so the whole slice holds echoes of
    // audio the device received (a slice with start-up zeros would lower the confidence).
    const starts: number[] = [];
    for (let a = region.from; a + 2 * n - 1 <= region.to; a += n) starts.push(a);
    // At most MAX_PROBE_WINDOWS, spread over the run (each costs a few FFTs of 4n points).
    const step = Math.max(1, Math.ceil(starts.length / MAX_PROBE_WINDOWS));
    for (let i = 0; i < starts.length; i += step) {
      const a = starts[i];
      const ref = probeSignal.signal.render(a, n, 1);
      const slice = audio.channel(k, a - first, 2 * n - 1);
      const m = measureLatency({ mode: 'round-trip', sampleRate: rate, probe: ref, probeStartSample: a, capture: [slice], captureStartSample: a, options: latencyOptions });
      measurements.push(m);
      lags.push(m.channels[0].latencySamples);
    }
    if (measurements.length === 0) {
      for (const name of ['latency.roundTrip', 'latency.error', 'latency.spread', 'latency.residual', 'latency.confidence', 'latency.toWire']) {
        notMeasured(name, `the run is too short for one probe window: ${2 * n - 1} returned samples needed (MLS degree ${Math.log2(n + 1)})`);
      }
    } else {
      rtMeasured = median(lags);
      const confidence = Math.min(...measurements.map((m) => m.channels[0].confidence));
      values.set('latency.roundTrip', round((rtMeasured * 1000) / rate));
      values.set('latency.error', rtMeasured - rtConfigured);
      values.set('latency.spread', Math.max(...lags) - Math.min(...lags));
      values.set('latency.confidence', round(Math.min(confidence, 1e9), 3));
      figures['latency.roundTripFrames'] = rtMeasured;
      figures['latency.windows'] = measurements.length;
      // Attribution from the device's stamps.
      const rxLog = r.log.receive[o.rx];
      const fIn = d.receive[o.rx].config.framesPerPacket;
      const transit = rxLog.transitCount > 0 ? (rxLog.transitSum / rxLog.transitCount / 1e9) * rate : NaN;
      const stages: LatencyStage[] = [
        { stage: 'packetization in', samples: fIn },
        { stage: 'network in', samples: transit - fIn },
        { stage: 'playout buffer (link offset - transit)', samples: L - transit },
        { stage: 'input safety offset', samples: r.log.inputSpan.min - B },
        { stage: 'IO buffer (input)', samples: r.log.cycleFrames.min },
        { stage: 'IO buffer (output)', samples: r.log.cycleFrames.min },
        { stage: 'output safety offset', samples: r.log.outputSpan.min - B },
      ];
      const attribution = attributeLatency(rtMeasured, stages, rate);
      values.set('latency.residual', round(attribution.residualSamples, 3));
      latency.push(latencySamples(`round trip through the loopback: ${o.sender.spec.name} channel ${o.channel + 1} -> ${d.transmit[ti].name} channel ${k + 1}`, measurements, attribution));
      if (r.log.inputSpan.min !== r.log.inputSpan.max || r.log.outputSpan.min !== r.log.outputSpan.max || r.log.cycleFrames.min !== r.log.cycleFrames.max) {
        figures['latency.cycleSpansVaried'] = `input ${r.log.inputSpan.min}..${r.log.inputSpan.max}, output ${r.log.outputSpan.min}..${r.log.outputSpan.max}, frames ${r.log.cycleFrames.min}..${r.log.cycleFrames.max}`;
      }
      const rec = returned[ti].rec;
      const m = rec ? (rec.receiver as Aes67Receiver).metrics() : undefined;
      if (m && m.packets > 0) {
        values.set('latency.toWire', round((rtMeasured * 1000) / rate + m.arrivalMaxNs / 1e6));
        figures['latency.packetizationOutFrames'] = d.transmit[ti].config.framesPerPacket;
        figures['latency.networkOutUs'] = round((m.arrivalMaxNs - (d.transmit[ti].config.framesPerPacket * 1e9) / rate) / 1e3, 3);
      } else notMeasured('latency.toWire', 'the lab receiver got no packet');
    }
  } else if (s.senders.some((x) => x.probe)) {
    for (const name of ['latency.roundTrip', 'latency.error', 'latency.spread', 'latency.residual', 'latency.confidence', 'latency.toWire']) {
      notMeasured(name, 'no device TX channel carries the probe back (check device.tx maps and the loopback), or its receiver got nothing');
    }
  }

  // Glitches: the first sine channel of each returned stream; and every known channel compared sample by sample.
  const glitchesAll: Glitch[] = [];
  const unexplained: Glitch[] = [];
  let pairedOk = true;
  let deviceLostAudio = 0;
  let analysed = 0;
  let expectedGapCount = 0;
  let mismatched = 0;
  let compared = 0;
  const mismatchNotes: string[] = [];
  // A stream's heard channel is analysed before the next is read.
  let heardBuffer = new Float32Array(0);
  for (const { t, ti, audio, decoded } of returned) {
    if (!audio || audio.frames === 0) {
      mismatchNotes.push(`${t.name}: nothing came back`);
      pairedOk = false;
      continue;
    }
    const ch = t.config.channels;
    const first = Number(audio.firstSample);
    const frames = audio.frames;
    // Every known channel: its steady region, the gaps of lost audio in it, what it should hold.
    const plans = [];
    for (let k = 0; k < ch; k++) {
      const o = t.origins[k];
      if (!o || !o.sender.signals) continue;
      const cs = o.sender.signals[o.channel];
      const region = regionFor(ti, o.rx, first, frames);
      if (region.to - region.from < 64) continue;
      const gaps = gapsFor(ti, o.rx);
      const gapRanges = mergeRanges(gaps.map((g) => g.range));
      const len = region.to - region.from;
      // What the path can carry: the sender's encoding, then the stream's if it is coarser
      // (a finer one represents the coarser values exactly).
      const expected = expectedSamples(cs, region.from - rtConfigured, len, o.sender.encoding, t.config.encoding, reference);
      // Compared between the gaps (mergeRanges gives them sorted and apart).
      const between: MediaRange[] = [];
      let at = region.from;
      for (const g of [...clipRanges(gapRanges, region.from, region.to), { from: region.to, to: region.to }]) {
        if (g.from > at) between.push({ from: at, to: g.from });
        at = Math.max(at, g.to);
      }
      plans.push({ k, o, cs, region, len, gaps, gapRanges, expected, between, wrong: 0, x: undefined as Float32Array | undefined });
    }
    // Sample-by-sample comparison outside the gaps. The fast way compares every channel of
    // the stream in one call (returned-audio.ts countDifferingIn: a slice of frames at a
    // time, every channel in it; in C++ on a native receiver's recording in place).
    if (decoded && reference) {
      for (const p of plans) {
        const inGap = new Uint8Array(p.len);
        for (const g of clipRanges(p.gapRanges, p.region.from, p.region.to)) inGap.fill(1, g.from - p.region.from, g.to - p.region.from);
        p.x = new Float32Array(p.len);
        const c = compareChannel(decoded.interleaved, ch, p.k, p.region.from - first, p.expected.table, inGap, p.x);
        p.wrong = c.wrong;
        compared += c.compared;
      }
    } else if (plans.length > 0) {
      const ranges = (between: MediaRange[]) => Float64Array.from(between.flatMap((b) => [b.from - first, b.to - first]));
      const counts = audio.countDifferingIn(plans.map((p) => ({ channel: p.k, table: p.expected.table, origin: p.region.from - first, phase: p.expected.phase, ranges: ranges(p.between) })));
      plans.forEach((p, i) => (p.wrong = counts[i]));
      // The glitch detector's channel (the first sine), into one buffer all streams share.
      const heard = plans.find((p) => p.cs.kind === 'sine');
      if (heard) {
        if (heardBuffer.length < heard.len) heardBuffer = new Float32Array(heard.len);
        heard.x = audio.channel(heard.k, heard.region.from - first, heard.len, heardBuffer.subarray(0, heard.len));
      }
      for (const p of plans) for (const b of p.between) compared += b.to - b.from;
    }
    let analysedThis = false;
    for (const { k, cs, region, len, gaps, gapRanges, wrong, x } of plans) {
      if (wrong > 0) mismatchNotes.push(`${t.name} channel ${k + 1}: ${wrong} of ${len} samples`);
      mismatched += wrong;
      if (analysedThis || cs.kind !== 'sine') continue;
      analysedThis = true;
      analysed++;
      const outputChannel = t.config.deviceChannels[k];
      const det = detectGlitchesIn(x!, rate, outputChannel, { captureStartSample: region.from, frequencyHz: cs.frequencyHz, trimSilence: false });
      const logs: EngineGlitchLog[] = gaps.map((g) => ({ sample: g.range.from, length: g.range.to - g.range.from, cause: g.cause }));
      const joined = joinGlitchCauses(det.glitches, logs);
      glitchesAll.push(...joined.glitches);
      unexplained.push(...joined.unexplained);
      // Every gap of lost audio is heard, and every glitch heard is a gap. (Gaps a packet or
      // two apart may be heard as one glitch: the detector joins what lies within its
      // envelope window, which is what a listener hears too.)
      const expectedGaps = mergeRanges(clipRanges(gapRanges, region.from, region.to), DETECTOR_MERGE_GAP + PREDICTOR_TAIL);
      expectedGapCount += expectedGaps.length;
      const tol = 4;
      const hits = (g: Glitch, e: MediaRange) => e.from < g.sample + g.length + tol && e.to > g.sample - tol;
      for (const g of det.glitches) if (!expectedGaps.some((e) => hits(g, e))) pairedOk = false;
      for (const e of expectedGaps) if (!det.glitches.some((g) => hits(g, e))) pairedOk = false;
      // A gap the network did not cause (neither dropped nor refused as late): audio the device lost itself.
      for (const g of gaps) if (g.cause === 'missing' && g.range.to > region.from && g.range.from < region.to) deviceLostAudio++;
    }
  }
  figures['glitches.analysedChannels'] = analysed;
  figures['glitches.expectedGaps'] = expectedGapCount;
  figures['audio.comparedSamples'] = compared;
  if (mismatchNotes.length) figures['audio.mismatches'] = mismatchNotes.slice(0, 8).join('; ');
  values.set('audio.mismatched', mismatched);
  if (analysed === 0) {
    for (const name of ['glitches.count', 'glitches.unexplained', 'glitches.equalsLost', 'recovery.time']) notMeasured(name, 'no returned sine channel long enough to analyse');
  } else {
    values.set('glitches.count', glitchesAll.length);
    values.set('glitches.unexplained', unexplained.length);
    // The device's own count agrees with the network's: every packet dropped on the way in is one it counted lost.
    const deviceLost = counters.receivers.reduce((a, x) => a + x.lost, 0);
    const countsAgree = !w.tap || s.network.reorder !== undefined || deviceLost === droppedIn;
    figures['glitches.pairedWithGaps'] = pairedOk;
    figures['glitches.deviceLostEqualsDropped'] = countsAgree;
    if (deviceLostAudio > 0) figures['glitches.gapsNotFromTheNetwork'] = deviceLostAudio;
    values.set('glitches.equalsLost', pairedOk && countsAgree && deviceLostAudio === 0);
    if (!(pairedOk && countsAgree && deviceLostAudio === 0)) {
      const parts = [];
      if (deviceLostAudio > 0) parts.push(`${deviceLostAudio} gaps the network did not cause (the device never placed packets nobody dropped)`);
      if (!pairedOk) parts.push(`${glitchesAll.length} glitches against ${expectedGapCount} gaps of lost audio: a gap not heard or a glitch where nothing was lost`);
      if (!countsAgree) parts.push(`the device counted ${deviceLost} lost, the network dropped ${droppedIn} on the way in`);
      why.set('glitches.equalsLost', parts.join('; '));
    }
  }
  if (logDropped > 0) {
    for (const name of ['glitches.equalsLost', 'glitches.unexplained', 'audio.mismatched']) {
      notMeasured(name, `the device's stamp logs overflowed (${logDropped} stamps dropped), so its gaps are not known`);
    }
  }
  const glitches = glitchMarks(glitchesAll, rate, scenarioStartSample);

  // Recovery: from each event to the end of the last glitch before the next one.
  const events = [
    ...s.grandmasters.flatMap((g) => g.events.map((e) => e.at)),
    ...s.senders.flatMap((x) => x.events.map((e) => e.at)),
    ...(s.network.active?.until !== undefined ? [s.network.active.until] : []),
  ].sort((a, b) => a - b);
  if (events.length > 0 && analysed > 0) {
    let worst = 0;
    events.forEach((e, i) => {
      const next = events[i + 1] ?? Infinity;
      for (const g of glitchesAll) {
        const start = localTimeOf(g.sample);
        const end = localTimeOf(g.sample + g.length);
        if (start >= e && start < next) worst = Math.max(worst, end - e);
      }
    });
    values.set('recovery.time', round(worst / 1e6));
  }

  // Sender events: from the sender's restart (reboot: back; session: changed) to the end of
  // the gap it left in the audio that came back, mapped back to the sender's media time.
  const senderEvents = w.senders.flatMap((x) => (x.script?.done ?? []).map((e) => ({ x, e })));
  if (senderEvents.length > 0) {
    if (analysed === 0) notMeasured('sender.resumeTime', 'no returned sine channel long enough to analyse');
    else {
      let worst = 0;
      senderEvents.forEach(({ x, e }, k) => {
        const from = e.backAt ?? e.at;
        const next = senderEvents[k + 1]?.e.at ?? Infinity;
        let lost = 0;
        for (const g of glitchesAll) {
          const start = localTimeOf(g.sample - rtConfigured);
          const end = localTimeOf(g.sample + g.length - rtConfigured);
          // The gap the event left: from shortly before it (audio in flight) to a second after the restart.
          if (end >= e.at - 100e6 && start < Math.min(next, from + 1e9)) {
            worst = Math.max(worst, end - from);
            lost += g.length;
          }
        }
        figures[`sender.${x.spec.name}.event${k + 1}`] = `${e.kind} at ${round(e.at / 1e9, 3)} s: ${e.detail}; gap in the returned audio ${round((lost * 1000) / rate, 3)} ms`;
      });
      values.set('sender.resumeTime', round(worst / 1e6));
    }
  }
  if (r.rtspLog.length > 0) figures['rtsp.sdpHandedToDevice'] = r.rtspLog.map((x) => `${d.receive[x.stream].sender.spec.name} at ${round(x.at / 1e9, 3)} s`).join(', ');

  // ---- the device's transmit streams on the wire ----
  const pitHistogram: Histogram[] = [];
  if (r.captureFile) {
    const a = analyzeCapture(r.captureFile);
    const streams = a.streams.filter((x) => x.source.startsWith(`${DEVICE_ADDRESS}:`));
    const pits = streams.map((x) => x.pitUs?.max).filter((v): v is number => v !== undefined);
    const tsdf = streams.map((x) => x.tsdfUs?.max).filter((v): v is number => v !== undefined);
    if (pits.length) values.set('tx.pitMax', round(Math.max(...pits), 3));
    else notMeasured('tx.pitMax', 'no device stream in the capture');
    if (tsdf.length) values.set('tx.tsdf', round(Math.max(...tsdf), 3));
    else notMeasured('tx.tsdf', 'no TS-DF window completed');
    for (const x of streams) pitHistogram.push(pitHistogramFromAnalysis(x, `device TX ${x.destination}`));
    figures['tx.capturedPackets'] = w.tap?.captured ?? 0;
  }

  // ---- the engine's PTP slave on the device's host ----
  let ptpOffset: Series[] = [];
  if (r.ptp) {
    const p = r.ptp;
    ptpOffset = p.series();
    figures['ptp.slave'] = "EmulatedDut's own PTP slave (the engine's PtpSlave), which gives the device its media clock";
    const fl = p.tally.falseLock();
    values.set('ptp.falseLock', round(fl.longestNs / 1e6));
    figures['ptp.falseLockTotalMs'] = round(fl.totalNs / 1e6);
    if (fl.stretches.length > 0) {
      const text = (fl.count > 6 ? `${fl.count} stretches, the first 6: ` : '') + fl.stretches.slice(0, 6).map((x) => `${round(x.from / 1e9, 3)}-${round(x.to / 1e9, 3)} s (${x.why})`).join(', ');
      figures['ptp.falseLockStretches'] = text;
      why.set('ptp.falseLock', `reported locked while ${text}`);
    }
    values.set('ptp.lockedWithoutSync', round(p.tally.lockedWithoutSync() / 1e6));
    const lockEvents = r.deviceEvents.filter((e) => /^PTP (locked|lock lost)/.test(e.what));
    if (lockEvents.length > 0) figures['ptp.lockEvents'] = lockEvents.slice(0, 8).map((e) => `${e.what} at ${round(e.at / 1e9, 3)} s`).join(', ');
    figures['ptp.falseLockRule'] = `locked while |true error| > ${FALSE_LOCK_ERROR_NS / 1e3} us or no new Sync sample for ${FALSE_LOCK_STALE_NS / 1e9} s`;
    // ts-refclk in what the device announced: from following a grandmaster to announcing it.
    const lags: number[] = [];
    const gmidOf = (identity: string) => identity.replace(/\./g, '').toUpperCase().match(/../g)!.join('-');
    p.followed.forEach((f, k) => {
      const id = gmidOf(f.grandmaster);
      const lagPer = r.announced.heard.map((h) => h.find((x) => x.gmid === id && x.at >= f.since));
      const worstLag = lagPer.some((x) => x === undefined) ? undefined : Math.max(0, ...lagPer.map((x) => x!.at - f.since));
      figures[`sap.grandmaster${k + 1}`] = `${f.grandmaster} followed at ${round(f.since / 1e9, 3)} s; ${worstLag === undefined ? 'never announced in every TX stream' : `announced ${round(worstLag / 1e6, 3)} ms later`}`;
      lags.push(worstLag ?? Infinity);
    });
    if (lags.length === 0) notMeasured('sap.refclkLag', 'the device followed no grandmaster');
    else if (lags.some((x) => !Number.isFinite(x))) {
      values.set('sap.refclkLag', null);
      why.set('sap.refclkLag', "a grandmaster the device followed was never named in its SAP announcements' ts-refclk");
    } else values.set('sap.refclkLag', round(Math.max(...lags) / 1e6));
    const current = p.status?.followedGrandmaster ?? null;
    const named = d.transmit.every((t, i) => current !== null && d.dut.txSdp(i).toUpperCase().includes(gmidOf(current)));
    values.set('sdp.refclkCurrent', named);
    if (!named) why.set('sdp.refclkCurrent', `the device follows ${current ?? 'no grandmaster'}; its TX SDP names another`);
    if (p.counters) {
      figures['ptp.steps'] = p.counters.steps;
      figures['ptp.locks'] = p.counters.locks;
      figures['ptp.lockLosses'] = p.counters.lockLosses;
      figures['ptp.grandmasterChanges'] = p.counters.grandmasterChanges;
      figures['ptp.announceTimeouts'] = p.counters.announceTimeouts;
    }
    if (p.counters) {
      values.set('ptp.steps', p.counters.steps);
      values.set('ptp.grandmasterChanges', p.counters.grandmasterChanges);
    } else {
      notMeasured('ptp.steps', 'the slave was not read');
      notMeasured('ptp.grandmasterChanges', 'the slave was not read');
    }
    if (lastGrandmasterEvent(s) >= 0) {
      const recovery = p.tally.recoveryNs();
      if (recovery === null) notMeasured('ptp.recovery', `the device's PTP slave was not back within 1 us of the grandmaster by the end (${s.duration / 1e9} s)`);
      else values.set('ptp.recovery', round(recovery / 1e6));
    }
    if (p.firstLock === null) {
      for (const name of ['ptp.lockTime', 'ptp.offsetRms', 'ptp.offsetMax']) notMeasured(name, `the device's PTP slave never locked in ${s.duration / 1e9} s`);
    } else {
      values.set('ptp.lockTime', round(p.firstLock / 1e6));
      figures['ptp.lockTimeMs'] = round(p.firstLock / 1e6);
      const locked = p.tally.lockedError();
      if (locked === null) {
        notMeasured('ptp.offsetRms', 'no sample while locked');
        notMeasured('ptp.offsetMax', 'no sample while locked');
      } else {
        values.set('ptp.offsetRms', round(locked.rmsNs, 1));
        figures['ptp.offsetRmsNs'] = values.get('ptp.offsetRms')!;
        values.set('ptp.offsetMax', round(locked.maxNs, 1));
        figures['ptp.lockedSamples'] = locked.count;
      }
    }
  } else {
    for (const name of ['ptp.lockTime', 'ptp.offsetRms', 'ptp.offsetMax']) notMeasured(name, 'no grandmaster in the scenario');
  }

  addExpectedLoss(r, values, why, figures, { reference });
  // ---- the expectations, in the order the scenario wrote them ----
  const expectations: Expectation[] = Object.entries(s.expect).map(([name, e]) => {
    const m = METRICS.get(name)!;
    const limit = limitOf(name, e);
    const v = values.has(name) ? values.get(name)! : null;
    const message = why.get(name) ?? (v === null ? `${name} was not measured in this run` : undefined);
    const judged = judge(name, v, limit, m.unit, message);
    return e.failsOnPurpose === undefined ? judged : judgeOnPurpose(judged, e.failsOnPurpose);
  });
  return { expectations, ptpOffset, playoutFill, latency, pitHistogram, glitches, figures };
}
