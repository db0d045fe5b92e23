// Packets per second of `aes67-lab analyze` (in-process, both passes) and of
// `tshark -q -z rtp,streams` on the same capture, measured in the same run, and the ratio.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { analyzeCapture } from '../lab/analyze/analyze-capture.ts';
import { sharedCaptures } from '../lab/net/pcap/shared-captures.ts';
import { recordBench } from './bench-json.ts';

const captures = sharedCaptures();
if (captures.length === 0) throw new Error('../shared/captures is absent: nothing to measure');
// The largest capture: the longest run, the least start-up noise.
const file = captures.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
const ROUNDS = 5;

function best(fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return min;
}

const frames = analyzeCapture(file).frames;
const ours = best(() => analyzeCapture(file));
const theirs = best(() => execFileSync('tshark', ['-r', file, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams'], { stdio: ['ignore', 'pipe', 'ignore'] }));
const row = (name: string, s: number) => `${name.padEnd(34)} ${(frames / s).toFixed(0).padStart(10)} packets/s  (${(s * 1000).toFixed(1)} ms)`;
console.log(`capture: ${file} (${frames} packets, best of ${ROUNDS})`);
console.log(row('aes67-lab analyze', ours));
console.log(row('tshark -q -z rtp,streams', theirs));
console.log(`ratio: ${(theirs / ours).toFixed(1)}x tshark (target ≥ 5x)`);
// tshark's own start-up is part of what a user waits for, but say how much of it there is.
const smallest = captures.reduce((a, b) => (statSync(a).size <= statSync(b).size ? a : b));
const startup = best(() => execFileSync('tshark', ['-r', smallest, '-q', '-z', 'rtp,streams'], { stdio: ['ignore', 'pipe', 'ignore'] }));
console.log(`tshark start-up alone (smallest capture): ${(startup * 1000).toFixed(1)} ms; ratio without it: ${((theirs - startup) / ours).toFixed(1)}x`);
recordBench('analyze', {
  capture: file,
  packets: frames,
  rounds: ROUNDS,
  oursSeconds: ours,
  tsharkSeconds: theirs,
  tsharkStartupSeconds: startup,
  ratio: theirs / ours,
  ratioWithoutStartup: (theirs - startup) / ours,
});
