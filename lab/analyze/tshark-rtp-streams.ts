// Parses `tshark -q -z rtp,streams`: the reference the analyzer's figures are held to.
import { tshark } from '../net/tshark.ts';

export interface TsharkRtpStream {
  source: string;
  destination: string;
  ssrc: number;
  payload: string;
  packets: number;
  lost: number;
  minDeltaMs: string;
  meanDeltaMs: string;
  maxDeltaMs: string;
  minJitterMs: string;
  meanJitterMs: string;
  maxJitterMs: string;
  problem: boolean;
}

export function tsharkRtpStreams(file: string, extra: string[] = ['-o', 'rtp.heuristic_rtp:TRUE']): TsharkRtpStream[] {
  const out = tshark(['-r', file, ...extra, '-q', '-z', 'rtp,streams']);
  const rows: TsharkRtpStream[] = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 17 || !/^0x[0-9A-Fa-f]{8}$/.test(f[6])) continue;
    rows.push({
      source: `${f[2]}:${f[3]}`,
      destination: `${f[4]}:${f[5]}`,
      ssrc: parseInt(f[6], 16),
      payload: f[7],
      packets: Number(f[8]),
      lost: Number(f[9]),
      minDeltaMs: f[11],
      meanDeltaMs: f[12],
      maxDeltaMs: f[13],
      minJitterMs: f[14],
      meanJitterMs: f[15],
      maxJitterMs: f[16],
      problem: f[17] === 'X',
    });
  }
  return rows;
}
