// Types of the benchmark loops (native/src/bench_binding.cc): timing done in C++, medians
// of batches, each figure beside a memcpy of the same bytes measured in the same run.
import type { NativePcmEncoding } from './rtp.ts';

/** Nanoseconds per call of `samples` samples; medians over `batches` interleaved batches. */
export interface CodecMeasurement {
  encoding: NativePcmEncoding;
  decodeNs: number;
  encodeNs: number;
  /** memcpy of the wire bytes (samples x bytes per sample), received payload to sent payload: the buffers the codecs read and write, 12 bytes into a datagram. */
  memcpyNs: number;
  /** memcpy of the wire bytes between two vectors of them alone (the baseline until codec4). */
  memcpyOldNs: number;
  /** memcpy of the float32 bytes (samples x 4). */
  memcpyFloatNs: number;
  /** Beside AVX2 and AVX-512 kernels only, else 0: the least an encoder of that instruction set does (scale, convert, narrow, store; no clipping, NaN or byte order; the AVX-512 L16 fast path is this plus a byte permute and one MXCSR read). */
  encodeFloorNs: number;
  /** Beside AVX2 kernels only, else 0: a copy of the wire bytes with 32-byte AVX2 loads and stores. */
  copyAvx2Ns: number;
  wireBytes: number;
  batches: number;
  /** The kernel set timed: 'scalar' (the portable reference) or an instruction set ('avx2'). */
  kernels: string;
}

/** Nanoseconds per packet time of all streams together; medians over batches. */
export interface RxTxMeasurement {
  /** TX + network + RX + playout read. */
  stepNs: number;
  txNs: number;
  rxNs: number;
  readNs: number;
  /** memcpy of the float32 audio a packet time moves, TX side + RX side. */
  memcpyNs: number;
  audioBytes: number;
  packets: number;
  framesPlayed: number;
}

export interface BenchAddon {
  measureCodec(options: {
    encoding: NativePcmEncoding;
    samples: number;
    batches: number;
    calls: number;
    /** 'dispatched' (default): decodePcm/encodePcm as the engine calls them; else that set's kernels. */
    kernels?: 'dispatched' | 'scalar' | 'avx2' | 'avx512';
  }): CodecMeasurement;
  measureRxTx(options: {
    streams: number;
    channels: number;
    encoding?: NativePcmEncoding;
    framesPerPacket?: number;
    /** 'loop': an in-memory loop with no per-packet cost of its own; 'virtual': the lab's VirtualNetwork. */
    network?: 'loop' | 'virtual';
    batches?: number;
    packetsPerBatch?: number;
  }): RxTxMeasurement;
}
