// What runRealTime's pacing costs a live peer: 1 and 4 lab Aes67Senders (8 channels of L24
// 48 kHz, 1 ms packets, to multicast) in one Node process in a namespace of their own, once
// with pacing 'spin' (setImmediate while the next packet is under 1 ms away) and once with
// 'timer' (sleep on a Node timer to the due time), side by side in the same run: CPU of the
// process from /proc/<pid>/stat (utime + stime) over 10 s after 3 s of start-up, and the
// senders' own lateness. A measurement, not a test (figures on a shared host are noisy).
// Root (network namespaces). Usage: npx tsx ci/pacing-cpu.ts
// A67X_NETNS_PREFIX / A67X_SUBNET move it off its own namespace.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canUseNetns, createNetns } from './netns.ts';
import { collect } from '../lab/dut/dut-client.ts';
import { runRealTime, udpTransport } from '../lab/net/lab-transport.ts';
import { Aes67Sender, type SenderStats } from '../lab/peers/aes67-sender.ts';
import { systemTimescale } from '../lab/peers/system-timescale.ts';

const MEASURE_S = 10;
const START_S = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process in clock ticks (USER_HZ, 100 on Linux). */
function ticks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The peer process: `n` senders on runRealTime with `pacing` for `seconds`, then their stats as JSON. */
async function peer(pacing: 'timer' | 'spin', n: number, seconds: number, subnet: number): Promise<void> {
  const transport = udpTransport('eth0');
  const timescale = systemTimescale(transport);
  const senders = Array.from({ length: n }, (_, k) =>
    new Aes67Sender({ transport, timescale, destination: `239.69.${subnet}.${k + 1}`, channels: 8, sampleRate: 48_000, encoding: 'L24', framesPerPacket: 48,
      signal: { kind: 'sine', frequencyHz: 400 + 97 * k, levelDbfs: -12, channelStepHz: 13 }, sessionName: `pacing ${k + 1}` }));
  process.stdout.write('started\n');
  await runRealTime(senders, transport, { durationNs: seconds * 1e9, pacing });
  process.stdout.write(`${JSON.stringify(senders.map((s) => s.stats))}\n`);
  for (const s of senders) s.close();
}

async function main(): Promise<void> {
  const usable = canUseNetns();
  if (!usable.ok) throw new Error(`pacing-cpu needs network namespaces: ${usable.reason}`);
  const prefix = process.env.A67X_NETNS_PREFIX ?? 'a67pcpu';
  const subnet = Number(process.env.A67X_SUBNET ?? 158);
  const net = createNetns({ prefix, hosts: ['a'], subnet });
  const self = fileURLToPath(import.meta.url);
  try {
    for (const n of [1, 4]) {
      for (const pacing of ['spin', 'timer'] as const) {
        const child = net.spawn('a', process.execPath, ['--import', 'tsx', self, 'peer', pacing, String(n), String(START_S + MEASURE_S + 3), String(subnet)]);
        const out = collect(child);
        const t0 = Date.now();
        while (!out.stdout.includes('started')) {
          if (Date.now() - t0 > 60_000 || child.exitCode !== null) throw new Error(`the ${pacing} peer did not start within 60 s: ${out.stderr}`);
          await sleep(50);
        }
        await sleep(START_S * 1e3);
        const a = ticks(child.pid!);
        const ta = performance.now();
        await sleep(MEASURE_S * 1e3);
        const b = ticks(child.pid!);
        const tb = performance.now();
        const code = await Promise.race([out.exited, sleep(30_000).then(() => 'late' as const)]);
        if (code !== 0) throw new Error(`the ${pacing} peer ${code === 'late' ? 'did not end within 30 s of its time' : `exited with ${code}`}: ${out.stderr}`);
        const stats = JSON.parse(out.stdout.trim().split('\n').pop()!) as SenderStats[];
        const cpu = (b - a) / 100 / ((tb - ta) / 1e3);
        console.log(
          `${n} sender(s), pacing ${pacing}: ${(100 * cpu).toFixed(1)} % of one core; lateness mean ${(Math.max(...stats.map((s) => s.meanLatenessNs)) / 1e6).toFixed(2)} ms, ` +
            `max ${(Math.max(...stats.map((s) => s.maxLatenessNs)) / 1e6).toFixed(1)} ms; packets ${stats.map((s) => s.packets).join('/')}; skipped ${stats.reduce((x, s) => x + s.skipped, 0)}`,
        );
      }
    }
  } finally {
    net.destroy();
  }
}

const [mode, pacing, n, seconds, subnet] = process.argv.slice(2);
(mode === 'peer' ? peer(pacing as 'timer' | 'spin', Number(n), Number(seconds), Number(subnet)) : main()).then(
  () => process.exit(0),
  (e) => {
    console.error(`pacing-cpu: ${(e as Error).message}`);
    process.exit(1);
  },
);
