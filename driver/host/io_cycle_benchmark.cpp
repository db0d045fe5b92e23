#include "driver/host/io_cycle_benchmark.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "driver/core/stream_ports.hpp"
#include "driver/host/hal_host.hpp"
#include "driver/host/loopback_client.hpp"

namespace aes67 {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Keeps the compiler from dropping or merging the copies it cannot see used.
inline void clobber() { asm volatile("" ::: "memory"); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

IoCycleBenchmarkResult measureIoCycle(std::uint32_t channels, std::uint32_t bufferFrames, std::uint64_t cycles) {
  if (channels < 1 || channels > kMaxDeviceChannels) throw std::invalid_argument("channels must be 1-128");
  validateIoBufferFrames(bufferFrames);
  if (cycles < 100) throw std::invalid_argument("cycles must be at least 100");
  constexpr std::uint32_t kPacket = 48;
  VirtualClock clock(0);
  LocalMediaClock media(48000);
  DeviceConfig config;
  config.inputChannels = channels;
  config.outputChannels = channels;
  Device device(config, media);

  struct Rx {
    std::unique_ptr<PlayoutBuffer> playout;
    std::unique_ptr<PlayoutInputSource> source;
  };
  struct Tx {
    std::unique_ptr<FrameRingBuffer> ring;
    std::unique_ptr<RingOutputSink> sink;
  };
  std::vector<Rx> rx;
  std::vector<Tx> tx;
  for (std::uint32_t first = 0; first < channels; first += kMaxStreamChannels) {
    const std::uint32_t n = std::min(kMaxStreamChannels, channels - first);
    std::vector<std::uint32_t> map(n);
    std::iota(map.begin(), map.end(), first);
    Rx r;
    r.playout = std::make_unique<PlayoutBuffer>(PlayoutConfig{n, 16384, 96});
    r.source = std::make_unique<PlayoutInputSource>(*r.playout, kPacket);
    device.addInput(*r.source, map, "in " + std::to_string(first + 1));
    Tx t;
    t.ring = std::make_unique<FrameRingBuffer>(16384, n);
    t.sink = std::make_unique<RingOutputSink>(*t.ring, kPacket);
    device.addOutput(*t.sink, map, "out " + std::to_string(first + 1));
    rx.push_back(std::move(r));
    tx.push_back(std::move(t));
  }
  HalHostConfig hc;
  hc.ioBufferFrames = bufferFrames;
  hc.cycleLogCapacity = 16;
  // The client runs as a DAW's IOProc would (its copy timed in the cycle), not skipped as
  // the lone identity loopback of a lab scenario is: the figure is the cycle a host pays.
  hc.passThrough = false;
  HalHost host(device, clock, hc);
  LoopbackClient loop(channels, channels);
  host.addClient(loop);
  std::vector<float> packet(static_cast<std::size_t>(kPacket) * kMaxStreamChannels, 0.25f);
  std::vector<float> drain(static_cast<std::size_t>(bufferFrames) * kMaxStreamChannels);
  IoCycleStamp stamp;

  host.startIO();
  const SampleTime anchor = device.timeline().anchor();
  SampleTime written = anchor - device.inputLatencyFrames();
  auto network = [&] {
    const SampleTime need = anchor + host.nextCurrentTime() - device.inputLatencyFrames();
    while (written < need) {
      for (Rx& r : rx) r.playout->write(written, packet.data(), kPacket);
      written += kPacket;
    }
    for (Tx& t : tx) t.ring->pop(drain.data(), bufferFrames);
    while (host.cycleLog().pop(stamp)) {
    }
    clock.advanceTo(host.nextCycleHostTime());
  };

  // Batches of cycles, each timed as a whole; the median batch is the figure.
  const std::uint64_t batch = 100;
  const std::uint64_t batches = std::max<std::uint64_t>(1, cycles / batch);
  for (std::uint64_t i = 0; i < batch * 5; ++i) {  // warm-up
    network();
    host.runDue();
  }
  std::vector<double> io;
  for (std::uint64_t b = 0; b < batches; ++b) {
    double ns = 0;
    for (std::uint64_t i = 0; i < batch; ++i) {
      network();
      const auto t0 = SteadyClock::now();
      host.runDue();
      ns += std::chrono::duration<double, std::nano>(SteadyClock::now() - t0).count();
    }
    io.push_back(ns / batch);
  }
  host.stopIO();

  // The baseline: the bytes a cycle moves (its input buffer and its output buffer).
  const std::size_t bytes = static_cast<std::size_t>(2) * bufferFrames * channels * sizeof(float);
  std::vector<std::uint8_t> src(bytes, 1), dst(bytes);
  std::vector<double> copy;
  for (std::uint64_t b = 0; b < batches; ++b) {
    double ns = 0;
    for (std::uint64_t i = 0; i < batch; ++i) {
      src[i % bytes] = static_cast<std::uint8_t>(i);
      clobber();
      const auto t0 = SteadyClock::now();
      std::memcpy(dst.data(), src.data(), bytes);
      clobber();
      ns += std::chrono::duration<double, std::nano>(SteadyClock::now() - t0).count();
    }
    copy.push_back(ns / batch);
  }
  if (host.stats().ioErrors != 0) throw std::runtime_error("the benchmark's IO cycles reported errors");

  IoCycleBenchmarkResult r;
  r.channels = channels;
  r.bufferFrames = bufferFrames;
  r.cycles = batches * batch;
  r.ioNsPerCycle = median(io);
  r.memcpyNsPerCycle = median(copy);
  r.bytesPerCycle = bytes;
  return r;
}

}  // namespace aes67
