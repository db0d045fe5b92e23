// Glitches in a captured sine, each with its sample time and, where the engine logged one
// at that time, its cause.
//
// Detectors, each giving intervals that are merged into glitches:
// - sine predictor: x[n] = 2·cos(ω)·x[n−1] − x[n−2] holds for any sine, so the prediction
//   error sits at the noise floor and a dropout, a slip, a click or a step stands out;
// - dropout: a run of (near-)zero samples;
// - discontinuity: a sample-to-sample step larger than the sine's steepest slope allows;
// - magnitude drop: the sine's instantaneous amplitude, A² = (x[n]² − x[n−1]·x[n+1]) / sin²ω
//   (exact for a sine), smoothed and compared with the whole capture's median amplitude:
//   finds a fade or a gain dip that never breaks the predictor.
// Around each glitch the phase is fitted on both sides; a difference is reported as a phase
// jump (samples skipped or repeated) rather than a gap that resumed on time.

export type GlitchKind = 'prediction-error' | 'dropout' | 'discontinuity' | 'magnitude-drop' | 'phase-jump';

/** What the engine or driver logged at a sample time. */
export interface EngineGlitchLog {
  /** First affected sample, on the same time line as the capture (media or device clock). */
  sample: number;
  /** Affected samples (default 1). */
  length?: number;
  cause: 'lost' | 'late' | 'underrun' | 'overrun' | (string & {});
  /** Omitted: applies to every channel. */
  channel?: number;
  detail?: string;
}

export interface Glitch {
  channel: number;
  /** First affected sample on the capture's time line (captureStartSample + index). */
  sample: number;
  /** Affected samples, at least 1. */
  length: number;
  kinds: GlitchKind[];
  /** Largest prediction error or step in the interval, full-scale units. */
  magnitude: number;
  /** Phase after minus phase before, radians in (−π, π], when both sides could be fitted. */
  phaseJumpRad?: number;
  /** The smoothed amplitude's lowest point relative to the capture's median, dB (negative, −120 at most). */
  levelDropDb?: number;
  /** From the engine's log entries that overlap this glitch. */
  cause?: string;
  causes?: EngineGlitchLog[];
}

export interface GlitchOptions {
  /** Time line offset: the sample time of index 0 of every channel. */
  captureStartSample?: number;
  /** Known frequency; otherwise estimated from the recurrence. */
  frequencyHz?: number;
  /**
   * Prediction error above this (full scale) is a glitch; default: `sigmas` × robust noise,
   * at least `floor` (default 1e-4, −80 dBFS: below it a smooth gain change's curvature,
   * not a glitch, is what the predictor sees).
   */
  tolerance?: number;
  sigmas?: number;
  floor?: number;
  /** Samples with |x| ≤ this count as zero (0: exact zeros only). */
  zeroThreshold?: number;
  /** Shortest zero run that is a dropout. */
  minDropout?: number;
  /** Steps above margin × the sine's largest step are discontinuities. */
  stepMargin?: number;
  /** A smoothed amplitude this far below the median is a magnitude drop (dB, positive). */
  dropDb?: number;
  /** Smoothing of the amplitude, samples. */
  envelopeWindow?: number;
  /** Phase differences above this are phase jumps (radians). */
  phaseTolerance?: number;
  /** Intervals closer than this merge into one glitch. */
  mergeGap?: number;
  /** Skip silence before the sine starts and after it ends (a loopback's lead-in is not a dropout). */
  trimSilence?: boolean;
}

export interface ChannelGlitches {
  channel: number;
  frequencyHz: number;
  /** Median amplitude of the sine. */
  amplitude: number;
  tolerance: number;
  /** Analysed index range [from, to) after trimming silence. */
  analysedFrom: number;
  analysedTo: number;
  glitches: Glitch[];
}

const DEFAULTS = {
  sigmas: 10,
  floor: 1e-4,
  zeroThreshold: 0,
  minDropout: 3,
  stepMargin: 1.5,
  dropDb: 3,
  envelopeWindow: 64,
  phaseTolerance: 0.05,
  mergeGap: 16,
  trimSilence: true,
};

export type GlitchSettings = typeof DEFAULTS & Pick<GlitchOptions, 'captureStartSample' | 'frequencyHz' | 'tolerance'>;

/**
 * The options with the defaults applied (an option given as undefined takes its default),
 * checked: a NaN anywhere (or a window that is not a whole number of samples) would leave
 * the detector's envelope NaN and its drop search without an end. Shared by both detectors
 * (native-glitches.ts).
 */
export function glitchSettings(sampleRate: number, options: GlitchOptions): GlitchSettings {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as GlitchOptions;
  const o = { ...DEFAULTS, ...given };
  if (!(sampleRate > 0 && sampleRate < Infinity)) throw new Error(`glitch detection: the sample rate must be a positive number of Hz, got ${sampleRate}`);
  for (const [key, v] of Object.entries(o)) {
    if (key === 'trimSilence' || (v === undefined && (key === 'captureStartSample' || key === 'frequencyHz' || key === 'tolerance'))) continue;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`glitch detection: option ${key} must be a number, got ${String(v)}`);
  }
  if (o.frequencyHz !== undefined && !Number.isFinite(o.frequencyHz)) throw new Error(`glitch detection: option frequencyHz must be a finite number of Hz, got ${o.frequencyHz}`);
  if (!Number.isInteger(o.envelopeWindow)) throw new Error(`glitch detection: option envelopeWindow must be a whole number of samples, got ${o.envelopeWindow}`);
  return o;
}

/** cos(ω) by least squares on x[n+1] + x[n−1] = 2c·x[n], over the samples `use` allows. */
function recurrenceCos(x: Float32Array, from: number, to: number, use?: Uint8Array): number {
  let num = 0;
  let den = 0;
  for (let i = from + 1; i + 1 < to; i++) {
    if (use && !use[i - from]) continue;
    num += (x[i + 1] + x[i - 1]) * x[i];
    den += 2 * x[i] * x[i];
  }
  if (den === 0) throw new Error('glitch detection: the channel is silent; there is no sine to follow');
  return Math.max(-1, Math.min(1, num / den));
}

/**
 * The element at floor(n/2) of `values` sorted (numerically, as Float64Array sorts), found
 * by quickselect in linear time: the same value the sort gives. Arrays with NaN or -0 (whose
 * order only the sort defines) and selections that degrade are sorted instead.
 */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const k = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v || (v === 0 && 1 / v < 0)) return Float64Array.from(values).sort()[k];
  }
  if (n >= BRACKET_MIN) {
    const m = bracketed(values, k);
    if (m !== undefined) return m;
  }
  return select(Float64Array.from(values), k);
}

/** The element at k of `a` sorted, by quickselect (reorders `a`); sorted instead when the selection degrades. */
function select(a: Float64Array, k: number): number {
  const n = a.length;
  let lo = 0;
  let hi = n - 1;
  let budget = 4 * Math.ceil(Math.log2(n + 1)) + 8;
  while (hi > lo) {
    if (--budget < 0) return a.sort()[k];
    // Median of three as the pivot, then Hoare's partition.
    const mid = (lo + hi) >>> 1;
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Each amp[k] replaced by the median of amp[k-2..k+2] (those of them inside [1, n-1)): the
 * element at floor(m/2) of the m values sorted, `otherwise` where there are none. Where all
 * five are there it is found by six comparisons, not a sort (a 10 s channel has 480,000 of
 * them): for finite values the median of five is one value whatever the order it is found
 * in (glitches.test.ts checks it against the sort). Values a comparison cannot order (NaN)
 * take the sort.
 */
export function medianOf5(amp: Float64Array, otherwise: number): Float64Array {
  const n = amp.length;
  const out = new Float64Array(n);
  const five: number[] = [];
  const sorted = (k: number) => {
    five.length = 0;
    for (let d = -2; d <= 2; d++) if (k + d >= 1 && k + d < n - 1) five.push(amp[k + d]);
    five.sort((p, q) => p - q);
    return five.length ? five[Math.floor(five.length / 2)] : otherwise;
  };
  let finite = true;
  for (let k = 1; k < n - 1; k++) if (!Number.isFinite(amp[k])) finite = false;
  // All five are inside [1, n-1) for k in [3, n-4].
  const lo = finite ? Math.min(3, n) : n;
  const hi = finite ? Math.max(lo, n - 3) : n;
  for (let k = 0; k < lo; k++) out[k] = sorted(k);
  for (let k = lo; k < hi; k++) {
    let a = amp[k - 2], b = amp[k - 1], c = amp[k], d = amp[k + 1];
    const e = amp[k + 2];
    let t: number;
    if (b < a) (t = a), (a = b), (b = t);
    if (d < c) (t = c), (c = d), (d = t);
    // The least of a..d is not the median of five: drop it (a, with b its pair's larger).
    if (c < a) (t = a), (a = c), (c = t), (t = b), (b = d), (d = t);
    // Left: b, c <= d and e; the median of five is the second least of these four.
    a = e;
    if (b < a) (t = a), (a = b), (b = t);
    out[k] = a < c ? (b < c ? b : c) : a < d ? a : d;
  }
  for (let k = hi; k < n; k++) out[k] = sorted(k);
  return out;
}

/** Arrays this long have their median bracketed from a sample first. */
const BRACKET_MIN = 8192;
const BRACKET_SAMPLE = 2048;
/** Sample positions either side of the k-th's (4 standard deviations of its place at the median). */
const BRACKET_HALF = 96;

/**
 * The element at k of `values` sorted (finite values, no -0), found from a bracket: a
 * spread sample of 2048 values, sorted, gives two values the k-th very likely lies between;
 * one pass counts those below and keeps those inside, where it is selected. The value found is
 * the k-th (whatever the sample): undefined when it was not inside the bracket, or the
 * bracket held too many to sort quickly, and the caller selects the usual way.
 */
function bracketed(values: Float64Array, k: number): number | undefined {
  const n = values.length;
  const sample = new Float64Array(BRACKET_SAMPLE);
  for (let j = 0; j < BRACKET_SAMPLE; j++) sample[j] = values[Math.floor((j * n) / BRACKET_SAMPLE)];
  sample.sort();
  const at = (k / n) * BRACKET_SAMPLE;
  const lo = sample[Math.max(0, Math.floor(at - BRACKET_HALF))];
  const hi = sample[Math.min(BRACKET_SAMPLE - 1, Math.ceil(at + BRACKET_HALF))];
  let below = 0;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < lo) below++;
    else if (v <= hi) inside++;
  }
  if (k < below || k >= below + inside) return undefined;
  if (lo === hi) return lo;
  if (inside > n / 4) return undefined;
  const kept = new Float64Array(inside);
  for (let i = 0, j = 0; i < n; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) kept[j++] = v;
  }
  return select(kept, k - below);
}

type Interval = { from: number; to: number; kind: GlitchKind; magnitude: number; dropDb?: number };

/** Amplitude and phase of a·cos(ω(n−ref)) + b·sin(ω(n−ref)) fitted over [from, to). */
function fitPhase(x: Float32Array, omega: number, from: number, to: number, ref: number): { amp: number; phase: number } | undefined {
  if (to - from < 8) return undefined;
  let cc = 0;
  let ss = 0;
  let cs = 0;
  let xc = 0;
  let xs = 0;
  for (let i = from; i < to; i++) {
    const c = Math.cos(omega * (i - ref));
    const s = Math.sin(omega * (i - ref));
    cc += c * c;
    ss += s * s;
    cs += c * s;
    xc += x[i] * c;
    xs += x[i] * s;
  }
  const det = cc * ss - cs * cs;
  if (Math.abs(det) < 1e-12) return undefined;
  const a = (xc * ss - xs * cs) / det;
  const b = (xs * cc - xc * cs) / det;
  // a·cos θ + b·sin θ = amp·sin(θ + phase)
  return { amp: Math.hypot(a, b), phase: Math.atan2(a, b) };
}

function wrap(phase: number): number {
  let p = phase % (2 * Math.PI);
  if (p <= -Math.PI) p += 2 * Math.PI;
  if (p > Math.PI) p -= 2 * Math.PI;
  return p;
}

// The detector's passes over a channel, each a function of its own: V8 optimises a small
// function with one loop once, where one long function with a dozen loops, called a few
// times, was compiled loop by loop on the stack and thrown away again (a tenth the speed).

/** The index of the first NaN or ±Infinity in x[from, to), -1 if none. */
function firstNotFinite(x: Float32Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

function predictionErrors(x: Float32Array, from: number, to: number, c: number, err: Float64Array): void {
  for (let i = from + 2; i < to; i++) err[i - from] = Math.abs(x[i] - (2 * c * x[i - 1] - x[i - 2]));
}

/** The sine's instantaneous amplitude at each sample (0 at the ends). */
function instantAmplitudes(x: Float32Array, from: number, to: number, sinW: number): Float64Array {
  const amp = new Float64Array(to - from);
  for (let i = from + 1; i + 1 < to; i++) {
    const a2 = (x[i] * x[i] - x[i - 1] * x[i + 1]) / (sinW * sinW);
    amp[i - from] = Math.sqrt(Math.max(0, a2));
  }
  return amp;
}

function predictionErrorIntervals(err: Float64Array, from: number, to: number, tolerance: number, intervals: Interval[]): void {
  for (let i = from + 2; i < to; i++) {
    const e = err[i - from];
    if (e > tolerance) intervals.push({ from: i, to: i + 1, kind: 'prediction-error', magnitude: e });
  }
}

function dropoutIntervals(x: Float32Array, from: number, to: number, zeroThreshold: number, minDropout: number, intervals: Interval[]): void {
  for (let i = from; i < to; ) {
    if (!(Math.abs(x[i]) <= zeroThreshold)) {
      i++;
      continue;
    }
    let j = i;
    while (j < to && Math.abs(x[j]) <= zeroThreshold) j++;
    if (j - i >= minDropout) intervals.push({ from: i, to: j, kind: 'dropout', magnitude: 0 });
    i = j;
  }
}

function discontinuityIntervals(x: Float32Array, from: number, to: number, maxStep: number, intervals: Interval[]): void {
  for (let i = from + 1; i < to; i++) {
    const step = Math.abs(x[i] - x[i - 1]);
    if (step > maxStep) intervals.push({ from: i, to: i + 1, kind: 'discontinuity', magnitude: step });
  }
}

/** The centred moving average of the smoothed amplitude at k, from its prefix sums. */
function envelopeAt(prefix: Float64Array, n: number, half: number, w: number, amplitude: number, k: number): number {
  const a = Math.max(1, k - half);
  const b = Math.min(n - 1, k - half + w);
  return b > a ? (prefix[b] - prefix[a]) / (b - a) : amplitude;
}

/** The first k' >= k below n - 1 whose envelope is below `limit` (n - 1 if none). */
function firstBelow(prefix: Float64Array, n: number, half: number, w: number, amplitude: number, limit: number, k: number): number {
  while (k < n - 1 && envelopeAt(prefix, n, half, w, amplitude, k) >= limit) k++;
  return k;
}

/** Detects glitches in one channel that carries a sine. */
export function detectChannelGlitches(x: Float32Array, sampleRate: number, channel = 0, options: GlitchOptions = {}): ChannelGlitches {
  const o = glitchSettings(sampleRate, options);
  const start = o.captureStartSample ?? 0;
  const isZero = (v: number) => Math.abs(v) <= o.zeroThreshold;
  let from = 0;
  let to = x.length;
  if (o.trimSilence) {
    while (from < to && isZero(x[from])) from++;
    while (to > from && isZero(x[to - 1])) to--;
  }
  if (to - from < 16) throw new Error(`glitch detection: channel ${channel} has ${to - from} samples of signal; need at least 16`);
  const bad = firstNotFinite(x, from, to);
  if (bad >= 0) throw new Error(`glitch detection: channel ${channel}'s sample ${bad} is ${x[bad]}; the detector follows finite samples only`);

  // Prediction error for a given cos(ω).
  const err = new Float64Array(to - from);
  const predict = (c: number) => {
    predictionErrors(x, from, to, c, err);
    const robustSigma = median(err.subarray(2)) / 0.6745;
    return o.tolerance ?? Math.max(o.sigmas * robustSigma, o.floor);
  };
  let c: number;
  let tolerance: number;
  if (o.frequencyHz !== undefined) {
    c = Math.cos((2 * Math.PI * o.frequencyHz) / sampleRate);
    tolerance = predict(c);
  } else {
    // Glitches bias a plain least-squares frequency; refit without the samples near
    // prediction errors and zero runs until the estimate settles.
    c = recurrenceCos(x, from, to);
    tolerance = predict(c);
    const use = new Uint8Array(to - from);
    for (let pass = 0; pass < 3; pass++) {
      use.fill(1);
      for (let k = 2; k < err.length; k++) {
        if (err[k] > tolerance || isZero(x[from + k])) for (let d = -3; d <= 3; d++) if (k + d >= 0 && k + d < use.length) use[k + d] = 0;
      }
      const next = recurrenceCos(x, from, to, use);
      const settled = Math.abs(next - c) < 1e-12;
      c = next;
      tolerance = predict(c);
      if (settled) break;
    }
  }
  const omega = Math.acos(c);
  const sinW = Math.sin(omega);
  if (sinW < 1e-4) throw new Error(`glitch detection: channel ${channel}'s frequency is too close to 0 or Nyquist to follow`);

  // Instantaneous amplitude, for the step bound and magnitude drops.
  const amp = instantAmplitudes(x, from, to, sinW);
  const amplitude = median(amp.subarray(1, amp.length - 1));
  const maxStep = o.stepMargin * 2 * amplitude * Math.sin(omega / 2) + tolerance;

  const intervals: Interval[] = [];
  predictionErrorIntervals(err, from, to, tolerance, intervals);
  dropoutIntervals(x, from, to, o.zeroThreshold, o.minDropout, intervals);
  discontinuityIntervals(x, from, to, maxStep, intervals);
  // Magnitude drop: a centred moving average of the amplitude finds runs below the limit;
  // their edges are then placed where the raw amplitude (median of 5) crosses it, so a
  // step or a dropout is dated to its sample, not to the smoothing window.
  const w = Math.max(1, Math.min(o.envelopeWindow, Math.floor((to - from) / 4)));
  const half = Math.floor(w / 2);
  const limit = amplitude * 10 ** (-o.dropDb / 20);
  const n = amp.length;
  // Median of 5 first: the amplitude formula spikes (either way) on the samples at a step.
  const smooth = medianOf5(amp, amplitude);
  const prefix = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) prefix[k + 1] = prefix[k] + smooth[k];
  const env = (k: number) => envelopeAt(prefix, n, half, w, amplitude, k);
  const med5 = (k: number) => smooth[k];
  for (let k = 1; k < n - 1; ) {
    k = firstBelow(prefix, n, half, w, amplitude, limit, k);
    if (k >= n - 1) break;
    let end = k;
    let lowest = Infinity;
    while (end < n - 1 && env(end) < limit) lowest = Math.min(lowest, env(end++));
    let a = Math.max(1, k - w);
    while (a < end && med5(a) >= limit) a++;
    let b = Math.min(n - 2, end + w);
    while (b > a && med5(b) >= limit) b--;
    if (a <= b) intervals.push({ from: from + a, to: from + b + 1, kind: 'magnitude-drop', magnitude: amplitude - lowest, dropDb: Math.max(-120, 20 * Math.log10(lowest / amplitude)) });
    // (end > k whenever the envelope is a number: the options and samples are checked.)
    k = Math.max(end, k + 1);
  }

  // Merge intervals into glitches.
  intervals.sort((a, b) => a.from - b.from);
  const glitches: Glitch[] = [];
  let cur: { from: number; to: number; kinds: Set<GlitchKind>; magnitude: number; dropDb?: number } | undefined;
  const flush = () => {
    if (!cur) return;
    const g: Glitch = { channel, sample: start + cur.from, length: Math.max(1, cur.to - cur.from), kinds: [...cur.kinds], magnitude: cur.magnitude };
    if (cur.dropDb !== undefined) g.levelDropDb = cur.dropDb;
    // Phase on either side, both referred to the glitch's first sample.
    const span = Math.max(32, Math.ceil((4 * Math.PI) / omega));
    const before = fitPhase(x, omega, Math.max(from, cur.from - span), cur.from, cur.from);
    const after = fitPhase(x, omega, cur.to, Math.min(to, cur.to + span), cur.from);
    if (before && after && before.amp > 0.5 * amplitude && after.amp > 0.5 * amplitude) {
      g.phaseJumpRad = wrap(after.phase - before.phase);
      if (Math.abs(g.phaseJumpRad) > o.phaseTolerance) g.kinds.push('phase-jump');
    }
    glitches.push(g);
  };
  for (const iv of intervals) {
    if (cur && iv.from <= cur.to + o.mergeGap) {
      cur.to = Math.max(cur.to, iv.to);
      cur.kinds.add(iv.kind);
      cur.magnitude = Math.max(cur.magnitude, iv.magnitude);
      if (iv.dropDb !== undefined) cur.dropDb = Math.min(cur.dropDb ?? 0, iv.dropDb);
    } else {
      flush();
      cur = { from: iv.from, to: iv.to, kinds: new Set([iv.kind]), magnitude: iv.magnitude, dropDb: iv.dropDb };
    }
  }
  flush();
  return { channel, frequencyHz: (omega * sampleRate) / (2 * Math.PI), amplitude, tolerance, analysedFrom: from, analysedTo: to, glitches };
}

/** Every channel of a capture; glitches come back sorted by sample time. */
export function detectGlitches(channels: Float32Array[], sampleRate: number, options: GlitchOptions = {}): { channels: ChannelGlitches[]; glitches: Glitch[] } {
  const per = channels.map((x, ch) => detectChannelGlitches(x, sampleRate, ch, options));
  const glitches = per.flatMap((p) => p.glitches).sort((a, b) => a.sample - b.sample || a.channel - b.channel);
  return { channels: per, glitches };
}

export interface GlitchJoin {
  glitches: Glitch[];
  /** Glitches no log entry explains. */
  unexplained: Glitch[];
  /** Log entries with no audible glitch (concealed, or the detector missed them). */
  silentLogs: EngineGlitchLog[];
}

/**
 * Gives each glitch the cause of the engine log entries that overlap it (within
 * `toleranceSamples`, for the few samples a predictor needs to notice).
 */
export function joinGlitchCauses(glitches: Glitch[], logs: EngineGlitchLog[], toleranceSamples = 4): GlitchJoin {
  const used = new Set<EngineGlitchLog>();
  const out = glitches.map((g) => {
    const hits = logs.filter((l) => {
      if (l.channel !== undefined && l.channel !== g.channel) return false;
      const lEnd = l.sample + (l.length ?? 1);
      return l.sample < g.sample + g.length + toleranceSamples && lEnd > g.sample - toleranceSamples;
    });
    if (hits.length === 0) return { ...g };
    for (const h of hits) used.add(h);
    const causes = [...new Set(hits.map((h) => h.cause))];
    return { ...g, cause: causes.join('+'), causes: hits };
  });
  return { glitches: out, unexplained: out.filter((g) => g.cause === undefined), silentLogs: logs.filter((l) => !used.has(l)) };
}
