// Digital silence: every sample exactly zero (a receiver that plays anything else is wrong).
import { checkRenderArgs, checkSampleRate, type Signal } from './signal.ts';

export function silence(sampleRate: number): Signal {
  checkSampleRate(sampleRate);
  return {
    description: 'silence',
    sampleRate,
    render(start, frames, channels, out) {
      const buf = checkRenderArgs(start, frames, channels, out);
      buf.fill(0, 0, frames * channels);
      return buf;
    },
  };
}
