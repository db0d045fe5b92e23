// A signal from a plain description (what a scenario file or a CLI flag names).
import { mlsProbe } from './probe.ts';
import { noise } from './noise.ts';
import type { Signal } from './signal.ts';
import { silence } from './silence.ts';
import { sine } from './sine.ts';
import { wavSignal } from './wav-signal.ts';

export type { Signal } from './signal.ts';

export type SignalSpec =
  | { kind: 'sine'; frequencyHz: number; levelDbfs: number; channelStepHz?: number }
  | { kind: 'silence' }
  | { kind: 'noise'; seed: number; levelDbfs: number; distribution?: 'gaussian' | 'uniform' }
  | { kind: 'probe'; levelDbfs: number; degree?: number }
  | { kind: 'wav'; path: string; startIndex?: number };

export function createSignal(spec: SignalSpec, sampleRate: number): Signal {
  switch (spec.kind) {
    case 'sine':
      return sine(spec, sampleRate);
    case 'silence':
      return silence(sampleRate);
    case 'noise':
      return noise(spec, sampleRate);
    case 'probe':
      return mlsProbe(spec, sampleRate);
    case 'wav':
      return wavSignal(spec, sampleRate);
    default:
      throw new Error(`unknown signal kind "${(spec as { kind: string }).kind}": use sine, silence, noise, probe or wav`);
  }
}
