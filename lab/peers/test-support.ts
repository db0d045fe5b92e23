// Shared by the peers' tests: independent recorders (ffmpeg, GStreamer), WAV reading and
// continuity checks, bounded in time whatever happens.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import wavefilePkg from 'wavefile';
import { fitSine, type SineFit } from '../analyze/sine-fit.ts';

const { WaveFile } = wavefilePkg as unknown as typeof import('wavefile');

export interface RunningTool {
  child: ChildProcess;
  /** Resolves with exit code and stderr when the process ends (or is killed at the deadline). */
  exited: Promise<{ code: number | null; stderr: string }>;
  stop(signal?: NodeJS.Signals): void;
}

/** Spawns a tool with a hard deadline (SIGKILL) so no test can hang on it. */
export function runTool(cmd: string, args: string[], deadlineMs: number): RunningTool {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stderr += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    }),
  );
  return { child, exited, stop: (signal = 'SIGINT') => child.exitCode === null && child.kill(signal) };
}

export interface WavContent {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Interleaved, scaled to [-1, 1). */
  interleaved: Float32Array;
  frames: number;
}

export function readWav(file: string): WavContent {
  const wav = new WaveFile(readFileSync(file));
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number };
  const raw = wav.getSamples(true, Float64Array) as unknown as Float64Array;
  const scale = 2 ** (fmt.bitsPerSample - 1);
  const interleaved = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) interleaved[i] = raw[i] / scale;
  return { channels: fmt.numChannels, sampleRate: fmt.sampleRate, bitsPerSample: fmt.bitsPerSample, interleaved, frames: raw.length / fmt.numChannels };
}

/** Sine fit of every channel, skipping `skipFrames` at the start (a recorder's start-up). */
export function fitChannels(w: WavContent, skipFrames = 0): SineFit[] {
  const fits: SineFit[] = [];
  const x = w.interleaved.subarray(skipFrames * w.channels);
  for (let c = 0; c < w.channels; c++) fits.push(fitSine(x, w.sampleRate, w.channels, c));
  return fits;
}

export interface ExpertEntry {
  severity: 'Errors' | 'Warns' | 'Notes' | 'Chats' | 'Comments';
  count: number;
  group: string;
  protocol: string;
  summary: string;
}

/** tshark's expert info (`-z expert`): malformed packets appear as Errors. */
export function tsharkExpert(file: string, extra: string[] = []): ExpertEntry[] {
  const out = execFileSync('tshark', ['-r', file, ...extra, '-q', '-z', 'expert'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const entries: ExpertEntry[] = [];
  let severity: ExpertEntry['severity'] | undefined;
  for (const line of out.split('\n')) {
    const head = /^(Errors|Warns|Notes|Chats|Comments) \(\d+\)/.exec(line);
    if (head) {
      severity = head[1] as ExpertEntry['severity'];
      continue;
    }
    const row = /^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (severity && row && row[2] !== 'Group') entries.push({ severity, count: Number(row[1]), group: row[2], protocol: row[3], summary: row[4].trim() });
  }
  return entries;
}

/**
 * Expert errors and warnings, less Wireshark's DNS "retransmission" warning: mDNS sends
 * every multicast message with ID 0 (RFC 6762 §18.1) and repeats probes and announcements
 * by design (§8.1, §8.3), which Wireshark's unicast-DNS heuristic takes for retransmission.
 */
export function tsharkSeriousExpert(file: string, extra: string[] = []): ExpertEntry[] {
  return tsharkExpert(file, ['-o', 'dns.retransmission_timer:0', ...extra]).filter(
    (e) => (e.severity === 'Errors' || e.severity === 'Warns') && !(e.protocol === 'mDNS' && /^DNS (query|response) retransmission/.test(e.summary)),
  );
}
