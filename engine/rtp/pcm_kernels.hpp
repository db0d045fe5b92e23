// The PCM codec's kernels by instruction set, for the codec itself, its tests and the
// benchmark. decodePcm/encodePcm (pcm_codec.hpp) call the fastest set the CPU runs,
// chosen once while the program loads; the portable scalar set is the reference every
// other set must match bit for bit (pcm_kernels_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/rtp/pcm_codec.hpp"

namespace aes67 {

enum class PcmKernelSet : std::uint8_t { kScalar, kAvx2, kAvx512 };
const char* toString(PcmKernelSet s);

using PcmDecodeKernel = void (*)(const std::uint8_t* in, std::size_t samples, float* out);
using PcmEncodeKernel = void (*)(const float* in, std::size_t samples, std::uint8_t* out);

struct PcmKernels {
  PcmKernelSet set;
  PcmDecodeKernel decode[3];  // by PcmEncoding: L16, L24, L32
  PcmEncodeKernel encode[3];
};

// The set's kernels, or nullptr when this build or this CPU has no such set.
const PcmKernels* pcmKernels(PcmKernelSet s);
// The set decodePcm/encodePcm use.
const PcmKernels& activePcmKernels();

// The AVX2 set (pcm_kernels_avx2.cpp); nullptr when not built for x86-64 with GCC/Clang.
// Only call its kernels on a CPU that has AVX2.
const PcmKernels* avx2PcmKernelsIfBuilt();
// The AVX2 L16 encoder's fast path alone, as avx512FastEncoderIfBuilt below is for AVX-512
// (the same contract); nullptr for L24 (its kernel has no fast path) and L32, or when not
// built.
PcmEncodeKernel avx2FastEncoderIfBuilt(PcmEncoding e);
// The AVX2 L32 encoder's fast path alone, without the check that reruns a packet on the
// exact kernel when the packet's running sum is NaN: exact for every input without NaN; for
// tests. nullptr when not built.
PcmEncodeKernel avx2L32NanFreeEncoderIfBuilt();
// The AVX-512 set (F, BW, VL and VBMI; pcm_kernels_avx512.cpp); nullptr when not built for
// x86-64 with GCC/Clang. Only call its kernels on a CPU that has all four.
const PcmKernels* avx512PcmKernelsIfBuilt();
// The AVX-512 L16 and L24 encoders' fast paths alone, without the check that reruns a
// packet on the exact kernel when the fast path raised MXCSR's invalid flag (IE); nullptr
// for L32 or when not built. For tests: exact for every input that does not raise IE, and
// each raises IE for every input it cannot take.
PcmEncodeKernel avx512FastEncoderIfBuilt(PcmEncoding e);

}  // namespace aes67
