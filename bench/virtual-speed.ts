// Virtual-time speed of a scenario: 8 AES67 senders x 8 channels (64 channels, L24, 48 kHz,
// 1 ms) with an emulated grandmaster and the engine's PTP slave, through the emulated device
// and back to 8 lab receivers, as x real time (virtual seconds per wall second; target
// >= 100x). Beside it, in the same run:
//   - the same scenario's network alone: grandmaster, senders and 8 lab receivers on the
//     senders' streams, no device (what the lab's own peers cost);
//   - a raw VirtualNetwork packet loop: native sockets sending the same number of
//     same-size datagrams (8 streams in and 8 out) and draining them (the floor).
//   - the shape of the long drift scenario (scenarios/field/08-drift-24h.yaml): one stream
//     of 2 channels with PTP, for what a day of virtual time costs.
//   - the old path: the same full run with every lab peer in TypeScript (nativePeers off;
//     the full run uses the C++ grandmaster, senders and receivers of
//     lab/peers/native-*.ts where a scenario's peer fits them), as a ratio: how much the
//     native peers bought;
//   - the same full run again in the same process (what a suite's later scenarios cost),
//     and with the runner's reference bookkeeping (recordScenario's `reference`: the
//     device's stamps folded in TypeScript, its full PTP status every slice, polled at every
//     step; measured the same, lab/scenario/fast-bookkeeping.test.ts), as a ratio.
//   - the measurement alone (measureScenario on one more recording, code warm), and its
//     reference way (measureScenario's `reference`: every returned stream decoded whole,
//     each channel's expected samples rendered and quantised over its span; the same
//     figures, lab/scenario/measure-fast.test.ts), as a ratio.
// Ratios are full / baseline. Every row gives x real time twice: virtual seconds per wall
// second, and per second of this process's CPU time (user + system), which other
// processes on a busy machine disturb much less. Every row starts on a collected heap.
// Where the full run's time goes is measured too (each actor's poll timed: the native ones
// in C++), so a figure below the target says what to make faster.
// Writes bench.json.
// Never fails on a figure; only on a broken run.
//
// What was done, in order (the figures and how each was measured are in issue 9's notes):
// the device's stamps folded in C++, its PTP read by a brief, polled only when due or when
// its host got datagrams; the lab's grandmaster, senders and receivers in C++ (speed4); the
// measurement in C++ on the recorded payload bytes (measure6); repeated payloads recorded
// once, shared by one network's receivers (stop 19); V8 no longer re-optimising the same
// code every run (speed6); a lone pass-through loopback client's input handed over as the
// mix (speed7); the receivers' chunk lookup guessing the successor before hashing
// (speed8); the device's stamp log sized to a runner slice, its PTP slave not run between
// timers with no datagram waiting, its SAP sessions walked only when one may time out, a
// TX poll taking its kept due time, one mapping for most PTP inversions (speed9); the
// receivers' and transmitters' media-clock questions answered from the last answer while
// the PTP mapping's version holds (8 streams ask each 8 times a step), a flat socket index
// in the network, TX packets encoded where their frames lie in the ring (speed10); the
// measurement's glitch detector and probe FFT in C++, the TypeScript its reference way (measure7);
// returned audio read and compared in C++ inside the native recordings, repeated chunks once (measure8).
// Tried and dropped (no gain measured): madvise pre-faulting of the recording, huge pages,
// a 1024-frame playout ring, decoding straight into the ring (again in speed10: wall -3 %,
// CPU the same, 8 pairs), prefetching ring slots, a 10x longer runner slice (the
// TypeScript between slices costs under 1 %).
// Where a steady run's time goes now (perf -e cpu-clock; this VM has no hardware counters):
// memcpy ~15 % (packets into the network's pool, decoded floats into the playout rings,
// the IO cycle's playout reads and TX ring writes), the device's RX (PlayoutBuffer::write's
// stamps, L24 decode), page faults ~8 % (the probe stream's never-repeating chunks), the
// network's deliveries ~4 % (cache misses on the sockets and their queues).
// Memory-bound work on a shared 2-core VM: single runs spread 10-40 % with the load.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadNative } from '../native/index.ts';
import { runVirtual, virtualHost, type TimedActor } from '../lab/net/lab-transport.ts';
import { Aes67Receiver } from '../lab/peers/aes67-receiver.ts';
import { NativeAes67Receiver } from '../lab/peers/native-aes67-receiver.ts';
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
const ONE_SECONDS = 60;
const ONE_STREAM = `name: virtual-speed-one-stream
description: one AES67 stream of 2 channels through the device, with PTP (the 24 h drift scenario's shape)
proves: nothing (a benchmark)
duration: ${ONE_SECONDS}s
grandmasters: [{ name: gm }]
senders:
  - { name: stage, kind: aes67, channels: 2, probe: { channel: 2 } }
device: { buffer: 64, linkOffset: 3ms }
expect:
  latency.error: { equals: 0 }
  audio.mismatched: { equals: 0 }
  rtp.device.lost: { equals: 0 }
`;
const oneStream = { file, scenario: parseYamlWith(file, ONE_STREAM, scenarioSchema) };

// Each row starts on a collected heap and an idle process: the garbage a row leaves (the
// TypeScript peers' rows leave hundreds of megabytes) is collected before the next row, and
// V8's helper threads finish sweeping it, instead of charging that to the next row's CPU.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const idle = new Int32Array(new SharedArrayBuffer(4));
const collect = () => {
  gc();
  Atomics.wait(idle, 0, 0, 200);
};

/** CPU seconds (user + system) of this process since `from`. */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

/**
 * CPU ns of this process's main thread and of its other threads (V8's compiler and
 * collector) from /proc (Linux; undefined elsewhere): the others' share of a run is mostly
 * V8 compiling, apart from the run's own work.
 */
const threadNs = (): { main: number; others: number } | undefined => {
  if (!existsSync('/proc/self/task')) return undefined;
  let main = 0;
  let others = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let ns: number;
    try {
      ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue; // a thread that ended meanwhile
    }
    if (tid === String(process.pid)) main += ns;
    else others += ns;
  }
  return { main, others };
};

function fullRun(timing?: Map<string, number>, which = loaded, nativePeers = true, reference = false) {
  collect();
  const th0 = threadNs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const record = recordScenario(which, 1, undefined, undefined, timing, { nativePeers, reference });
  const run = (performance.now() - t0) / 1000;
  const runCpu = cpuSince(c0);
  const th1 = threadNs();
  const threads = th0 && th1 ? { mainS: (th1.main - th0.main) / 1e9, othersS: (th1.others - th0.others) / 1e9 } : undefined;
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  const measured = measureScenario(record);
  const measure = (performance.now() - t1) / 1000;
  const measureCpu = cpuSince(c1);
  const bad = measured.expectations.filter((e) => e.verdict !== 'pass');
  if (bad.length) throw new Error(`the benchmark scenario did not run whole: ${bad.map((e) => `${e.name} = ${String(e.value)} ${e.message ?? ''}`).join('; ')}`);
  const packets = record.world.network.stats().sent;
  return { run, runCpu, measure, measureCpu, packets, threads };
}

/** The same world without the device: lab receivers straight on the senders' streams (TypeScript peers, or the native ones). */
function networkAlone(nativePeers = false) {
  collect();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const w = new ScenarioWorld(loaded.scenario, file, 1, { nativePeers });
  const receivers = w.senders.map((s, i) => {
    const o = { transport: virtualHost(w.network, w.clock, `10.67.3.${10 + i}`), timescale: w.time, source: s.sdp()!, recordSeconds: SECONDS + 1 };
    return nativePeers && w.linear ? new NativeAes67Receiver({ ...o, network: w.network, linear: w.linear }) : new Aes67Receiver(o);
  });
  runVirtual([...w.actors, ...receivers], w.network, w.clock, { untilNs: SECONDS * 1e9 });
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSince(c0);
  const got = receivers.reduce((a, r) => a + (r.metrics()?.packets ?? 0), 0);
  if (got < 8 * SECONDS * 990) throw new Error(`network-alone baseline received only ${got} packets`);
  return { wall, cpu, packets: w.network.stats().sent };
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
  collect();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  runVirtual([sender, drain], network, clock, { untilNs: SECONDS * 1e9 });
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSince(c0);
  if (received < 16 * SECONDS * 999) throw new Error(`raw loop received only ${received} datagrams`);
  return { wall, cpu, packets: network.stats().sent };
}


console.log(`${SECONDS} s of virtual time; 8 streams x 8 channels L24 48 kHz 1 ms each way, emulated grandmaster + engine PTP slave`);
const raw = rawLoop();
const alone = networkAlone();
const aloneNative = networkAlone(true);
const full = fullRun();
// The same run again: what a suite's later scenarios cost (code compiled, caches warm).
const again = fullRun();
const reference = fullRun(undefined, loaded, true, true);
const tsPeers = fullRun(undefined, loaded, false);
const one = fullRun(undefined, oneStream);
// The measurement alone on one more recording: the fast way, and the reference way it must equal (lab/scenario/measure-fast.test.ts).
const measureOnly = (() => {
  const record = recordScenario(loaded, 1);
  const time = (reference: boolean) => {
    collect();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    measureScenario(record, { reference });
    return { wall: (performance.now() - t0) / 1000, cpu: cpuSince(c0) };
  };
  return { fast: time(false), reference: time(true), packets: record.world.network.stats().sent };
})();
const x = (wall: number, seconds = SECONDS) => seconds / wall;
const rows = [
  { what: 'full scenario run (device + peers + PTP)', wallS: full.run, cpuS: full.runCpu, xRealTime: x(full.run), xPerCpu: x(full.runCpu), packets: full.packets },
  { what: 'full scenario run + measurement', wallS: full.run + full.measure, cpuS: full.runCpu + full.measureCpu, xRealTime: x(full.run + full.measure), xPerCpu: x(full.runCpu + full.measureCpu), packets: full.packets },
  { what: 'measurement alone (measureScenario)', wallS: measureOnly.fast.wall, cpuS: measureOnly.fast.cpu, xRealTime: x(measureOnly.fast.wall), xPerCpu: x(measureOnly.fast.cpu), packets: measureOnly.packets },
  { what: 'measurement alone, the reference way', wallS: measureOnly.reference.wall, cpuS: measureOnly.reference.cpu, xRealTime: x(measureOnly.reference.wall), xPerCpu: x(measureOnly.reference.cpu), packets: measureOnly.packets },
  { what: 'the same full run again in the same process', wallS: again.run, cpuS: again.runCpu, xRealTime: x(again.run), xPerCpu: x(again.runCpu), packets: again.packets },
  { what: "the full run, the runner's reference bookkeeping", wallS: reference.run, cpuS: reference.runCpu, xRealTime: x(reference.run), xPerCpu: x(reference.runCpu), packets: reference.packets },
  { what: 'old path: the full run with TypeScript peers', wallS: tsPeers.run, cpuS: tsPeers.runCpu, xRealTime: x(tsPeers.run), xPerCpu: x(tsPeers.runCpu), packets: tsPeers.packets },
  { what: 'baseline: the same network without the device', wallS: alone.wall, cpuS: alone.cpu, xRealTime: x(alone.wall), xPerCpu: x(alone.cpu), packets: alone.packets },
  { what: 'the same network without the device, native peers', wallS: aloneNative.wall, cpuS: aloneNative.cpu, xRealTime: x(aloneNative.wall), xPerCpu: x(aloneNative.cpu), packets: aloneNative.packets },
  { what: 'baseline: raw VirtualNetwork packet loop', wallS: raw.wall, cpuS: raw.cpu, xRealTime: x(raw.wall), xPerCpu: x(raw.cpu), packets: raw.packets },
  { what: `1 stream x 2 ch + PTP, ${ONE_SECONDS} s (08-drift-24h's shape)`, wallS: one.run, cpuS: one.runCpu, xRealTime: x(one.run, ONE_SECONDS), xPerCpu: x(one.runCpu, ONE_SECONDS), packets: one.packets },
];
console.log(`${'run'.padEnd(52)} ${'wall s'.padStart(8)} ${'x real'.padStart(8)} ${'cpu s'.padStart(8)} ${'x per cpu'.padStart(10)} ${'datagrams'.padStart(10)}`);
for (const r of rows) {
  console.log(`${r.what.padEnd(52)} ${r.wallS.toFixed(3).padStart(8)} ${`${r.xRealTime.toFixed(1)}x`.padStart(8)} ${r.cpuS.toFixed(3).padStart(8)} ${`${r.xPerCpu.toFixed(1)}x`.padStart(10)} ${String(r.packets).padStart(10)}`);
}
const split = (r: ReturnType<typeof fullRun>) => (r.threads ? `main thread ${r.threads.mainS.toFixed(3)} s, V8's other threads ${r.threads.othersS.toFixed(3)} s` : 'not measured (no /proc)');
console.log(`CPU of the full run by thread: ${split(full)}; the same run again: ${split(again)}`);
console.log(`a day of virtual time in the one-stream shape, at this run's pace: ${(86400 / x(one.run, ONE_SECONDS) / 60).toFixed(0)} min wall, ${(86400 / x(one.runCpu, ONE_SECONDS) / 60).toFixed(0)} min of CPU`);
// Where the full run's time goes: each actor's poll timed (a second run: timing costs a little).
const timing = new Map<string, number>();
const timedRun = fullRun(timing);
const accounted = [...timing.values()].reduce((a, v) => a + v, 0);
timing.set('the rest: scheduler, N-API, TypeScript between polls', timedRun.run * 1000 - accounted);
console.log(`where a full run's ${timedRun.run.toFixed(3)} s go:`);
const breakdown = [...timing].sort((a, b) => b[1] - a[1]).map(([what, ms]) => ({ what, ms: Math.round(ms), share: ms / (timedRun.run * 1000) }));
for (const b of breakdown) console.log(`  ${b.what.padEnd(52)} ${String(b.ms).padStart(7)} ms ${(b.share * 100).toFixed(1).padStart(5)}%`);
const ratioAlone = full.runCpu / alone.cpu;
const ratioRaw = full.runCpu / raw.cpu;
const meets = x(full.run) >= 100;
const ratioNative = tsPeers.runCpu / full.runCpu;
const ratioReference = reference.runCpu / full.runCpu;
console.log(`full run takes ${ratioAlone.toFixed(2)}x the CPU time of its network alone (TypeScript peers) and ${ratioRaw.toFixed(1)}x the raw packet loop`);
console.log(`native peers: the full run is ${ratioNative.toFixed(2)}x faster per CPU second than with TypeScript peers (${(tsPeers.run / full.run).toFixed(2)}x wall)`);
console.log(`fast bookkeeping: the full run is ${ratioReference.toFixed(2)}x faster per CPU second than with the runner's reference way (same measurement: lab/scenario/fast-bookkeeping.test.ts)`);
console.log(`measurement: the fast way is ${(measureOnly.reference.cpu / measureOnly.fast.cpu).toFixed(2)}x faster per CPU second than its reference way (same figures: lab/scenario/measure-fast.test.ts)`);
console.log(`target >= 100x real time: ${meets ? 'met' : 'NOT met'} (${x(full.run).toFixed(1)}x wall, ${x(full.runCpu).toFixed(1)}x per CPU second)`);
recordBench('virtual-speed', {
  virtualSeconds: SECONDS,
  streams: 8,
  channels: 64,
  ptp: true,
  targetXRealTime: 100,
  rows,
  ratioFullToNetworkAlone: ratioAlone,
  ratioFullToRawLoop: ratioRaw,
  ratioTypeScriptPeersToNative: ratioNative,
  ratioReferenceBookkeepingToFast: ratioReference,
  ratioReferenceMeasurementToFast: measureOnly.reference.cpu / measureOnly.fast.cpu,
  againXPerCpu: x(again.runCpu),
  fullThreadsCpuS: full.threads,
  againThreadsCpuS: again.threads,
  meetsTarget: meets,
  oneStreamXRealTime: x(one.run, ONE_SECONDS),
  oneStreamXPerCpu: x(one.runCpu, ONE_SECONDS),
  breakdown,
});
