// Virtual-time speed of a scenario: 8 AES67 senders x 8 channels (64 channels, L24, 48 kHz,
// 1 ms) with an emulated grandmaster and the engine's PTP slave, through the emulated device
// and back to 8 lab receivers, as x real time (virtual seconds per wall second; target
// >= 100x). Beside it, in the same run:
//   - the same scenario's network alone: grandmaster, senders and 8 lab receivers on the
//     senders' streams, no device (what the lab's own peers cost);
//   - a raw VirtualNetwork packet loop: native sockets sending the same number of
//     same-size datagrams (8 streams in and 8 out) and draining them (the floor).
// Ratios are full / baseline. Where the full run's time goes is measured too (each actor's
// poll timed), so a figure below the target says what to make faster. Writes bench.json.
// Never fails on a figure; only on a broken run.
import { loadNative } from '../native/index.ts';
import { runVirtual, virtualHost, type TimedActor } from '../lab/net/lab-transport.ts';
import { Aes67Receiver } from '../lab/peers/aes67-receiver.ts';
import { measureScenario } from '../lab/scenario/measure.ts';
import { recordScenario } from '../lab/scenario/runner.ts';
import { scenarioSchema } from '../lab/scenario/schema.ts';
import { ScenarioWorld } from '../lab/scenario/world.ts';
import { parseYamlWith } from '../lab/scenario/yaml-source.ts';
import { recordBench } from './bench-json.ts';

const SECONDS = 10;
const senders = Array.from({ length: 8 }, (_, i) => `  - { name: s${i + 1}, kind: aes67, channels: 8${i === 7 ? ', probe: { channel: 8 }' : ''} }`).join('\n');
const YAML = `name: virtual-speed
description: 8 AES67 senders x 8 channels through the device, with PTP
proves: nothing (a benchmark); its expectations only check the run was whole
duration: ${SECONDS}s
grandmasters: [{ name: gm }]
senders:
${senders}
device: { inputs: 64, outputs: 64, buffer: 64, linkOffset: 2ms }
expect:
  latency.error: { equals: 0 }
  audio.mismatched: { equals: 0 }
  rtp.device.lost: { equals: 0 }
  ptp.lockTime: { max: 6s }
`;
const file = 'bench/virtual-speed.ts';
const loaded = { file, scenario: parseYamlWith(file, YAML, scenarioSchema) };

function fullRun(timing?: Map<string, number>) {
  const t0 = performance.now();
  const record = recordScenario(loaded, 1, undefined, undefined, timing);
  const run = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const measured = measureScenario(record);
  const measure = (performance.now() - t1) / 1000;
  const bad = measured.expectations.filter((e) => e.verdict !== 'pass');
  if (bad.length) throw new Error(`the benchmark scenario did not run whole: ${bad.map((e) => `${e.name} = ${String(e.value)} ${e.message ?? ''}`).join('; ')}`);
  const packets = record.world.network.stats().sent;
  return { run, measure, packets };
}

/** The same world without the device: lab receivers straight on the senders' streams. */
function networkAlone() {
  const t0 = performance.now();
  const w = new ScenarioWorld(loaded.scenario, file, 1);
  const receivers = w.senders.map((s, i) => new Aes67Receiver({ transport: virtualHost(w.network, w.clock, `10.67.3.${10 + i}`), timescale: w.time, source: s.sdp()!, recordSeconds: SECONDS + 1 }));
  runVirtual([...w.actors, ...receivers], w.network, w.clock, { untilNs: SECONDS * 1e9 });
  const wall = (performance.now() - t0) / 1000;
  const got = receivers.reduce((a, r) => a + (r.metrics()?.packets ?? 0), 0);
  if (got < 8 * SECONDS * 990) throw new Error(`network-alone baseline received only ${got} packets`);
  return { wall, packets: w.network.stats().sent };
}

/** Native sockets only: 16 streams of 1164-byte datagrams at 1 kHz, drained as they land. */
function rawLoop() {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 30_000);
  const tx = virtualHost(network, clock, '10.67.1.1');
  const rx = virtualHost(network, clock, '10.67.3.1');
  const payload = new Uint8Array(12 + 48 * 8 * 3);
  const out = tx.open({ dscp: 34 });
  const ins = Array.from({ length: 16 }, (_, i) => {
    const s = rx.open({ port: 5004, bindAddress: `239.67.9.${i + 1}` });
    s.join(`239.67.9.${i + 1}`);
    return s;
  });
  let next = 0;
  let received = 0;
  const sender: TimedActor = {
    poll(now) {
      while (next <= now) {
        for (let i = 0; i < 16; i++) out.send(`239.67.9.${i + 1}:5004`, payload);
        next += 1e6;
      }
      return next;
    },
  };
  const drain: TimedActor = {
    poll() {
      for (const s of ins) while (s.receive()) received++;
      return Infinity;
    },
  };
  const t0 = performance.now();
  runVirtual([sender, drain], network, clock, { untilNs: SECONDS * 1e9 });
  const wall = (performance.now() - t0) / 1000;
  if (received < 16 * SECONDS * 999) throw new Error(`raw loop received only ${received} datagrams`);
  return { wall, packets: network.stats().sent };
}


console.log(`${SECONDS} s of virtual time; 8 streams x 8 channels L24 48 kHz 1 ms each way, emulated grandmaster + engine PTP slave`);
const raw = rawLoop();
const alone = networkAlone();
const full = fullRun();
const x = (wall: number) => SECONDS / wall;
const rows = [
  { what: 'full scenario run (device + peers + PTP)', wallS: full.run, xRealTime: x(full.run), packets: full.packets },
  { what: 'full scenario run + measurement', wallS: full.run + full.measure, xRealTime: x(full.run + full.measure), packets: full.packets },
  { what: 'baseline: the same network without the device', wallS: alone.wall, xRealTime: x(alone.wall), packets: alone.packets },
  { what: 'baseline: raw VirtualNetwork packet loop', wallS: raw.wall, xRealTime: x(raw.wall), packets: raw.packets },
];
console.log(`${'run'.padEnd(48)} ${'wall s'.padStart(8)} ${'x real time'.padStart(12)} ${'datagrams'.padStart(10)}`);
for (const r of rows) console.log(`${r.what.padEnd(48)} ${r.wallS.toFixed(3).padStart(8)} ${`${r.xRealTime.toFixed(1)}x`.padStart(12)} ${String(r.packets).padStart(10)}`);
// Where the full run's time goes: each actor's poll timed (a second run: timing costs a little).
const timing = new Map<string, number>();
const timedRun = fullRun(timing);
const accounted = [...timing.values()].reduce((a, v) => a + v, 0);
timing.set('network delivery and the scheduler (the rest)', timedRun.run * 1000 - accounted);
console.log(`where a full run's ${timedRun.run.toFixed(3)} s go:`);
const breakdown = [...timing].sort((a, b) => b[1] - a[1]).map(([what, ms]) => ({ what, ms: Math.round(ms), share: ms / (timedRun.run * 1000) }));
for (const b of breakdown) console.log(`  ${b.what.padEnd(52)} ${String(b.ms).padStart(7)} ms ${(b.share * 100).toFixed(1).padStart(5)}%`);
const ratioAlone = full.run / alone.wall;
const ratioRaw = full.run / raw.wall;
console.log(`full run takes ${ratioAlone.toFixed(2)}x the time of its network alone and ${ratioRaw.toFixed(1)}x the raw packet loop; target >= 100x real time: ${x(full.run) >= 100 ? 'met' : 'NOT met'}`);
recordBench('virtual-speed', {
  virtualSeconds: SECONDS,
  streams: 8,
  channels: 64,
  ptp: true,
  targetXRealTime: 100,
  rows,
  ratioFullToNetworkAlone: ratioAlone,
  ratioFullToRawLoop: ratioRaw,
  meetsTarget: x(full.run) >= 100,
  breakdown,
});
