// Seeded, portable pseudo-random numbers for everything random in simulation
// (impairments, jitter, noise). xoshiro256** seeded through splitmix64, so the same seed
// gives the same sequence on every platform and compiler, and the lab's TypeScript PRNG
// (lab/sim/prng.ts) can be checked against it value for value.
#pragma once

#include <cstdint>

namespace aes67 {

class Prng {
 public:
  explicit Prng(std::uint64_t seed);
  std::uint64_t next();
  // Uniform in [0, 1) with 53 bits of precision.
  double uniform();
  // Uniform integer in [0, bound); bound > 0.
  std::uint64_t below(std::uint64_t bound);
  // Standard normal (Box-Muller, no cached second value, so the stream is stateless
  // beyond the generator).
  double normal();
  // Exponential with the given mean.
  double exponential(double mean);

 private:
  std::uint64_t s_[4];
};

}  // namespace aes67
