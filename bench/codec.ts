// L16 / L24 / L32 decode and encode throughput next to a memcpy of the same bytes,
// measured in C++ (native/src/bench_binding.cc) in one run: batches of calls interleaved
// operation by operation, medians over the batches. The ratio is codec throughput over
// memcpy throughput of the wire bytes (1.0 = as fast as copying the payload; target
// >= 0.5). Each size is timed twice: the kernels the engine runs (chosen once at load for
// this CPU, e.g. avx2) and the portable scalar kernels they must match bit for bit, the
// baseline they improve on. Never fails on a figure; only on a broken measurement.
import { loadNative } from '../native/index.ts';
import type { NativePcmEncoding } from '../native/rtp.ts';
import { recordBench } from './bench-json.ts';

const native = loadNative();
const BATCHES = 301;
const TARGET = 0.5;
// One 1 ms packet at 48 kHz: 8 channels, and 64 (the most one AES67 stream carries) —
// the size the engine codes at, in the L1 cache, where memcpy is at its fastest; and 1 s
// of 64 channels, far beyond the caches, where both are bound by memory.
const SIZES = [
  { label: '1 ms x 8 ch', samples: 48 * 8 },
  { label: '1 ms x 64 ch', samples: 48 * 64 },
  { label: '1 s x 64 ch', samples: 48_000 * 64 },
];
const ENCODINGS: NativePcmEncoding[] = ['L16', 'L24', 'L32'];

console.log(`medians of ${BATCHES} batches per figure; ratio = codec throughput / memcpy throughput of the wire bytes (target >= ${TARGET}x)`);
// A codec moves more bytes than the wire holds: it reads or writes 4 bytes of float a
// sample. "float" is memcpy of the wire bytes over memcpy of the float bytes, timed in the
// same batches: the ratio a codec would show if it were as fast as copying its float side.
console.log(`float = memcpy of the wire bytes / memcpy of the float bytes: the ratio of a codec as fast as a copy of its float side`);
console.log(
  `${'codec'.padEnd(5)} ${'buffer'.padEnd(13)} ${'kernels'.padEnd(7)} ${'bytes'.padStart(8)} ${'decode ns'.padStart(10)} ${'encode ns'.padStart(10)} ` +
    `${'memcpy ns'.padStart(10)} ${'decode Ms/s'.padStart(12)} ${'encode Ms/s'.padStart(12)} ${'decode'.padStart(7)} ${'encode'.padStart(7)} ${'float'.padStart(7)}`,
);
const rows = [];
for (const encoding of ENCODINGS) {
  for (const size of SIZES) for (const kernels of ['dispatched', 'scalar'] as const) {
    // Enough calls per batch that a batch lasts tens of microseconds (clock resolution).
    const calls = Math.max(2, Math.round(200_000 / size.samples));
    const m = native.measureCodec({ encoding, samples: size.samples, batches: size.samples > 100_000 ? 31 : BATCHES, calls, kernels });
    if (!(m.decodeNs > 0 && m.encodeNs > 0 && m.memcpyNs > 0)) throw new Error(`measurement failed: ${JSON.stringify(m)}`);
    const decodeRatio = m.memcpyNs / m.decodeNs;
    const encodeRatio = m.memcpyNs / m.encodeNs;
    const floatCopyRatio = m.memcpyNs / m.memcpyFloatNs;
    const mss = (ns: number) => (size.samples / ns) * 1e3; // million samples per second
    console.log(
      `${encoding.padEnd(5)} ${size.label.padEnd(13)} ${m.kernels.padEnd(7)} ${String(m.wireBytes).padStart(8)} ${m.decodeNs.toFixed(0).padStart(10)} ` +
        `${m.encodeNs.toFixed(0).padStart(10)} ${m.memcpyNs.toFixed(0).padStart(10)} ${mss(m.decodeNs).toFixed(0).padStart(12)} ` +
        `${mss(m.encodeNs).toFixed(0).padStart(12)} ${decodeRatio.toFixed(2).padStart(6)}x ${encodeRatio.toFixed(2).padStart(6)}x ${floatCopyRatio.toFixed(2).padStart(6)}x`,
    );
    rows.push({
      encoding,
      buffer: size.label,
      kernels: m.kernels,
      dispatched: kernels === 'dispatched',
      samples: size.samples,
      wireBytes: m.wireBytes,
      decodeNs: m.decodeNs,
      encodeNs: m.encodeNs,
      memcpyNs: m.memcpyNs,
      memcpyFloatNs: m.memcpyFloatNs,
      decodeRatio,
      encodeRatio,
      floatCopyRatio,
      decodeMeetsTarget: decodeRatio >= TARGET,
      encodeMeetsTarget: encodeRatio >= TARGET,
    });
  }
}
// The target is for what the engine runs; the scalar rows are the baseline.
const misses = rows.filter((r) => r.dispatched && (!r.decodeMeetsTarget || !r.encodeMeetsTarget));
console.log(misses.length === 0 ? `every codec at >= ${TARGET}x memcpy` : `below ${TARGET}x memcpy: ${misses.map((r) => `${r.encoding} ${r.buffer} (${r.kernels}${r.decodeMeetsTarget ? '' : ' decode'}${r.encodeMeetsTarget ? '' : ' encode'})`).join(', ')}`);
recordBench('codec', { batches: BATCHES, target: TARGET, ratio: 'memcpyNs / codecNs (throughput relative to memcpy of the wire bytes)', rows });
