// Types of the measurement's comparison loop (native/src/measure_binding.cc) and glitch
// detector (native/src/glitch_binding.cc) and FFT (native/src/fft_binding.cc).
import type { ChannelGlitches, GlitchSettings } from '../lab/measure/glitches.ts';

export interface MeasureAddon {
  /**
   * Of `count` samples at bytes[start + i * stride] (`width` bytes, big-endian two's
   * complement: L16, L24, L32), decoded as lab/net/pcm.ts decodePcm does, how many differ
   * from table[(phase + i) % table.length]. Throws RangeError if they run past `bytes`.
   */
  countDifferingSamples(bytes: Uint8Array, start: number, stride: number, count: number, width: number, table: Float32Array, phase: number): number;
  /**
   * lab/measure/glitches.ts detectChannelGlitches in C++, given its options with the defaults
   * applied and checked (glitchSettings): lab/measure/native-glitches.ts is the door.
   */
  detectChannelGlitches(x: Float32Array, sampleRate: number, channel: number, settings: GlitchSettings): ChannelGlitches;
  /** lab/signal/fft.ts fft in C++, in place, the same to the bit: lab/signal/native-fft.ts is the door. */
  fft(re: Float64Array, im: Float64Array, inverse?: boolean): void;
}
