// Seeded random numbers for the lab's impairments: xoshiro256** seeded through splitmix64,
// the same generator and the same derived draws (uniform, normal, exponential) as the
// engine's aes67::Prng (engine/base/prng.cpp), so the two are checked value for value
// through the native addon and a scenario's randomness means the same thing on both sides.
// next() and uniform() match to the bit; normal() and exponential() to the last-bit
// rounding of log and cos, which differ between glibc and V8.

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, k: bigint): bigint {
  return ((x << k) | (x >> (64n - k))) & MASK;
}

export class Prng {
  private s0: bigint;
  private s1: bigint;
  private s2: bigint;
  private s3: bigint;

  constructor(seed: number | bigint) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`PRNG seed ${seed} must be an integer`);
    let x = BigInt.asUintN(64, BigInt(seed));
    const splitmix = () => {
      x = (x + 0x9e3779b97f4a7c15n) & MASK;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
      return z ^ (z >> 31n);
    };
    this.s0 = splitmix();
    this.s1 = splitmix();
    this.s2 = splitmix();
    this.s3 = splitmix();
  }

  next(): bigint {
    const result = (rotl((this.s1 * 5n) & MASK, 7n) * 9n) & MASK;
    const t = (this.s1 << 17n) & MASK;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 45n);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits. */
  uniform(): number {
    return Number(this.next() >> 11n) * 2 ** -53;
  }

  /** Standard normal by Box-Muller (one value per two uniforms, none cached). */
  normal(): number {
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.uniform());
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.uniform() < p;
  }
}
