// Timing loops for bench/codec.ts and bench/rx-tx.ts. The loops run in C++ so the figures
// are the engine's cost, not N-API's: TypeScript asks for one measurement and gets medians
// back. Every figure comes with a memcpy of the same bytes timed the same way in the same
// run, interleaved batch by batch, so a busy machine slows both sides alike and the ratio
// stays meaningful. The loops check what they moved and throw on a broken measurement;
// they never judge a figure.
#include <napi.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12 warns about the _mm512_undefined_* values inside its own AVX-512 intrinsics (GCC
// bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#endif
#endif

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/base/media_clock.hpp"
#include "engine/base/prng.hpp"
#include "engine/base/ring_buffer.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/jitter/playout_buffer.hpp"
#include "engine/rtp/pcm_codec.hpp"
#include "engine/rtp/pcm_kernels.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Keeps the compiler from dropping or merging work whose result it cannot see used.
inline void clobber() { asm volatile("" ::: "memory"); }

double elapsedNs(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::nano>(SteadyClock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double num(std::uint64_t v) { return static_cast<double>(v); }

// ---- codecs ------------------------------------------------------------------------------

// Floors for the codec benchmark, timed beside it when the active kernels are AVX2: the
// least an AVX2 encoder must do, load, scale, convert, narrow and store with no clipping,
// no NaN and no byte order (so any correct encoder is slower), and a copy of the wire bytes
// with 32-byte AVX2 loads and stores (what glibc's memcpy does on this CPU may be more).
// Not codecs: their output is not checked, only the time.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AES67_BENCH_FLOORS 1
__attribute__((target("avx2"))) void encodeFloor(PcmEncoding e, const float* in, std::size_t n, std::uint8_t* out) {
  const __m256 scale = _mm256_set1_ps(e == PcmEncoding::kL16 ? 32768.0f : e == PcmEncoding::kL24 ? 8388608.0f : 2147483648.0f);
  auto convert = [&](std::size_t i) __attribute__((target("avx2"), always_inline)) {
    return _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(in + i), scale));
  };
  if (e == PcmEncoding::kL16) {
    for (std::size_t i = 0; i + 16 <= n; i += 16) {
      const __m256i packed = _mm256_packs_epi32(convert(i), convert(i + 8));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), _mm256_permute4x64_epi64(packed, 0xD8));
    }
  } else if (e == PcmEncoding::kL24) {
    // The low 3 bytes of each lane, one permute across the halves, 32-byte stores 24 apart
    // (the caller leaves 8 bytes to spare past the end).
    const __m256i toWire = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,  //
                                            0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      const __m256i w = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(convert(i), toWire), join);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 3 * i), w);
    }
  } else {
    for (std::size_t i = 0; i + 8 <= n; i += 8) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * i), convert(i));
  }
}
// The same floor for AVX-512 (F, BW, VBMI), beside the AVX-512 kernels: 16 samples a
// step; L16 narrowed with vpackssdw and one vpermb for the lane order, L24 and L32 with one
// vpermb; 64-byte stores, 64 bytes to spare past the end.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void encodeFloorAvx512(PcmEncoding e, const float* in, std::size_t n,
                                                                             std::uint8_t* out) {
  const __m512 scale = _mm512_set1_ps(e == PcmEncoding::kL16 ? 32768.0f : e == PcmEncoding::kL24 ? 8388608.0f : 2147483648.0f);
  struct Index {
    alignas(64) std::uint8_t at[3][64];
  };
  // Built once (outside any timed call but the first, which the warm-up takes).
  static const Index index = [] {
    Index x{};
    for (std::size_t w = 2; w <= 4; ++w) {
      for (std::size_t i = 0; i < 64; ++i) {
        // L16: after vpackssdw each 128-bit lane holds 4 words of a then 4 of b.
        const std::size_t word = i / 2, s = word % 16, at = 8 * (s / 4) + (word < 16 ? 0 : 4) + s % 4;
        x.at[w - 2][i] = static_cast<std::uint8_t>(w == 2 ? 2 * at + i % 2 : 4 * (i / w) + i % w);
      }
    }
    return x;
  }();
  const std::size_t w = bytesPerSample(e);
  const __m512i order = _mm512_load_si512(index.at[w - 2]);
  auto convert = [&](std::size_t i) __attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) {
    return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(in + i), scale));
  };
  if (e == PcmEncoding::kL16) {
    for (std::size_t i = 0; i + 32 <= n; i += 32) {
      _mm512_storeu_si512(out + 2 * i, _mm512_permutexvar_epi8(order, _mm512_packs_epi32(convert(i), convert(i + 16))));
    }
  } else {
    for (std::size_t i = 0; i + 16 <= n; i += 16) _mm512_storeu_si512(out + w * i, _mm512_permutexvar_epi8(order, convert(i)));
  }
}
__attribute__((target("avx2"))) void copyAvx2(const std::uint8_t* in, std::size_t bytes, std::uint8_t* out) {
  std::size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)));
  }
  std::memcpy(out + i, in + i, bytes - i);
}
#endif

struct CodecMeasurement {
  double decodeNs = 0;         // per call of `samples` samples, median over batches
  double encodeNs = 0;
  double memcpyNs = 0;         // memcpy of the wire bytes, received payload to sent payload
  double memcpyOldNs = 0;      // memcpy of the wire bytes between two vectors of them alone
  double memcpyFloatNs = 0;    // memcpy of the float bytes (samples x 4)
  double encodeFloorNs = 0;    // encodeFloor (0: not timed)
  double copyAvx2Ns = 0;       // copyAvx2 of the wire bytes (0: not timed)
  std::uint64_t wireBytes = 0;
  std::uint64_t batches = 0;
  const char* kernels = "";    // the kernel set timed
};

// Batches of `calls` calls of each operation; the order rotates every batch so no operation
// always runs first (cold) or last, and each batch's first call warms its own buffers. `kernels`
// null: decodePcm/encodePcm as the engine calls them (the set chosen at load); else that set's
// kernels, called the same way (one call through a pointer), so a scalar row can stand
// beside the dispatched one.
CodecMeasurement measureCodec(PcmEncoding e, std::size_t samples, std::size_t batches, std::size_t calls,
                              const PcmKernels* kernels) {
  if (samples == 0 || batches == 0 || calls == 0) throw std::invalid_argument("samples, batches and calls must be > 0");
  const std::size_t wire = samples * bytesPerSample(e);
  Prng prng(0xC0DEC);
  // The buffers a packet is coded in: the receiver decodes the payload of the datagram it
  // received, the transmitter encodes into the payload of the one it sends, each a vector
  // with the payload after the 12-byte RTP header (rtp_receiver.cpp, rtp_transmitter.cpp).
  // memcpy of the same bytes is received payload to sent payload: what the codecs read and
  // write, at the alignment they meet in the engine. Until codec4 the codecs and memcpy
  // worked on vectors of the payload alone (16-byte aligned, where the engine's payloads sit
  // 12 bytes past a 16-byte boundary), and memcpy between two of its own; that memcpy is
  // still timed and printed (memcpyOldNs): the target is judged against both.
  //
  // Where in its page the heap puts each buffer changes what a call costs, for memcpy as for
  // the codecs: on Zen 4 a load from the same offset in its page as an earlier store still
  // in flight waits for it (4 KiB aliasing), so a copy or a codec whose loads and stores meet
  // that way runs up to twice as long. Measured in one process the 768-byte rows depended on
  // where that process's heap happened to put them (old memcpy 9.0 ns in one run, 17.4 in
  // the next; encode 13.8 or 16.9). So every batch moves every buffer to another offset in
  // its page (16-byte steps, a different stride a buffer, so that their offsets from each
  // other change too; the payloads stay 12 bytes past a 16-byte boundary), and the medians
  // are over placements as well as over time. Each buffer has a page to spare for it, and
  // all of it holds valid content (random wire bytes; floats as below), wherever it starts.
  constexpr std::size_t kPage = 4096, kSlots = kPage / 16;
  struct Placed {
    std::vector<std::uint8_t> storage;
    std::size_t stride;  // in 16-byte slots a batch
    explicit Placed(std::size_t bytes, std::size_t strideSlots) : storage(bytes + kPage + 16), stride(strideSlots) {}
    std::uint8_t* at(std::size_t batch, std::size_t past = 0) {
      const auto base = reinterpret_cast<std::uintptr_t>(storage.data());
      const std::uintptr_t aligned = (base + 15) & ~std::uintptr_t{15};
      return reinterpret_cast<std::uint8_t*>(aligned) + 16 * ((batch * stride) % kSlots) + past;
    }
  };
  Placed rxDatagram(kRtpHeaderSize + wire, 37), txDatagram(kRtpHeaderSize + wire, 101), bytes(wire, 83), copyOut(wire, 167),
      floorOut(kRtpHeaderSize + wire + 64, 229), floats(samples * sizeof(float), 59), floatsOut(samples * sizeof(float), 149),
      floatCopy(samples * sizeof(float), 211);
  for (Placed* p : {&rxDatagram, &bytes}) {
    for (auto& b : p->storage) b = static_cast<std::uint8_t>(prng.next());
  }
  // Encoder input: a mix as a DAW hands it over, mostly inside full scale, some clipping.
  for (std::size_t i = 0; i + sizeof(float) <= floats.storage.size(); i += sizeof(float)) {
    const float f = static_cast<float>(prng.uniform() * 2.2 - 1.1);
    std::memcpy(&floats.storage[i], &f, sizeof f);
  }
  std::uint8_t *rxPayload = nullptr, *txPayload = nullptr, *bytesAt = nullptr, *copyOutAt = nullptr, *floorOutAt = nullptr;
  float *floatsAt = nullptr, *floatsOutAt = nullptr, *floatCopyAt = nullptr;
  auto place = [&](std::size_t batch) {
    rxPayload = rxDatagram.at(batch, kRtpHeaderSize);
    txPayload = txDatagram.at(batch, kRtpHeaderSize);
    bytesAt = bytes.at(batch);
    copyOutAt = copyOut.at(batch);
    floorOutAt = floorOut.at(batch, kRtpHeaderSize);
    floatsAt = reinterpret_cast<float*>(floats.at(batch));
    floatsOutAt = reinterpret_cast<float*>(floatsOut.at(batch));
    floatCopyAt = reinterpret_cast<float*>(floatCopy.at(batch));
  };

  const PcmDecodeKernel decodeKernel = kernels ? kernels->decode[static_cast<std::size_t>(e)] : nullptr;
  const PcmEncodeKernel encodeKernel = kernels ? kernels->encode[static_cast<std::size_t>(e)] : nullptr;
  auto decodeOnce = [&](const std::uint8_t* in, float* out) {
    if (decodeKernel) decodeKernel(in, samples, out);
    else decodePcm(e, in, samples, out);
  };
  auto encodeOnce = [&](const float* in, std::uint8_t* out) {
    if (encodeKernel) encodeKernel(in, samples, out);
    else encodePcm(e, in, samples, out);
  };

  // The floors, beside the AVX2 and AVX-512 kernels only (the floors are that code); the
  // floor writes where a payload would sit, with 64 bytes to spare past it.
#ifdef AES67_BENCH_FLOORS
  const PcmKernelSet timedSet = (kernels ? *kernels : activePcmKernels()).set;
  const int ops = timedSet == PcmKernelSet::kAvx2 ? 7 : timedSet == PcmKernelSet::kAvx512 ? 6 : 5;
#else
  const int ops = 5;
#endif
  std::vector<double> times[7];
  // Caches alike for every operation. A packet (up to 12 KB of floats and 9 KB of wire
  // bytes) is coded from the L1/L2 caches: each batch starts with one untimed call, so every
  // timed call finds its own buffers warm, whichever operation ran before. Beyond the L2
  // (the 1 s rows: 6-12 MB a buffer) no operation can run warm, and what the one before left
  // in the L3 would favour whichever shares its buffers (decode and memcpy read the same
  // payload); so there every call runs cold: 64 MB read between calls (not timed) leaves
  // nothing of any buffer cached and nothing dirty to write back.
  const bool coldCalls = samples * sizeof(float) > (std::size_t{4} << 20);
  std::vector<std::uint8_t> evictor(coldCalls ? std::size_t{64} << 20 : 0, 1);
  auto evictCaches = [&] {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < evictor.size(); i += 64) sum += evictor[i];
    asm volatile("" : : "r"(sum) : "memory");
  };
  auto callOnce = [&](int op) {
    switch (op) {
      case 0: decodeOnce(rxPayload, floatsOutAt); break;
      case 1: encodeOnce(floatsAt, txPayload); break;
      case 2: std::memcpy(txPayload, rxPayload, wire); break;
      case 3: std::memcpy(floatCopyAt, floatsAt, samples * sizeof(float)); break;
      case 4: std::memcpy(copyOutAt, bytesAt, wire); break;
#ifdef AES67_BENCH_FLOORS
      case 5:
        if (timedSet == PcmKernelSet::kAvx512) encodeFloorAvx512(e, floatsAt, samples, floorOutAt);
        else encodeFloor(e, floatsAt, samples, floorOutAt);
        break;
      default: copyAvx2(rxPayload, wire, txPayload); break;
#endif
    }
    clobber();
  };
  auto timeCalls = [&](int op) {
    double ns = 0;
    if (coldCalls) {
      for (std::size_t i = 0; i < calls; ++i) {
        evictCaches();
        const auto t0 = SteadyClock::now();
        callOnce(op);
        ns += elapsedNs(t0);
      }
    } else {
      callOnce(op);
      const auto t0 = SteadyClock::now();
      for (std::size_t i = 0; i < calls; ++i) callOnce(op);
      ns = elapsedNs(t0);
    }
    times[op].push_back(ns / static_cast<double>(calls));
  };
  place(batches);
  for (int op = 0; op < ops; ++op) timeCalls(op);  // warm-up, not kept
  for (auto& t : times) t.clear();
  for (std::size_t b = 0; b < batches; ++b) {
    place(b);
    for (int k = 0; k < ops; ++k) timeCalls(static_cast<int>((b + static_cast<std::size_t>(k)) % static_cast<std::size_t>(ops)));
  }
  const std::vector<double>&decode = times[0], &encode = times[1], &copy = times[2], &copyFloat = times[3], &copyOld = times[4];
  // The codecs must have done their work: decoded audio survives encode + decode (exactly
  // the bytes for L16 and L24; L32 keeps float's 24 bits).
  decodeOnce(rxPayload, floatsOutAt);
  encodeOnce(floatsOutAt, txPayload);
  decodeOnce(txPayload, floatCopyAt);
  if (std::memcmp(floatCopyAt, floatsOutAt, samples * sizeof(float)) != 0 ||
      (e != PcmEncoding::kL32 && std::memcmp(txPayload, rxPayload, wire) != 0)) {
    throw std::runtime_error(std::string("codec benchmark: ") + toString(e) + " did not round-trip");
  }

  CodecMeasurement m;
  m.decodeNs = median(decode);
  m.encodeNs = median(encode);
  m.memcpyNs = median(copy);
  m.memcpyOldNs = median(copyOld);
  m.memcpyFloatNs = median(copyFloat);
  m.encodeFloorNs = median(times[5]);
  m.copyAvx2Ns = median(times[6]);
  m.wireBytes = wire;
  m.batches = batches;
  m.kernels = toString((kernels ? *kernels : activePcmKernels()).set);
  return m;
}

PcmEncoding toEncoding(const Napi::Value& v) {
  const auto e = parsePcmEncoding(v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string());
  if (!e) throw Napi::TypeError::New(v.Env(), "encoding must be 'L16', 'L24' or 'L32'");
  return *e;
}

// 'dispatched' (the default): what decodePcm/encodePcm run; else a kernel set by name.
const PcmKernels* toKernels(const Napi::Env& env, const std::string& name) {
  if (name == "dispatched") return nullptr;
  for (PcmKernelSet s : {PcmKernelSet::kScalar, PcmKernelSet::kAvx2, PcmKernelSet::kAvx512}) {
    if (name != toString(s)) continue;
    if (const PcmKernels* k = pcmKernels(s)) return k;
    throw Napi::Error::New(env, "kernels '" + name + "' are not built or not supported by this CPU");
  }
  throw Napi::TypeError::New(env, "kernels must be 'dispatched', 'scalar', 'avx2' or 'avx512', not '" + name + "'");
}

// measureCodec({encoding, samples, batches, calls, kernels})
Napi::Value measureCodecJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "measureCodec({encoding, samples, batches, calls, kernels})");
  const Napi::Object o = info[0].As<Napi::Object>();
  const PcmEncoding e = toEncoding(o.Get("encoding"));
  const PcmKernels* kernels = toKernels(info.Env(), optionalString(o, "kernels", "dispatched"));
  CodecMeasurement m;
  try {
    m = measureCodec(e, static_cast<std::size_t>(optionalInt(o, "samples", 3072)),
                     static_cast<std::size_t>(optionalInt(o, "batches", 201)),
                     static_cast<std::size_t>(optionalInt(o, "calls", 200)), kernels);
  } catch (const std::exception& ex) {
    throw Napi::Error::New(info.Env(), ex.what());
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("encoding", toString(e));
  out.Set("decodeNs", m.decodeNs);
  out.Set("encodeNs", m.encodeNs);
  out.Set("memcpyNs", m.memcpyNs);
  out.Set("memcpyOldNs", m.memcpyOldNs);
  out.Set("memcpyFloatNs", m.memcpyFloatNs);
  out.Set("encodeFloorNs", m.encodeFloorNs);
  out.Set("copyAvx2Ns", m.copyAvx2Ns);
  out.Set("wireBytes", num(m.wireBytes));
  out.Set("batches", num(m.batches));
  out.Set("kernels", m.kernels);
  return out;
}

// ---- RX + TX -----------------------------------------------------------------------------

// An in-memory network with nothing to it: a send copies the datagram into each matching
// socket's fixed queue, a receive copies it out (the copies a kernel makes, without the
// system calls). No allocation per datagram, no scheduling, no impairment: what is left is
// the engine's own cost.
class LoopHub;

class LoopSocket final : public DatagramSocket {
 public:
  static constexpr std::size_t kSlots = 8;
  static constexpr std::size_t kSlotBytes = 9216;
  LoopSocket(LoopHub& hub, Ipv4Address host, const SocketOptions& options);
  ~LoopSocket() override;
  bool send(const Ipv4Endpoint& destination, const std::uint8_t* data, std::size_t size) override;
  std::optional<DatagramInfo> receive(std::uint8_t* buffer, std::size_t capacity) override {
    if (head_ == tail_) return std::nullopt;
    Slot& s = slots_[tail_ % kSlots];
    ++tail_;
    const std::size_t n = std::min(capacity, s.info.size);
    std::memcpy(buffer, s.bytes.data(), n);
    DatagramInfo info = s.info;
    info.truncated = n < s.info.size;
    return info;
  }
  bool waitReadable(Nanoseconds) override { return head_ != tail_; }
  void joinMulticast(Ipv4Address group, Ipv4Address) override { group_ = group; }
  void leaveMulticast(Ipv4Address, Ipv4Address) override { group_ = 0; }
  Ipv4Endpoint localEndpoint() const override { return {host_, options_.localPort}; }
  std::uint64_t receiveOverflows() const override { return overflows_; }

  bool accepts(const Ipv4Endpoint& to) const {
    return to.port == options_.localPort && (isMulticast(to.address) ? to.address == group_ : to.address == host_);
  }
  void enqueue(const Ipv4Endpoint& from, const Ipv4Endpoint& to, const std::uint8_t* data, std::size_t size,
               Nanoseconds now) {
    if (head_ - tail_ >= kSlots || size > kSlotBytes) {
      ++overflows_;
      return;
    }
    Slot& s = slots_[head_ % kSlots];
    std::memcpy(s.bytes.data(), data, size);
    s.info.source = from;
    s.info.destination = to;
    s.info.size = size;
    s.info.receivedAt = now;
    ++head_;
  }

 private:
  struct Slot {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kSlotBytes);
    DatagramInfo info;
  };
  LoopHub& hub_;
  Ipv4Address host_;
  SocketOptions options_;
  Ipv4Address group_ = 0;
  Slot slots_[kSlots];
  std::uint64_t head_ = 0, tail_ = 0, overflows_ = 0;
};

class LoopHub {
 public:
  explicit LoopHub(const Clock& clock) : clock_(clock) {}
  void attach(LoopSocket* s) { sockets_.push_back(s); }
  void detach(LoopSocket* s) { sockets_.erase(std::remove(sockets_.begin(), sockets_.end(), s), sockets_.end()); }
  void send(const Ipv4Endpoint& from, const Ipv4Endpoint& to, const std::uint8_t* data, std::size_t size) {
    for (LoopSocket* s : sockets_) {
      if (s->accepts(to)) s->enqueue(from, to, data, size, clock_.now());
    }
  }
  const Clock& clock() const { return clock_; }

 private:
  const Clock& clock_;
  std::vector<LoopSocket*> sockets_;
};

LoopSocket::LoopSocket(LoopHub& hub, Ipv4Address host, const SocketOptions& options)
    : hub_(hub), host_(host), options_(options) {
  hub_.attach(this);
}
LoopSocket::~LoopSocket() { hub_.detach(this); }
bool LoopSocket::send(const Ipv4Endpoint& destination, const std::uint8_t* data, std::size_t size) {
  hub_.send(localEndpoint(), destination, data, size);
  return true;
}

class LoopHost final : public Transport {
 public:
  LoopHost(LoopHub& hub, Ipv4Address address) : hub_(hub), address_(address) {}
  std::unique_ptr<DatagramSocket> open(const SocketOptions& options) override {
    return std::make_unique<LoopSocket>(hub_, address_, options);
  }
  const Clock& clock() const override { return hub_.clock(); }
  Ipv4Address localAddress() const override { return address_; }

 private:
  LoopHub& hub_;
  Ipv4Address address_;
};

struct RxTxOptions {
  std::uint32_t streams = 16;
  std::uint32_t channels = 8;  // per stream
  PcmEncoding encoding = PcmEncoding::kL24;
  std::uint32_t framesPerPacket = 48;
  std::uint32_t sampleRate = 48000;
  bool virtualNetwork = false;  // VirtualNetwork instead of the in-memory loop
  std::size_t batches = 101;
  std::size_t packetsPerBatch = 100;  // packet times per batch
};

struct RxTxMeasurement {
  double stepNs = 0;      // one packet time of every stream: TX + network + RX + playout read (median)
  double txNs = 0;        // of which RtpTransmitter::poll (ring pop, encode, send)
  double rxNs = 0;        // of which RtpReceiver::poll (receive, parse, decode, playout write)
  double readNs = 0;      // of which PlayoutBuffer::read
  double memcpyNs = 0;    // memcpy of the audio the step moves, float32, TX side + RX side
  std::uint64_t audioBytes = 0;
  std::uint64_t packets = 0;
  std::uint64_t framesPlayed = 0;
};

RxTxMeasurement measureRxTx(const RxTxOptions& o) {
  if (o.streams < 1 || o.channels < 1 || o.channels > 64 || o.framesPerPacket < 1) {
    throw std::invalid_argument("streams >= 1, channels 1-64, framesPerPacket >= 1");
  }
  if (o.batches < 1 || o.packetsPerBatch < 1) throw std::invalid_argument("batches and packetsPerBatch must be > 0");
  VirtualClock clock(0);
  LocalMediaClock media(o.sampleRate);
  VirtualNetwork network(clock, 0);
  LoopHub hub(clock);
  std::vector<std::unique_ptr<LoopHost>> loopHosts;
  auto host = [&](Ipv4Address a) -> Transport& {
    if (o.virtualNetwork) return network.addHost(formatIpv4(a), a);
    loopHosts.push_back(std::make_unique<LoopHost>(hub, a));
    return *loopHosts.back();
  };
  Transport& txHost = host(parseIpv4("10.67.0.1"));
  Transport& rxHost = host(parseIpv4("10.67.0.2"));

  const std::size_t fpp = o.framesPerPacket;
  struct Stream {
    std::unique_ptr<FrameRingBuffer> ring;
    std::unique_ptr<RtpTransmitter> tx;
    std::unique_ptr<PlayoutBuffer> playout;
    std::unique_ptr<RtpReceiver> rx;
  };
  std::vector<Stream> streams(o.streams);
  for (std::uint32_t s = 0; s < o.streams; ++s) {
    RtpStreamFormat f;
    f.encoding = o.encoding;
    f.channels = o.channels;
    f.sampleRate = o.sampleRate;
    f.mediaclkOffset = 0x1234567u * (s + 1);
    RtpTransmitterConfig tc;
    tc.destination = {parseIpv4("239.69.160.1") + s, 5004};
    tc.format = f;
    tc.framesPerPacket = o.framesPerPacket;
    tc.ssrc = 0x41455300u + s;
    Stream& st = streams[s];
    st.ring = std::make_unique<FrameRingBuffer>(8 * fpp, o.channels);
    st.tx = std::make_unique<RtpTransmitter>(txHost, tc, *st.ring, media);
    PlayoutConfig pc;
    pc.channels = o.channels;
    pc.capacityFrames = 16 * fpp;
    pc.linkOffset = static_cast<SampleTime>(fpp);
    st.playout = std::make_unique<PlayoutBuffer>(pc);
    RtpReceiverConfig rc;
    rc.destination = tc.destination;
    rc.format = f;
    st.rx = std::make_unique<RtpReceiver>(rxHost, rc, *st.playout, &media);
    st.tx->start(0);
  }

  // The audio: a value per sample that is exact in every encoding and differs per frame,
  // channel and stream, so the check after the run sees any misplaced sample.
  auto sampleValue = [](SampleTime t, std::uint32_t ch, std::uint32_t s) {
    const std::int32_t code = static_cast<std::int32_t>((t * 7 + ch * 131 + s * 1009) % 60000) - 30000;
    return static_cast<float>(code) / 32768.0f;
  };
  std::vector<float> frames(fpp * 64), played(fpp * 64);
  SampleTime produced = 0;
  std::uint64_t step = 0;
  RxTxMeasurement m;
  double tx = 0, rx = 0, rd = 0;
  // One packet time: the device pushes a packet's worth of frames into every TX ring
  // (not timed: that is the IO cycle's WriteMix), time moves to the packet's due time, every
  // transmitter sends, every receiver takes its packet, every playout buffer is read for
  // the packet that just arrived.
  auto runStep = [&](bool check) {
    for (std::uint32_t s = 0; s < o.streams; ++s) {
      for (std::size_t f = 0; f < fpp; ++f)
        for (std::uint32_t ch = 0; ch < o.channels; ++ch)
          frames[f * o.channels + ch] = sampleValue(produced + static_cast<SampleTime>(f), ch, s);
      streams[s].ring->push(frames.data(), fpp);
    }
    const SampleTime packetStart = produced;
    produced += static_cast<SampleTime>(fpp);
    clock.advanceTo(media.localTimeOf(produced));
    auto t0 = SteadyClock::now();
    for (Stream& st : streams) st.tx->poll();
    tx += elapsedNs(t0);
    t0 = SteadyClock::now();
    for (Stream& st : streams) st.rx->poll();
    rx += elapsedNs(t0);
    t0 = SteadyClock::now();
    for (Stream& st : streams) st.playout->read(packetStart, played.data(), fpp);
    rd += elapsedNs(t0);
    if (check) {
      // The last stream's frames, as read: every sample where it belongs.
      const std::uint32_t s = o.streams - 1;
      for (std::size_t f = 0; f < fpp; ++f)
        for (std::uint32_t ch = 0; ch < o.channels; ++ch)
          if (played[f * o.channels + ch] != sampleValue(packetStart + static_cast<SampleTime>(f), ch, s)) {
            const RtpReceiverStats& rs = streams[s].rx->stats();
            throw std::runtime_error("rx-tx benchmark: sample " + std::to_string(packetStart + static_cast<SampleTime>(f)) +
                                     " channel " + std::to_string(ch) + " came back as " +
                                     std::to_string(played[f * o.channels + ch]) + " (received " + std::to_string(rs.received) +
                                     ", accepted " + std::to_string(rs.accepted) + ", dropped " + std::to_string(rs.droppedTotal()) + ", sent " + std::to_string(streams[s].tx->stats().packetsSent) + ", waiting " + std::to_string(streams[s].tx->stats().waitingForAudio) + ", overflow " + std::to_string(streams[s].rx ? 0 : 1) + ")");
          }
    }
    ++step;
  };

  const std::size_t audioBytes = static_cast<std::size_t>(2) * o.streams * o.channels * fpp * sizeof(float);
  std::vector<std::uint8_t> src(audioBytes, 1), dst(audioBytes);
  for (std::size_t i = 0; i < 2 * o.packetsPerBatch; ++i) runStep(true);  // warm-up, checked
  std::vector<double> steps, txs, rxs, reads, copies;
  for (std::size_t b = 0; b < o.batches; ++b) {
    tx = rx = rd = 0;
    for (std::size_t i = 0; i < o.packetsPerBatch; ++i) runStep(i == 0);
    const double n = static_cast<double>(o.packetsPerBatch);
    steps.push_back((tx + rx + rd) / n);
    txs.push_back(tx / n);
    rxs.push_back(rx / n);
    reads.push_back(rd / n);
    double c = 0;
    for (std::size_t i = 0; i < o.packetsPerBatch; ++i) {
      src[i % audioBytes] = static_cast<std::uint8_t>(i);
      clobber();
      const auto t0 = SteadyClock::now();
      std::memcpy(dst.data(), src.data(), audioBytes);
      clobber();
      c += elapsedNs(t0);
    }
    copies.push_back(c / n);
  }

  for (std::uint32_t s = 0; s < o.streams; ++s) {
    const RtpReceiverStats& rs = streams[s].rx->stats();
    const PlayoutStats ps = streams[s].playout->stats();
    if (rs.droppedTotal() != 0 || rs.lost != 0 || ps.framesMissing != 0 || ps.framesPriming != 0 ||
        ps.framesPlayed != step * fpp || streams[s].tx->stats().packetsSent != step) {
      throw std::runtime_error("rx-tx benchmark: stream " + std::to_string(s) + " lost audio (sent " +
                               std::to_string(streams[s].tx->stats().packetsSent) + ", accepted " +
                               std::to_string(rs.accepted) + ", dropped " + std::to_string(rs.droppedTotal()) +
                               ", frames played " + std::to_string(ps.framesPlayed) + " of " +
                               std::to_string(step * fpp) + ")");
    }
    m.packets += streams[s].tx->stats().packetsSent;
    m.framesPlayed += ps.framesPlayed;
  }
  m.stepNs = median(steps);
  m.txNs = median(txs);
  m.rxNs = median(rxs);
  m.readNs = median(reads);
  m.memcpyNs = median(copies);
  m.audioBytes = audioBytes;
  return m;
}

// measureRxTx({streams, channels, encoding, framesPerPacket, network: 'loop'|'virtual', batches, packetsPerBatch})
Napi::Value measureRxTxJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "measureRxTx({streams, channels, ...})");
  const Napi::Object o = info[0].As<Napi::Object>();
  RxTxOptions opt;
  opt.streams = static_cast<std::uint32_t>(optionalInt(o, "streams", 16));
  opt.channels = static_cast<std::uint32_t>(optionalInt(o, "channels", 8));
  if (o.Has("encoding")) opt.encoding = toEncoding(o.Get("encoding"));
  opt.framesPerPacket = static_cast<std::uint32_t>(optionalInt(o, "framesPerPacket", 48));
  const std::string net = optionalString(o, "network", "loop");
  if (net != "loop" && net != "virtual") throw Napi::TypeError::New(info.Env(), "network must be 'loop' or 'virtual'");
  opt.virtualNetwork = net == "virtual";
  opt.batches = static_cast<std::size_t>(optionalInt(o, "batches", 101));
  opt.packetsPerBatch = static_cast<std::size_t>(optionalInt(o, "packetsPerBatch", 100));
  RxTxMeasurement m;
  try {
    m = measureRxTx(opt);
  } catch (const std::exception& ex) {
    throw Napi::Error::New(info.Env(), ex.what());
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("stepNs", m.stepNs);
  out.Set("txNs", m.txNs);
  out.Set("rxNs", m.rxNs);
  out.Set("readNs", m.readNs);
  out.Set("memcpyNs", m.memcpyNs);
  out.Set("audioBytes", num(m.audioBytes));
  out.Set("packets", num(m.packets));
  out.Set("framesPlayed", num(m.framesPlayed));
  return out;
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("measureCodec", Napi::Function::New(env, measureCodecJs, "measureCodec"));
  exports.Set("measureRxTx", Napi::Function::New(env, measureRxTxJs, "measureRxTx"));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
