// Shared by the measurement tests: ffmpeg renders the signals (delays, noise, glitches),
// so what a test asserts comes from a tool that is not the code under test.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deinterleave } from './latency.ts';

export function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function interleave(channels: Float32Array[]): Float32Array {
  const frames = channels[0].length;
  const out = new Float32Array(frames * channels.length);
  for (let f = 0; f < frames; f++) for (let c = 0; c < channels.length; c++) out[f * channels.length + c] = channels[c][f];
  return out;
}

/** Runs `ffmpeg [input args] -filter_complex graph` (ending in the label [o]) and returns the output as 32-bit float channels. */
function runFfmpeg(inputArgs: string[], graph: string, outChannels: number, sampleRate: number): Float32Array[] {
  const out = execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', ...inputArgs, '-filter_complex', graph, '-map', '[o]', '-ac', String(outChannels), '-ar', String(sampleRate), '-f', 'f32le', '-acodec', 'pcm_f32le', '-'],
    { maxBuffer: 1 << 28 },
  );
  const floats = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  return deinterleave(floats, outChannels);
}

/** Feeds `input` (one array per channel) through an ffmpeg filter graph whose input is [0:a]. */
export function ffmpegFilter(input: Float32Array[], sampleRate: number, graph: string, outChannels = input.length): Float32Array[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'a67r-ff-'));
  try {
    const raw = path.join(dir, 'in.f32');
    const bytes = interleave(input);
    writeFileSync(raw, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return runFfmpeg(['-f', 'f32le', '-ar', String(sampleRate), '-ac', String(input.length), '-i', raw], graph, outChannels, sampleRate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders an ffmpeg source graph (e.g. `aevalsrc=...`) with no input. */
export function ffmpegSource(graph: string, outChannels: number, sampleRate: number): Float32Array[] {
  return runFfmpeg([], graph, outChannels, sampleRate);
}

/** Runs ffmpeg and returns its stderr (for filters that print, like astats). */
export function ffmpegStderr(args: string[]): string {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stderr;
}
