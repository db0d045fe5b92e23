// What the device should send back of a sender's channel: the sender's signal rendered
// again at the media time it was sent, quantised as the path carries it (the sender's
// encoding, then the returned stream's if it is coarser; a finer one represents the
// coarser values exactly).
//
// Speed: a channel whose signal repeats exactly every `period` samples (sender-signal.ts
// tabulates whole-hertz sines and the probe's MLS) is quantised once per period, not per
// returned sample: 64 channels x 10 s need 8 tables of 48,000 values, not 30 million
// renders and roundings. expected-audio.test.ts checks the table against rendering and
// quantising the whole span, over long spans at real media times.
import type { PcmEncoding } from '../net/pcm.ts';
import type { Signal } from '../signal/signal.ts';
import type { ChannelSignal } from './sender-signal.ts';

export const FULL_SCALE: Record<PcmEncoding, number> = { L16: 2 ** 15, L24: 2 ** 23, L32: 2 ** 31 };

/**
 * x as `encoding` carries it: decodePcm(encodePcm(x)) of lab/net/pcm.ts (NaN as 0, ties to
 * even, clipped), in place and without the byte round trip (measure.test.ts checks the two agree).
 */
export function quantizeInPlace(x: Float32Array, encoding: PcmEncoding): Float32Array {
  const scale = FULL_SCALE[encoding];
  const max = scale - 1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] * scale;
    let r = Math.round(v);
    if (r - v === 0.5 && r % 2 !== 0) r -= 1;
    if (Number.isNaN(r)) r = 0;
    else if (r > max) r = max;
    else if (r < -scale) r = -scale;
    x[i] = r / scale + 0; // + 0: no negative zero, as decodePcm gives none
  }
  return x;
}

/** `x` quantised for the sender's encoding, then for the stream's if it is coarser. */
function carried(x: Float32Array, sent: PcmEncoding, stream: PcmEncoding): Float32Array {
  const q = quantizeInPlace(x, sent);
  if (FULL_SCALE[stream] < FULL_SCALE[sent]) quantizeInPlace(q, stream);
  return q;
}

/** Sample i of the expected span is table[(phase + i) % table.length]. */
export interface ExpectedSamples {
  table: Float32Array;
  phase: number;
}

/** One period of a periodic signal, quantised, by signal and encodings (tables are read only). */
const periods = new WeakMap<Signal, Map<string, Float32Array>>();

/**
 * Channel signal `cs` from its sample `start` for `len` samples, as the path carries it.
 * The whole span rendered and quantised (the reference way, `reference`, and for signals
 * that do not repeat), or one quantised period and where in it the span starts.
 */
export function expectedSamples(cs: ChannelSignal, start: number, len: number, sent: PcmEncoding, stream: PcmEncoding, reference = false): ExpectedSamples {
  const period = cs.period;
  if (reference || period === undefined || !Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(period) || period < 1) {
    return { table: carried(cs.signal.render(start, len, 1), sent, stream), phase: 0 };
  }
  let bySignal = periods.get(cs.signal);
  if (!bySignal) periods.set(cs.signal, (bySignal = new Map()));
  const key = `${sent} ${stream} ${period}`;
  let table = bySignal.get(key);
  if (!table) bySignal.set(key, (table = carried(cs.signal.render(0, period, 1), sent, stream)));
  return { table, phase: start % period };
}
