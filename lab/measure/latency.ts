// Sample-accurate latency by correlating a known probe (see probe.ts) with what came back,
// per capture channel, with a confidence figure and a polarity check; and attribution of
// the measured figure to the stages the engine and driver report (network, playout
// buffer, IO buffer, safety offset) from their own sample-time stamps.
import { crossCorrelate, fft, nextPow2, spectrumOf, type Transform } from '../signal/fft.ts';

export interface DelayOptions {
  /** Lags within this many samples of the peak count as its main lobe, not as a rival peak. */
  mainLobe?: number;
  /** Refine the integer lag to a fraction of a sample from the cross-spectrum phase. */
  subSample?: boolean;
  /** Below this peak-to-second-peak ratio the estimate is marked unreliable. */
  minConfidence?: number;
  /** The FFT: fft.ts's by default; the measurement's fast way gives the addon's (the same to the bit). */
  transform?: Transform;
}

export interface DelayEstimate {
  /** Index in the capture where the probe's first sample lies (the correlation peak). */
  lagSamples: number;
  /** lagSamples plus the sub-sample part from the cross-spectrum phase slope (|part| < 1). */
  fractionalLagSamples: number;
  /** 'inverted' when the peak is negative: the path flips the signal's sign. */
  polarity: 'normal' | 'inverted';
  /** Correlation at the peak normalised by both signals' energy over the probe: −1 … 1. */
  peakCorrelation: number;
  /** |peak| over the largest |correlation| outside the main lobe (linear). */
  confidence: number;
  /** The same in dB (20·log10). */
  confidenceDb: number;
  /** confidence ≥ minConfidence. */
  reliable: boolean;
}

const DEFAULTS = { mainLobe: 8, subSample: true, minConfidence: 4 };

/** Finds where `probe` lies in `capture` (one channel). */
export function estimateDelay(probe: Float32Array, capture: Float32Array, options: DelayOptions = {}): DelayEstimate {
  const o = { ...DEFAULTS, ...options };
  if (probe.length === 0) throw new Error('estimateDelay: the probe is empty');
  if (capture.length < probe.length) throw new Error(`estimateDelay: the capture (${capture.length} samples) is shorter than the probe (${probe.length})`);
  // Only lags where the whole probe fits in the capture are candidates.
  const r = crossCorrelate(probe, capture, o.transform);
  const lastLag = capture.length - probe.length;
  let best = 0;
  for (let k = 1; k <= lastLag; k++) if (Math.abs(r[k]) > Math.abs(r[best])) best = k;
  let rival = 0;
  for (let k = 0; k <= lastLag; k++) if (Math.abs(k - best) > o.mainLobe && Math.abs(r[k]) > rival) rival = Math.abs(r[k]);
  const peak = r[best];
  let probeEnergy = 0;
  let captureEnergy = 0;
  for (let i = 0; i < probe.length; i++) {
    probeEnergy += probe[i] * probe[i];
    captureEnergy += capture[best + i] * capture[best + i];
  }
  const norm = Math.sqrt(probeEnergy * captureEnergy);
  const confidence = rival === 0 ? Infinity : Math.abs(peak) / rival;
  const fraction = o.subSample ? subSampleOffset(probe, capture, best, peak < 0 ? -1 : 1, o.transform) : 0;
  return {
    lagSamples: best,
    fractionalLagSamples: best + fraction,
    polarity: peak < 0 ? 'inverted' : 'normal',
    peakCorrelation: norm === 0 ? 0 : peak / norm,
    confidence,
    confidenceDb: 20 * Math.log10(confidence),
    reliable: confidence >= o.minConfidence,
  };
}

/**
 * The sub-sample delay left after aligning at `lag`: the cross-spectrum phase of the
 * aligned segment against the probe is −ω·δ, so δ is a weighted least-squares slope over
 * the band where the probe has energy (below 0.8 of Nyquist, where resamplers' and
 * converters' filters leave the phase alone). `sign` undoes an inverted path, which would
 * otherwise add π to every bin.
 */
function subSampleOffset(probe: Float32Array, capture: Float32Array, lag: number, sign: number, transform: Transform = fft): number {
  const n = nextPow2(2 * probe.length);
  const { re: xr, im: xi } = spectrumOf(probe, n, 1, transform);
  const yr = new Float64Array(n);
  const yi = new Float64Array(n);
  // One sample of context either side so a shift of up to ±1 stays inside the window.
  const from = Math.max(0, lag - 1);
  const to = Math.min(capture.length, lag + probe.length + 1);
  for (let i = from; i < to; i++) yr[i - lag + 1] = sign * capture[i];
  transform(yr, yi);
  let num = 0;
  let den = 0;
  const top = Math.floor(0.8 * (n / 2));
  for (let b = 1; b < top; b++) {
    const cr = yr[b] * xr[b] + yi[b] * xi[b];
    const ci = yi[b] * xr[b] - yr[b] * xi[b];
    const w = cr * cr + ci * ci;
    if (w === 0) continue;
    const omega = (2 * Math.PI * b) / n;
    const phase = Math.atan2(ci, cr);
    const sw = Math.sqrt(w);
    num += sw * omega * phase;
    den += sw * omega * omega;
  }
  if (den === 0) return 0;
  const delta = -num / den;
  return Math.max(-0.999, Math.min(0.999, delta));
}

export type LatencyMode = 'round-trip' | 'one-way';

export interface LatencyInput {
  mode: LatencyMode;
  sampleRate: number;
  probe: Float32Array;
  /**
   * Sample time at which the probe's first sample was played: on the device's own sample
   * clock for a round trip, on the media clock (PTP-derived RTP time line) for one way.
   */
  probeStartSample?: number;
  /** Captured channels, each starting at `captureStartSample` on the same time line. */
  capture: Float32Array[];
  captureStartSample?: number;
  options?: DelayOptions;
}

export interface ChannelLatency extends DelayEstimate {
  channel: number;
  /** Latency in samples: capture start + lag − probe start. */
  latencySamples: number;
  /** The same with the sub-sample part. */
  latencyFractionalSamples: number;
  latencyMs: number;
}

export interface LatencyMeasurement {
  mode: LatencyMode;
  sampleRate: number;
  channels: ChannelLatency[];
}

export function measureLatency(input: LatencyInput): LatencyMeasurement {
  if (!(input.sampleRate > 0)) throw new Error(`measureLatency: sample rate ${input.sampleRate} must be positive`);
  if (input.capture.length === 0) throw new Error('measureLatency: no capture channels');
  const base = (input.captureStartSample ?? 0) - (input.probeStartSample ?? 0);
  return {
    mode: input.mode,
    sampleRate: input.sampleRate,
    channels: input.capture.map((ch, channel) => {
      const e = estimateDelay(input.probe, ch, input.options);
      return {
        ...e,
        channel,
        latencySamples: base + e.lagSamples,
        latencyFractionalSamples: base + e.fractionalLagSamples,
        latencyMs: ((base + e.lagSamples) * 1000) / input.sampleRate,
      };
    }),
  };
}

/** Splits interleaved samples into one array per channel. */
export function deinterleave(interleaved: Float32Array, channels: number): Float32Array[] {
  if (!(channels >= 1) || interleaved.length % channels !== 0) {
    throw new Error(`deinterleave: ${interleaved.length} samples do not divide into ${channels} channels`);
  }
  const frames = interleaved.length / channels;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let f = 0; f < frames; f++) for (let c = 0; c < channels; c++) out[c][f] = interleaved[f * channels + c];
  return out;
}

// ---- attribution per stage -------------------------------------------------------------

/** A time stamp from the engine or driver: a sample count on one clock, or nanoseconds. */
export type Stamp = { sample: number } | { ns: number };

/**
 * One stage of the path. Either a span — the probe's reference sample entered the stage at
 * `from` and left at `to` (both stamps in the same unit) — or a fixed duration the
 * component reports as a property (the driver's safety offset, the IO buffer size).
 * Conventional names: 'network', 'playout-buffer', 'io-buffer', 'safety-offset'.
 */
export type LatencyStage = { stage: string; from: Stamp; to: Stamp } | { stage: string; samples: number } | { stage: string; ns: number };

export interface AttributedStage {
  stage: string;
  samples: number;
  ms: number;
  /** Share of the measured latency, 0 … 1. */
  share: number;
}

export interface LatencyAttribution {
  measuredSamples: number;
  stages: AttributedStage[];
  sumSamples: number;
  /** measured − sum: what no stage accounts for. */
  residualSamples: number;
  /** |residual| ≤ tolerance. */
  accountedFor: boolean;
  toleranceSamples: number;
}

function stampSamples(s: Stamp, sampleRate: number): { unit: 'sample' | 'ns'; samples: number } {
  if ('sample' in s) return { unit: 'sample', samples: s.sample };
  return { unit: 'ns', samples: (s.ns * sampleRate) / 1e9 };
}

export function stageSamples(st: LatencyStage, sampleRate: number): number {
  if ('samples' in st) return st.samples;
  if ('ns' in st) return (st.ns * sampleRate) / 1e9;
  const a = stampSamples(st.from, sampleRate);
  const b = stampSamples(st.to, sampleRate);
  if (a.unit !== b.unit) throw new Error(`stage '${st.stage}': 'from' is in ${a.unit}s and 'to' in ${b.unit}s; give both on one clock`);
  const d = b.samples - a.samples;
  if (d < 0) throw new Error(`stage '${st.stage}': 'to' is ${-d} samples before 'from'`);
  return d;
}

/** Splits a measured latency over the stages; the residual is what none of them explains. */
export function attributeLatency(measuredSamples: number, stages: LatencyStage[], sampleRate: number, toleranceSamples = 0.5): LatencyAttribution {
  if (!(sampleRate > 0)) throw new Error(`attributeLatency: sample rate ${sampleRate} must be positive`);
  const seen = new Set<string>();
  const out: AttributedStage[] = [];
  for (const st of stages) {
    if (seen.has(st.stage)) throw new Error(`attributeLatency: stage '${st.stage}' is listed twice`);
    seen.add(st.stage);
    const samples = stageSamples(st, sampleRate);
    out.push({ stage: st.stage, samples, ms: (samples * 1000) / sampleRate, share: measuredSamples === 0 ? 0 : samples / measuredSamples });
  }
  const sum = out.reduce((a, s) => a + s.samples, 0);
  const residual = measuredSamples - sum;
  return { measuredSamples, stages: out, sumSamples: sum, residualSamples: residual, accountedFor: Math.abs(residual) <= toleranceSamples, toleranceSamples };
}
