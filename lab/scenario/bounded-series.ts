// A report's time series kept to a size a report.json and its plots can carry, built as
// samples arrive: a soak of a day samples the device's PTP error 8.64 million times and
// must not hold them. Longer series are cut into stretches of equal sample count and each
// stretch keeps its lowest and its highest sample (in time order), so every extreme stays
// in the plot; the figures judged (fill min/max, PTP rms/max) are tallied from every sample.
import type { Series } from '../report/schema.ts';

/** Series up to this many points are kept whole. */
export const MAX_SERIES_POINTS = 20_000;

/**
 * Up to `maxPoints` samples are kept whole; beyond, the samples so far fall into stretches
 * of equal count (doubling as more arrive), so at most `maxPoints` points remain.
 */
export class BoundedSeries {
  /**
   * Per stretch: the lowest and highest sample (time, value), in arrival order. Grown as
   * stretches come (up to maxPoints): a run's dozen series of a few hundred samples do not
   * each take 640 KB of zeroed memory up front.
   */
  private loT: Float64Array;
  private loV: Float64Array;
  private hiT: Float64Array;
  private hiV: Float64Array;
  private stretches = 0;
  /** Samples per stretch: 1 while the series is whole. */
  private perStretch = 1;
  /** Samples in the last stretch (it is full at perStretch). */
  private inLast = 1;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(private readonly maxPoints = MAX_SERIES_POINTS) {
    if (maxPoints < 4) throw new Error(`BoundedSeries keeps at least 4 points (asked for ${maxPoints})`);
    const capacity = Math.min(maxPoints, 256);
    this.loT = new Float64Array(capacity);
    this.loV = new Float64Array(capacity);
    this.hiT = new Float64Array(capacity);
    this.hiV = new Float64Array(capacity);
  }

  private grow(): void {
    const capacity = Math.min(this.maxPoints, this.loT.length * 2);
    const bigger = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    this.loT = bigger(this.loT);
    this.loV = bigger(this.loV);
    this.hiT = bigger(this.hiT);
    this.hiV = bigger(this.hiV);
  }

  add(t: number, v: number): void {
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    // Halve while the stretches exceed their limit, or are at it with the last one full
    // (a stretch gives one point while whole, up to two once merged).
    for (;;) {
      const limit = this.perStretch === 1 ? this.maxPoints : Math.floor(this.maxPoints / 2);
      if (this.stretches > limit || (this.stretches === limit && this.inLast === this.perStretch)) this.halve();
      else break;
    }
    if (this.inLast < this.perStretch && this.stretches > 0) {
      const k = this.stretches - 1;
      if (v < this.loV[k]) (this.loV[k] = v), (this.loT[k] = t);
      if (v > this.hiV[k]) (this.hiV[k] = v), (this.hiT[k] = t);
      this.inLast++;
      return;
    }
    const k = this.stretches++;
    if (k >= this.loT.length) this.grow();
    this.loT[k] = this.hiT[k] = t;
    this.loV[k] = this.hiV[k] = v;
    this.inLast = 1;
  }

  /** Merges neighbouring stretches pairwise: twice the samples per stretch. */
  private halve(): void {
    const n = this.stretches;
    let out = 0;
    for (let i = 0; i < n; i += 2) {
      const j = i + 1 < n ? i + 1 : i;
      const lo = this.loV[j] < this.loV[i] ? j : i;
      const hi = this.hiV[j] > this.hiV[i] ? j : i;
      this.loT[out] = this.loT[lo];
      this.loV[out] = this.loV[lo];
      this.hiT[out] = this.hiT[hi];
      this.hiV[out] = this.hiV[hi];
      out++;
    }
    // Every stretch but the last is full; with an odd count the last stands alone.
    this.inLast = n % 2 === 1 ? this.inLast : this.perStretch + this.inLast;
    this.stretches = out;
    this.perStretch *= 2;
  }

  series(label: string, unit: string, round: (t: number) => number = (t) => t): Series {
    const t: number[] = [];
    const values: number[] = [];
    for (let k = 0; k < this.stretches; k++) {
      const lo = { t: this.loT[k], v: this.loV[k] };
      const hi = { t: this.hiT[k], v: this.hiV[k] };
      for (const p of lo.t === hi.t && lo.v === hi.v ? [lo] : lo.t <= hi.t ? [lo, hi] : [hi, lo]) {
        t.push(round(p.t));
        values.push(p.v);
      }
    }
    const whole = this.perStretch === 1;
    return { label: whole ? label : `${label}; ${this.count} samples shown as the lowest and highest of ${this.stretches} stretches`, unit, t, values };
  }
}
