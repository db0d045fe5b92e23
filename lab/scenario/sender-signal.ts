// What a scenario sender plays, channel by channel: its signal on every channel but the
// probe channel, which carries an MLS. Signals are functions of the absolute sample index
// (lab/signal), so the runner can render later exactly what was sent at any media time.
//
// Speed: a virtual-time run renders tens of millions of samples. A sine of a whole number
// of hertz repeats every `rate` samples (lab/signal/sine.ts computes the phase from the
// index modulo the rate) and an MLS every 2^degree - 1, so each channel is rendered once
// into a table of one period and played from it; the table holds the very values the
// direct rendering gives (sender-signal.test.ts checks it at random indices).
import path from 'node:path';
import { createSignal, type SignalSpec } from '../signal/index.ts';
import type { Signal } from '../signal/signal.ts';
import type { SenderSpec } from './schema.ts';

/** The default signal: a sine per channel, 100 Hz apart, so a swapped channel shows. */
export const DEFAULT_SIGNAL = { sine: 997, level: -20, step: 100 } as const;

/** Longest period kept as a table (frames). */
const MAX_TABLE = 1 << 20;

export interface ChannelSignal {
  /** 'sine', 'probe', 'noise', 'wav', 'silence', or 'capture' (a replayed capture's audio). */
  kind: string;
  /** Sine frequency of this channel (sine only). */
  frequencyHz?: number;
  signal: Signal;
  /** Samples after which it repeats exactly (tabulated), or undefined. */
  period?: number;
}

/** A mono signal that can also write straight into one channel of an interleaved buffer. */
interface StridedSignal extends Signal {
  into(start: number, frames: number, out: Float32Array, stride: number, offset: number): void;
}

function tabulate(signal: Signal, period: number): StridedSignal {
  const table = signal.render(0, period, 1);
  const into = (start: number, frames: number, out: Float32Array, stride: number, offset: number) => {
    let k = start % period;
    for (let i = 0, o = offset; i < frames; i++, o += stride) {
      out[o] = table[k];
      if (++k === period) k = 0;
    }
  };
  return {
    description: signal.description,
    sampleRate: signal.sampleRate,
    period,
    into,
    render(start, frames, channels, out) {
      const buf = out ?? new Float32Array(frames * channels);
      into(start, frames, buf, channels, 0);
      return buf;
    },
  };
}

/**
 * Tables already made, by what they tabulate: a scenario's senders mostly play the same
 * sines (a run of 8 senders x 8 channels renders 8 tables, not 64). A table is read only,
 * so senders share it. Bounded: cleared when it holds TABLE_CACHE entries.
 */
const tables = new Map<string, StridedSignal>();
const TABLE_CACHE = 256;

function tabulateOnce(key: string, make: () => Signal, period: number): StridedSignal {
  let t = tables.get(key);
  if (!t) {
    if (tables.size >= TABLE_CACHE) tables.clear();
    tables.set(key, (t = tabulate(make(), period)));
  }
  return t;
}

/** The mono signal of each of a sender's channels. */
export function channelSignals(sender: SenderSpec, channels: number, rate: number, scenarioFile: string): ChannelSignal[] {
  const spec = sender.signal ?? DEFAULT_SIGNAL;
  const out: ChannelSignal[] = [];
  for (let c = 0; c < channels; c++) {
    if (sender.probe && sender.probe.channel === c + 1) {
      const period = 2 ** sender.probe.degree - 1;
      const probe = { kind: 'probe', levelDbfs: sender.probe.level, degree: sender.probe.degree } as const;
      out.push({ kind: 'probe', signal: tabulateOnce(`probe ${probe.levelDbfs} ${probe.degree} ${rate}`, () => createSignal(probe, rate), period), period });
      continue;
    }
    if (spec === 'silence') {
      out.push({ kind: 'silence', signal: createSignal({ kind: 'silence' }, rate) });
    } else if ('sine' in spec) {
      const f = spec.sine + c * spec.step;
      const make = () => createSignal({ kind: 'sine', frequencyHz: f, levelDbfs: spec.level }, rate);
      const whole = Number.isInteger(f) && rate <= MAX_TABLE;
      out.push({ kind: 'sine', frequencyHz: f, signal: whole ? tabulateOnce(`sine ${f} ${spec.level} ${rate}`, make, rate) : make(), ...(whole ? { period: rate } : {}) });
    } else if ('noise' in spec) {
      // Each channel its own seed: the multi-channel noise hashes the channel in too.
      out.push({ kind: 'noise', signal: createSignal({ kind: 'noise', seed: spec.seed * 131 + c, levelDbfs: spec.level }, rate) });
    } else {
      const file = path.resolve(path.dirname(scenarioFile), spec.wav);
      out.push({ kind: 'wav', signal: channelOf(createSignal({ kind: 'wav', path: file } as SignalSpec, rate), c) });
    }
  }
  return out;
}

/** Channel `c` of a multi-channel signal, as a mono one. */
function channelOf(signal: Signal, c: number): Signal {
  let scratch = new Float32Array(0);
  return {
    description: `${signal.description} channel ${c + 1}`,
    sampleRate: signal.sampleRate,
    render(start, frames, channels, out) {
      const width = c + 1;
      if (scratch.length < frames * width) scratch = new Float32Array(frames * width);
      signal.render(start, frames, width, scratch);
      const buf = out ?? new Float32Array(frames * channels);
      for (let i = 0; i < frames; i++) buf[i * channels] = scratch[i * width + c];
      return buf;
    },
  };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Longest common period of an interleaved signal worth declaring (frames): beyond it a sender would not cache. */
const MAX_COMMON_PERIOD = 1 << 24;

/**
 * The period of the channels together: the least common multiple of theirs (silence
 * repeats every sample), or undefined when a channel has none or it is too long to use.
 */
export function commonPeriod(signals: ChannelSignal[]): number | undefined {
  let p = 1;
  for (const s of signals) {
    const q = s.kind === 'silence' ? 1 : s.period;
    if (q === undefined) return undefined;
    p = (p / gcd(p, q)) * q;
    if (p > MAX_COMMON_PERIOD) return undefined;
  }
  return p;
}

/** The sender's channels interleaved, as the Signal an Aes67Sender plays. */
export function interleaved(signals: ChannelSignal[], rate: number): Signal {
  const n = signals.length;
  let mono = new Float32Array(0);
  const period = commonPeriod(signals);
  return {
    description: signals.map((s, c) => `${c + 1}: ${s.signal.description}`).join('; '),
    sampleRate: rate,
    ...(period !== undefined ? { period } : {}),
    render(start, frames, channels, out) {
      if (channels !== n) throw new Error(`sender signal has ${n} channels, asked for ${channels}`);
      const buf = out ?? new Float32Array(frames * channels);
      if (mono.length < frames) mono = new Float32Array(frames);
      for (let c = 0; c < n; c++) {
        const sig = signals[c].signal as Partial<StridedSignal> & Signal;
        if (sig.into) {
          sig.into(start, frames, buf, n, c);
          continue;
        }
        sig.render(start, frames, 1, mono);
        for (let i = 0; i < frames; i++) buf[i * n + c] = mono[i];
      }
      return buf;
    },
  };
}
