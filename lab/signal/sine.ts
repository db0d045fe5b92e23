// A sine by absolute sample index. The phase of sample n is frac(n·f / rate), computed as
// n = q·rate + r: frac(q·frac(f) + r·f / rate), which stays exact to ~1e-7 cycles at media
// times near 2^47 where the naive n·f / rate has lost every fractional digit.
import { checkLevel, checkRenderArgs, checkSampleRate, type Signal } from './signal.ts';

export interface SineOptions {
  frequencyHz: number;
  /** AES17 dBFS: 0 peaks at full scale. */
  levelDbfs: number;
  /** Channel c plays frequencyHz + c·channelStepHz, so a swapped channel shows (default 0). */
  channelStepHz?: number;
}

export function sine(o: SineOptions, sampleRate: number): Signal {
  checkSampleRate(sampleRate);
  checkLevel(o.levelDbfs, 'sine');
  const step = o.channelStepHz ?? 0;
  if (!(o.frequencyHz > 0 && o.frequencyHz < sampleRate / 2)) {
    throw new RangeError(`sine frequency ${o.frequencyHz} Hz must be in (0, ${sampleRate / 2}) at ${sampleRate} Hz`);
  }
  if (!Number.isFinite(step)) throw new RangeError(`sine channel step ${step} Hz is not a number`);
  const amplitude = 10 ** (o.levelDbfs / 20);
  const twoPi = 2 * Math.PI;
  return {
    description: `sine ${o.frequencyHz} Hz ${o.levelDbfs} dBFS${step ? ` (+${step} Hz per channel)` : ''}`,
    sampleRate,
    render(start, frames, channels, out) {
      const buf = checkRenderArgs(start, frames, channels, out);
      for (let c = 0; c < channels; c++) {
        const f = o.frequencyHz + c * step;
        if (!(f > 0 && f < sampleRate / 2)) throw new RangeError(`sine channel ${c + 1} frequency ${f} Hz is outside (0, ${sampleRate / 2})`);
        const fFrac = f - Math.floor(f);
        const perSample = f / sampleRate;
        let q = Math.floor(start / sampleRate);
        let r = start - q * sampleRate;
        let base = q * fFrac;
        base -= Math.floor(base);
        for (let i = 0; i < frames; i++) {
          let phase = base + r * perSample;
          phase -= Math.floor(phase);
          buf[i * channels + c] = amplitude * Math.sin(twoPi * phase);
          if (++r === sampleRate) {
            r = 0;
            q++;
            base = q * fFrac;
            base -= Math.floor(base);
          }
        }
      }
      return buf;
    },
  };
}
