// Seeded white noise by absolute sample index: each sample is a hash of (seed, index,
// channel), so any stretch of the stream can be regenerated without running a generator
// from the start, and channels are independent. Gaussian (Box-Muller over two hashed
// uniforms, clipped to full scale) or uniform.
import { checkLevel, checkRenderArgs, checkSampleRate, rmsOfDbfs, type Signal } from './signal.ts';

export interface NoiseOptions {
  seed: number;
  /** AES17 dBFS: RMS = 10^(L/20) / √2. */
  levelDbfs: number;
  distribution?: 'gaussian' | 'uniform';
}

/** A 32-bit avalanche mix (xor-shift-multiply finalizer): every input bit flips ~half the output bits. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform in (0, 1) for (keys, index, channel, salt); index < 2^53. */
function hashedUniform(k0: number, k1: number, index: number, channel: number, salt: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  let h = mix32(lo ^ k0);
  h = mix32(h ^ hi ^ k1);
  h = mix32(h ^ Math.imul(channel + 1, 0x9e3779b9) ^ salt);
  return (h + 0.5) / 4294967296;
}

export function noise(o: NoiseOptions, sampleRate: number): Signal {
  checkSampleRate(sampleRate);
  checkLevel(o.levelDbfs, 'noise', -3);
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`noise seed ${o.seed} must be an integer`);
  const distribution = o.distribution ?? 'gaussian';
  const rms = rmsOfDbfs(o.levelDbfs);
  const seedLo = o.seed >>> 0;
  const seedHi = Math.floor(o.seed / 4294967296) >>> 0;
  const k0 = mix32(seedLo ^ 0x6a09e667);
  const k1 = mix32(seedHi ^ 0xbb67ae85 ^ k0);
  const halfWidth = rms * Math.sqrt(3); // uniform on [−a, a] has RMS a/√3
  return {
    description: `${distribution} white noise ${o.levelDbfs} dBFS seed ${o.seed}`,
    sampleRate,
    render(start, frames, channels, out) {
      const buf = checkRenderArgs(start, frames, channels, out);
      for (let i = 0; i < frames; i++) {
        const n = start + i;
        for (let c = 0; c < channels; c++) {
          let x: number;
          if (distribution === 'uniform') {
            x = (2 * hashedUniform(k0, k1, n, c, 0x1) - 1) * halfWidth;
          } else {
            const u1 = hashedUniform(k0, k1, n, c, 0x1);
            const u2 = hashedUniform(k0, k1, n, c, 0x2);
            x = rms * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
          }
          buf[i * channels + c] = x >= 1 ? 1 - 2 ** -24 : x < -1 ? -1 : x;
        }
      }
      return buf;
    },
  };
}
