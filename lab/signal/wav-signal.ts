// A WAV file (read with wavefile) played in a loop by absolute sample index: sample n plays
// file frame (n − startIndex) mod length. Stream channel c plays file channel c mod the
// file's channel count. No resampling: the file's rate must be the stream's.
import { readFileSync } from 'node:fs';
import wavefilePkg from 'wavefile';
import { checkRenderArgs, checkSampleRate, type Signal } from './signal.ts';

const { WaveFile } = wavefilePkg as unknown as typeof import('wavefile');

export interface WavSignalOptions {
  path: string;
  /** Absolute sample index at which the file's first frame plays (default 0). */
  startIndex?: number;
}

export interface WavSignal extends Signal {
  readonly fileChannels: number;
  readonly frames: number;
}

export function wavSignal(o: WavSignalOptions, sampleRate: number): WavSignal {
  checkSampleRate(sampleRate);
  let wav: InstanceType<typeof WaveFile>;
  try {
    wav = new WaveFile(readFileSync(o.path));
  } catch (e) {
    throw new Error(`wav signal ${o.path}: cannot read it as WAV (${(e as Error).message})`);
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; audioFormat: number };
  if (fmt.sampleRate !== sampleRate) {
    throw new Error(`wav signal ${o.path}: the file is ${fmt.sampleRate} Hz, the stream ${sampleRate} Hz (resample the file, e.g. ffmpeg -ar ${sampleRate})`);
  }
  const fileChannels = fmt.numChannels;
  const bitDepth = (wav as unknown as { bitDepth: string }).bitDepth;
  const raw = wav.getSamples(true, Float64Array) as unknown as Float64Array;
  // Integer PCM scales by 2^(bits−1) (as ffmpeg and the RTP L16/L24 codecs do), not by
  // wavefile's toBitDepth('32f') which divides positive values by 2^(bits−1) − 1.
  let samples: Float64Array;
  if ((fmt.audioFormat === 3 && (bitDepth === '32f' || bitDepth === '64')) || (fmt.audioFormat === 0xfffe && bitDepth === '32f')) {
    samples = raw;
  } else if ((fmt.audioFormat === 1 || fmt.audioFormat === 0xfffe) && ['8', '16', '24', '32'].includes(bitDepth)) {
    const bits = Number(bitDepth);
    const scale = 2 ** (bits - 1);
    const bias = bits === 8 ? 128 : 0; // 8-bit WAV is unsigned
    samples = raw.map((v) => (v - bias) / scale);
  } else {
    throw new Error(`wav signal ${o.path}: ${bitDepth}-bit format ${fmt.audioFormat} is not linear PCM or float (convert it, e.g. ffmpeg -c:a pcm_s24le)`);
  }
  const frames = Math.floor(samples.length / fileChannels);
  if (frames === 0) throw new Error(`wav signal ${o.path}: the file has no audio frames`);
  const startIndex = o.startIndex ?? 0;
  if (!Number.isSafeInteger(startIndex) || startIndex < 0) throw new RangeError(`wav signal start index ${startIndex} must be a non-negative integer`);
  return {
    description: `wav ${o.path} (${fileChannels} ch, ${frames} frames, looped)`,
    sampleRate,
    fileChannels,
    frames,
    render(start, count, channels, out) {
      const buf = checkRenderArgs(start, count, channels, out);
      let k = (((start - startIndex) % frames) + frames) % frames;
      for (let i = 0; i < count; i++) {
        for (let c = 0; c < channels; c++) buf[i * channels + c] = samples[k * fileChannels + (c % fileChannels)];
        if (++k === frames) k = 0;
      }
      return buf;
    },
  };
}
