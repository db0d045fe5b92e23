// The audio a lab receiver recorded of one of the device's TX streams, read one channel at
// a time straight from the payload bytes it recorded (RecordingView), for measure.ts.
//
// Speed: a 10 s run of 8 streams x 8 channels returns 30 million samples. Decoding them all
// into one interleaved Float32Array (recordedAudio) cost ~170 ms and 123 MB to collect;
// the measurement needs each channel once, compared with what was sent, and the samples of
// only a few channels (the glitch detector's, the probe's). A native receiver's recording is
// read where it is held (RecordingView's inPlace: native/src/recorded_channel.hpp): copying
// its one-second blocks out to JavaScript, comparing a slice per call and decoding channels
// in JavaScript was ~60 ms of the bench's measurement, ~20 ms so (bench/virtual-speed.ts).
// Every value read here is the value recordedAudio would hold at that place
// (measure-fast.test.ts runs the measurement both ways over whole scenarios;
// returned-audio.test.ts reads every channel both ways; native-aes67.test.ts crosses the
// in-place reader with the TypeScript receiver's decoded audio).
import { bytesPerSample, type PcmEncoding } from '../net/pcm.ts';
import type { ChannelComparison, ReceivedAudio, RecordingView } from '../peers/rtp-subscription.ts';

/** One TX stream's returned audio, frame 0 at media time `firstSample`. */
export interface ReturnedAudio {
  readonly channels: number;
  readonly firstSample: bigint;
  /** Frames recorded (recordedAudio's interleaved.length / channels). */
  readonly frames: number;
  /** Channel k's frames [from, from + len) as recordedAudio decodes them, into out[at...]; 0 outside [0, frames). */
  channel(k: number, from: number, len: number, out?: Float32Array, at?: number): Float32Array;
  /**
   * How many of channel k's frames [from, from + len) differ (!==) from `table[(phase + i) %
   * table.length]`, i = 0..len-1; a frame outside [0, frames) always differs.
   */
  countDiffering(k: number, from: number, len: number, table: Float32Array, phase: number): number;
  /** countDiffering summed over each comparison's ranges (frames of this audio), per comparison. */
  countDifferingIn(comparisons: ChannelComparison[]): number[];
}

/** Frames of a stream compared in one go, every channel (a few tens of KB: stays in the cache). */
const COMPARE_SLICE = 2048;

/**
 * countDifferingIn by countDiffering: a slice of frames at a time, every channel in it, so a
 * recording is read from memory once, not once per channel (a channel's samples are a few
 * bytes in each frame).
 */
function countDifferingBySlices(count: ReturnedAudio['countDiffering'], comparisons: ChannelComparison[]): number[] {
  const wrong = comparisons.map(() => 0);
  const next = comparisons.map(() => 0);
  const used = comparisons.filter((c) => c.ranges.length > 0);
  if (used.length === 0) return wrong;
  const lo = Math.min(...used.map((c) => c.ranges[0]));
  const hi = Math.max(...used.map((c) => c.ranges[c.ranges.length - 1]));
  for (let c0 = lo; c0 < hi; c0 += COMPARE_SLICE) {
    const c1 = Math.min(hi, c0 + COMPARE_SLICE);
    comparisons.forEach((c, i) => {
      const P = c.table.length;
      for (; next[i] < c.ranges.length; next[i] += 2) {
        const from = Math.max(c.ranges[next[i]], c0);
        const to = Math.min(c.ranges[next[i] + 1], c1);
        if (from < to) wrong[i] += count(c.channel, from, to - from, c.table, (((c.phase + from - c.origin) % P) + P) % P);
        if (c.ranges[next[i] + 1] > c1) break;
      }
    });
  }
  return wrong;
}

/** Full scale of each encoding, as decodePcm divides by it. */
const SCALE: Record<PcmEncoding, number> = { L16: 2 ** 15, L24: 2 ** 23, L32: 2 ** 31 };

/**
 * Of `count` samples at bytes[start + i * stride] (`width` bytes each, as decodePcm reads
 * them), how many differ from table[(phase + i) % table.length]: the addon's
 * countDifferingSamples (native/src/measure_binding.cc).
 */
export type SampleCounter = (bytes: Uint8Array, start: number, stride: number, count: number, width: number, table: Float32Array, phase: number) => number;

/**
 * A recording read in place from its payload bytes: through its `inPlace` reader where it
 * has one, else from its one-second blocks (as recordedAudio reads them), samples compared
 * by `counter` where given, else by the loops here.
 */
export function returnedAudioOf(v: RecordingView, counter?: SampleCounter): ReturnedAudio {
  const a = returnedAudioOfBlocks(v, counter);
  const r = v.inPlace;
  if (!r) return a;
  return {
    ...a,
    channel(k, from, len, out = new Float32Array(len), at = 0) {
      r.readChannel(k, from, len, out, at);
      return out;
    },
    countDifferingIn: (comparisons) => r.countDiffering(comparisons),
  };
}

function returnedAudioOfBlocks(v: RecordingView, counter?: SampleCounter): ReturnedAudio {
  const s = v.stream;
  const ch = s.channels;
  const width = bytesPerSample(s.encoding);
  const frameBytes = ch * width;
  const rate = s.sampleRate;
  const frames = v.lastFrameEnd;
  const scale = SCALE[s.encoding];
  const encoding = s.encoding;
  return {
    channels: ch,
    firstSample: v.firstSample,
    frames,
    channel(k, from, len, out = new Float32Array(len), at = 0) {
      // Plain loops, no callback: a variable a closure shares lives in memory, not a register.
      out.fill(0, at, at + len);
      const end = Math.min(from + len, frames);
      for (let f = Math.max(0, from); f < end; ) {
        const b = Math.floor(f / rate);
        const start = b * rate;
        const f0 = f - start;
        const f1 = Math.min(end, start + rate) - start;
        let i = at + f - from;
        f = start + f1;
        const bytes = v.blockAt(b)?.bytes;
        if (!bytes) continue;
        // decodePcm decodes the whole samples the block's bytes hold; the rest stay 0.
        const last = Math.min(f1, Math.floor((bytes.length - (k + 1) * width) / frameBytes) + 1);
        let o = f0 * frameBytes + k * width;
        if (encoding === 'L24') {
          for (let g = f0; g < last; g++, i++, o += frameBytes) out[i] = (((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8)) >> 8) * 2 ** -23;
        } else {
          for (let g = f0; g < last; g++, i++, o += frameBytes) out[i] = decodeAt(bytes, o, encoding, scale);
        }
      }
      return out;
    },
    countDiffering(k, from, len, table, phase) {
      // Plain loops, no callback: a counter a closure shares lives in memory, not a register.
      const P = table.length;
      let wrong = 0;
      let inside = 0;
      const end = Math.min(from + len, frames);
      for (let f = Math.max(0, from); f < end; ) {
        const b = Math.floor(f / rate);
        const start = b * rate;
        const f0 = f - start;
        const f1 = Math.min(end, start + rate) - start;
        f = start + f1;
        inside += f1 - f0;
        let p = (phase + start + f0 - from) % P;
        const bytes = v.blockAt(b)?.bytes;
        const last = bytes ? Math.max(f0, Math.min(f1, Math.floor((bytes.length - (k + 1) * width) / frameBytes) + 1)) : f0;
        let o = f0 * frameBytes + k * width;
        if (!bytes) {
          // No block: silence.
        } else if (counter) {
          if (last > f0) {
            wrong += counter(bytes, o, frameBytes, last - f0, width, table, p);
            p = (p + (last - f0)) % P;
          }
        } else if (encoding === 'L24') {
          // L16 and L24 divide exactly (|v| < 2^24): v * 2^-bits is the Float32 decodePcm stores.
          for (let i = f0; i < last; i++, o += frameBytes) {
            let x = (bytes[o] << 16) | (bytes[o + 1] << 8) | bytes[o + 2];
            if (x >= 0x800000) x -= 0x1000000;
            if (x * 2 ** -23 !== table[p]) wrong++;
            if (++p === P) p = 0;
          }
        } else if (encoding === 'L16') {
          for (let i = f0; i < last; i++, o += frameBytes) {
            let x = (bytes[o] << 8) | bytes[o + 1];
            if (x >= 0x8000) x -= 0x10000;
            if (x * 2 ** -15 !== table[p]) wrong++;
            if (++p === P) p = 0;
          }
        } else {
          for (let i = f0; i < last; i++, o += frameBytes) {
            if (decodeAt(bytes, o, encoding, scale) !== table[p]) wrong++;
            if (++p === P) p = 0;
          }
        }
        // Past the block's bytes, or no block: 0, as recordedAudio leaves them.
        for (let i = last; i < f1; i++) {
          if (table[p] !== 0) wrong++;
          if (++p === P) p = 0;
        }
      }
      // Frames outside the recording: recordedAudio has nothing there (undefined differs from any value).
      return wrong + (len - inside);
    },
    countDifferingIn(comparisons) {
      return countDifferingBySlices(this.countDiffering, comparisons);
    },
  };
}

/** The sample at byte `o` as decodePcm gives it (big-endian two's complement / full scale, stored as Float32). */
function decodeAt(bytes: Uint8Array, o: number, encoding: PcmEncoding, scale: number): number {
  const width = encoding === 'L16' ? 2 : encoding === 'L24' ? 3 : 4;
  let x = 0;
  for (let b = 0; b < width; b++) x = x * 256 + bytes[o + b];
  if (x >= scale) x -= 2 * scale;
  return Math.fround(x / scale);
}

/** Decoded audio (recordedAudio's result) behind the same interface: the reference path, and receivers that give no RecordingView. */
export function returnedAudioFromDecoded(a: ReceivedAudio): ReturnedAudio {
  const ch = a.channels;
  const x = a.interleaved;
  const frames = x.length / ch;
  return {
    channels: ch,
    firstSample: a.firstSample,
    frames,
    channel(k, from, len, out = new Float32Array(len), at = 0) {
      for (let i = 0; i < len; i++) {
        const f = from + i;
        out[at + i] = f >= 0 && f < frames ? x[f * ch + k] : 0;
      }
      return out;
    },
    countDiffering(k, from, len, table, phase) {
      const P = table.length;
      let wrong = 0;
      let p = phase % P;
      for (let i = 0; i < len; i++) {
        const f = from + i;
        if (f < 0 || f >= frames || x[f * ch + k] !== table[p]) wrong++;
        if (++p === P) p = 0;
      }
      return wrong;
    },
    countDifferingIn(comparisons) {
      return countDifferingBySlices(this.countDiffering, comparisons);
    },
  };
}
