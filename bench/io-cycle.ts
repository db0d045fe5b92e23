// IO-cycle cost per frame through the HAL host emulator (zero time stamp, ReadInput from
// playout buffers, the loopback client, WriteMix into TX rings), printed next to a memcpy
// of the same bytes measured in the same run, for 2, 8, 64 and 128 channels. Timing is done
// in C++ (driver/host/io_cycle_benchmark.cpp): medians of 100-cycle batches. Never fails on
// a figure; only on a broken measurement.
import { loadNative } from '../native/index.ts';
import { recordBench } from './bench-json.ts';

const native = loadNative();
const BUFFER = 256;
const CYCLES = 20_000;

console.log(`IO buffer ${BUFFER} frames, ${CYCLES} timed cycles per row (medians of 100-cycle batches)`);
console.log(
  `${'channels'.padStart(8)} ${'IO ns/cycle'.padStart(12)} ${'IO ns/frame'.padStart(12)} ${'memcpy ns/cycle'.padStart(16)} ` +
    `${'bytes/cycle'.padStart(12)} ${'ratio'.padStart(7)} ${'CPU at 48 kHz'.padStart(14)}`,
);
const rows = [];
for (const channels of [2, 8, 64, 128]) {
  const r = native.measureIoCycle({ channels, bufferFrames: BUFFER, cycles: CYCLES });
  if (!(r.ioNsPerCycle > 0 && r.memcpyNsPerCycle > 0)) throw new Error(`measurement failed for ${channels} channels: ${JSON.stringify(r)}`);
  // Share of one core the IO cycle takes in real time: its cost over the buffer's duration.
  const load = r.ioNsPerCycle / ((BUFFER / 48000) * 1e9);
  console.log(
    `${String(channels).padStart(8)} ${r.ioNsPerCycle.toFixed(0).padStart(12)} ${(r.ioNsPerCycle / BUFFER).toFixed(2).padStart(12)} ` +
      `${r.memcpyNsPerCycle.toFixed(0).padStart(16)} ${String(r.bytesPerCycle).padStart(12)} ` +
      `${(r.ioNsPerCycle / r.memcpyNsPerCycle).toFixed(1).padStart(6)}x ${(load * 100).toFixed(3).padStart(13)}%`,
  );
  rows.push({ ...r, ratio: r.ioNsPerCycle / r.memcpyNsPerCycle, cpuAt48kHz: load });
}
recordBench('io-cycle', { bufferFrames: BUFFER, rows });
