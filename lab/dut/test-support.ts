// Shared by the software DUT's live crossings: tool discovery, WAV reading, the tone check.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import wavefilePkg from 'wavefile';
import { detectChannelGlitches, type ChannelGlitches } from '../measure/glitches.ts';
import { fitSine, type SineFit } from '../analyze/sine-fit.ts';
import { DUT_BINARY } from './dut-client.ts';

const { WaveFile } = wavefilePkg as unknown as typeof import('wavefile');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether this process may start peers at SCHED_FIFO (chrt -f 20): they keep pace on a busy host. */
export const chrtWorks = (() => {
  try {
    execFileSync('chrt', ['-f', '20', 'true'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
})();

export function which(cmd: string): boolean {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

/** Why the live DUT crossings cannot run here, or undefined when they can. */
export function missingForDut(tools: string[]): string | undefined {
  if (!existsSync(DUT_BINARY)) return `${DUT_BINARY} is not built (npm run build)`;
  const missing = tools.filter((t) => !which(t));
  return missing.length ? `missing ${missing.join(', ')}` : undefined;
}

export interface Wav {
  sampleRate: number;
  channels: Float32Array[];
  bitsPerSample: number;
}

export function readWav(file: string): Wav {
  const w = new WaveFile(readFileSync(file));
  // Read the format first: toBitDepth() rebuilds the file and resets the old fmt object.
  const { numChannels, sampleRate, bitsPerSample } = w.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number };
  if (!(sampleRate > 0) || !(numChannels > 0)) throw new Error(`${file}: not a usable WAV (rate ${sampleRate}, ${numChannels} channels)`);
  w.toBitDepth('32f');
  const raw = w.getSamples(false, Float64Array) as unknown as Float64Array[] | Float64Array;
  const channels = (numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[])).map((c) => Float32Array.from(c));
  return { sampleRate, channels, bitsPerSample };
}

export interface ToneCheck {
  channel: number;
  glitches: ChannelGlitches;
  fit: SineFit;
  /** Seconds of tone analysed (after trimming the silence before it arrived). */
  seconds: number;
}

/** Finds the tone in every channel with the lab's glitch detector and sine fit. */
export function checkTone(wav: Wav, frequencyHz: number): ToneCheck[] {
  return wav.channels.map((x, channel) => {
    const glitches = detectChannelGlitches(x, wav.sampleRate, channel, { frequencyHz });
    const fit = fitSine(x.subarray(glitches.analysedFrom, glitches.analysedTo), wav.sampleRate);
    return { channel, glitches, fit, seconds: (glitches.analysedTo - glitches.analysedFrom) / wav.sampleRate };
  });
}
