// L16 / L24 / L32 decode and encode throughput next to a memcpy of the same (wire) bytes,
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
// Where the bytes are (native/src/bench_binding.cc measureCodec): as in the engine, decode
// reads a received datagram's payload and encode writes the payload of the one sent, 12 bytes
// (the RTP header) into a vector; memcpy copies the one payload to the other. Until codec4
// the codecs and memcpy used vectors of the payload alone, 16-byte aligned where the engine's
// payloads are not; that memcpy ("old mc") is still timed beside, and a row meets the target
// only against both ("dec old", "enc old": the codec against the old memcpy).
console.log(`memcpy = received payload -> sent payload, the buffers the codecs read and write (12 bytes into a datagram); old mc = memcpy between two vectors of the payload alone (the baseline until codec4); a row meets the target only against both`);
// What "memcpy of the same bytes" is: the wire bytes (samples x 2, 3 or 4), for decode (the
// bytes it reads) and for encode (the bytes it writes) alike; the issue's definition and
// the one the target is judged on. A codec also moves the float side, 4 bytes a sample:
// "float" is memcpy of the wire bytes over memcpy of the float bytes, timed in the same
// batches (the ratio a codec would show if it were as fast as copying its float side), and
// "dec/f" and "enc/f" are each codec against memcpy of the float bytes instead.
console.log(`memcpy = memcpy of the wire bytes (what decode reads, what encode writes); every ratio below but dec old, enc old (against old mc), dec/f and enc/f is against it`);
console.log(`float = memcpy of the wire bytes / memcpy of the float bytes: the ratio of a codec as fast as a copy of its float side`);
console.log(`dec/f, enc/f = the codec against memcpy of the float bytes (what decode writes, what encode reads): printed, not judged`);
// Floors, beside the AVX2 and AVX-512 rows: "floor" is the least an encoder of that
// instruction set does (load, scale, convert, narrow, store; no clipping, no NaN, no byte
// order). The AVX-512 L16 encoder's fast path (from 320 samples) is that floor plus the byte
// order in the same permute and one MXCSR read (the saturating narrow is its clip, MXCSR's
// invalid flag its NaN check: pcm_kernels_avx512.cpp), so it comes within a few percent of
// it. The AVX2 L16 encoder's fast path (from 128 samples) is the AVX2 floor plus one byte
// shuffle (vpshufb) a 16 samples and the MXCSR read (pcm_kernels_avx2.cpp): about 1.1x the
// floor's time on 1 ms x 64 ch, 1.3x on 1 ms x 8 ch (on Zen 3 the read waits for every
// conversion before it: about 5 ns a packet). The AVX2 L24 encoder stores each 8 samples as
// two 16-byte halves (vextracti128 to memory) where the floor joins them with vpermd, so it
// runs at the floor's time with its clip; the AVX2 L32 one finds NaN with a running sum.
// "cp32" (AVX2 rows) is a copy of the wire bytes with 32-byte AVX2 loads and stores, against
// glibc's memcpy (which on this CPU may use wider or aligned stores).
console.log(`floor = the least an encoder of the row's instruction set does (scale, convert, narrow, store; no clipping/NaN/byte order) vs memcpy; cp32 = a 32-byte AVX2 copy loop vs memcpy`);
console.log(
  `${'codec'.padEnd(5)} ${'buffer'.padEnd(13)} ${'kernels'.padEnd(7)} ${'bytes'.padStart(8)} ${'decode ns'.padStart(10)} ${'encode ns'.padStart(10)} ` +
    `${'memcpy ns'.padStart(10)} ${'old mc ns'.padStart(10)} ${'decode Ms/s'.padStart(12)} ${'encode Ms/s'.padStart(12)} ${'decode'.padStart(7)} ${'encode'.padStart(7)} ` +
    `${'dec old'.padStart(7)} ${'enc old'.padStart(7)} ${'float'.padStart(7)} ${'dec/f'.padStart(7)} ${'enc/f'.padStart(7)} ${'floor'.padStart(7)} ${'cp32'.padStart(7)}`,
);
const rows = [];
// Sets slower than the one the engine runs that this build and CPU have (measureCodec throws
// for a set that is not built or not supported).
const dispatchedSet = native.measureCodec({ encoding: 'L16', samples: 64, batches: 1, calls: 1 }).kernels;
const slowerSets = new Set<string>();
if (dispatchedSet === 'avx512') slowerSets.add('avx2');
for (const encoding of ENCODINGS) {
  // The set the engine runs, then the slower sets this CPU has beside it: AVX2 (where the
  // engine runs AVX-512) and the scalar reference.
  for (const size of SIZES) for (const kernels of ['dispatched', 'avx2', 'scalar'] as const) {
    if (kernels === 'avx2' && !slowerSets.has('avx2')) continue;
    // Enough calls per batch that a batch lasts tens of microseconds (clock resolution).
    const calls = Math.max(2, Math.round(200_000 / size.samples));
    const m = native.measureCodec({ encoding, samples: size.samples, batches: size.samples > 100_000 ? 31 : BATCHES, calls, kernels });
    if (!(m.decodeNs > 0 && m.encodeNs > 0 && m.memcpyNs > 0 && m.memcpyOldNs > 0)) throw new Error(`measurement failed: ${JSON.stringify(m)}`);
    const decodeRatio = m.memcpyNs / m.decodeNs;
    const encodeRatio = m.memcpyNs / m.encodeNs;
    const decodeRatioOld = m.memcpyOldNs / m.decodeNs;
    const encodeRatioOld = m.memcpyOldNs / m.encodeNs;
    const floatCopyRatio = m.memcpyNs / m.memcpyFloatNs;
    const decodeVsFloatCopy = m.memcpyFloatNs / m.decodeNs;
    const encodeVsFloatCopy = m.memcpyFloatNs / m.encodeNs;
    const encodeFloorRatio = m.encodeFloorNs > 0 ? m.memcpyNs / m.encodeFloorNs : null;
    const copyAvx2Ratio = m.copyAvx2Ns > 0 ? m.memcpyNs / m.copyAvx2Ns : null;
    const x = (r: number | null) => (r === null ? '-' : `${r.toFixed(2)}x`).padStart(7);
    const mss = (ns: number) => (size.samples / ns) * 1e3; // million samples per second
    console.log(
      `${encoding.padEnd(5)} ${size.label.padEnd(13)} ${m.kernels.padEnd(7)} ${String(m.wireBytes).padStart(8)} ${m.decodeNs.toFixed(0).padStart(10)} ` +
        `${m.encodeNs.toFixed(0).padStart(10)} ${m.memcpyNs.toFixed(0).padStart(10)} ${m.memcpyOldNs.toFixed(0).padStart(10)} ${mss(m.decodeNs).toFixed(0).padStart(12)} ` +
        `${mss(m.encodeNs).toFixed(0).padStart(12)} ${x(decodeRatio)} ${x(encodeRatio)} ${x(decodeRatioOld)} ${x(encodeRatioOld)} ${x(floatCopyRatio)} ` +
        `${x(decodeVsFloatCopy)} ${x(encodeVsFloatCopy)} ${x(encodeFloorRatio)} ${x(copyAvx2Ratio)}`,
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
      memcpyOldNs: m.memcpyOldNs,
      memcpyFloatNs: m.memcpyFloatNs,
      decodeRatio,
      encodeRatio,
      decodeRatioOld,
      encodeRatioOld,
      floatCopyRatio,
      decodeVsFloatCopy,
      encodeVsFloatCopy,
      encodeFloorNs: m.encodeFloorNs || null,
      copyAvx2Ns: m.copyAvx2Ns || null,
      encodeFloorRatio,
      copyAvx2Ratio,
      decodeMeetsTarget: decodeRatio >= TARGET && decodeRatioOld >= TARGET,
      encodeMeetsTarget: encodeRatio >= TARGET && encodeRatioOld >= TARGET,
    });
  }
}
// The target is for what the engine runs; the scalar rows are the baseline.
const misses = rows.filter((r) => r.dispatched && (!r.decodeMeetsTarget || !r.encodeMeetsTarget));
console.log(misses.length === 0 ? `every codec at >= ${TARGET}x memcpy` : `below ${TARGET}x memcpy: ${misses.map((r) => `${r.encoding} ${r.buffer} (${r.kernels}${r.decodeMeetsTarget ? '' : ' decode'}${r.encodeMeetsTarget ? '' : ' encode'})`).join(', ')}`);
recordBench('codec', {
  batches: BATCHES,
  target: TARGET,
  ratio: 'memcpyNs / codecNs (throughput relative to memcpy of the wire bytes, payload to payload); *RatioOld: memcpyOldNs / codecNs; a row meets the target only if both are >= target',
  rows,
});
