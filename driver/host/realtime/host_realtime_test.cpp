// The real-time rule through the host emulator: 10^6 IO cycles run by HalHost (zero time
// stamp, predictor, Will/Begin/Do/End for ReadInput and WriteMix, the loopback client and
// a player client mixed) against a device with PlayoutBuffer inputs and FrameRingBuffer
// outputs, on a thread where allocations, locks and system calls are observed
// (driver/core/realtime/realtime_probe.hpp).
#include <gtest/gtest.h>

#include <thread>

#include "driver/core/realtime/realtime_probe.hpp"
#include "driver/core/stream_ports.hpp"
#include "driver/host/hal_host.hpp"
#include "driver/host/loopback_client.hpp"
#include "driver/host/wav_player_client.hpp"

namespace aes67 {
namespace {

TEST(HostRealtime, AMillionHostCyclesAllocateLockAndCallTheKernelZeroTimes) {
  constexpr std::uint32_t kBuffer = 32;
  constexpr std::uint32_t kPacket = 16;
  constexpr std::uint64_t kCycles = 1'000'000;
  VirtualClock clock(0);
  LocalMediaClock media(48000);
  DeviceConfig config;
  config.inputChannels = 16;
  config.outputChannels = 16;
  Device device(config, media);
  PlayoutBuffer rx1(PlayoutConfig{8, 4096, 96}), rx2(PlayoutConfig{8, 4096, 96});
  PlayoutInputSource in1(rx1, kPacket), in2(rx2, kPacket);
  FrameRingBuffer tx1(4096, 8), tx2(4096, 8);
  RingOutputSink out1(tx1, kPacket), out2(tx2, kPacket);
  device.addInput(in1, {0, 1, 2, 3, 4, 5, 6, 7}, "RX 1");
  device.addInput(in2, {8, 9, 10, 11, 12, 13, 14, 15}, "RX 2");
  device.addOutput(out1, {0, 1, 2, 3, 4, 5, 6, 7}, "TX 1");
  device.addOutput(out2, {8, 9, 10, 11, 12, 13, 14, 15}, "TX 2");
  HalHost host(device, clock, HalHostConfig{kBuffer, 16});
  LoopbackClient loop(16, 16);
  AudioClip clip;
  clip.channels = 1;
  clip.samples.assign(4800, 0.25f);
  WavPlayerClient player(clip, 48000, 16, {15}, true);
  host.addClient(loop);
  host.addClient(player);
  std::vector<float> packet(kPacket * 8, 0.5f), drain(kBuffer * 8);
  IoCycleStamp stamp;

  host.startIO();
  const SampleTime anchor = device.timeline().anchor();
  const SampleTime presentation = device.inputLatencyFrames();
  SampleTime written = anchor - presentation;  // media time the network has delivered up to
  rt::ProbeCounts total;
  std::string error;
  std::thread io([&] {
    try {
      rt::installSyscallTrap();
      for (std::uint64_t n = 0; n < kCycles; ++n) {
        // The network and the lab (not counted): packets for this cycle, drained TX rings
        // and cycle log, virtual time moved to the predicted wake.
        const SampleTime need = anchor + host.nextCurrentTime() - presentation;
        while (written < need) {
          rx1.write(written, packet.data(), kPacket);
          rx2.write(written, packet.data(), kPacket);
          written += kPacket;
        }
        tx1.pop(drain.data(), kBuffer);
        tx2.pop(drain.data(), kBuffer);
        while (host.cycleLog().pop(stamp)) {
        }
        clock.advanceTo(host.nextCycleHostTime());

        rt::beginCounting();
        const std::size_t ran = host.runDue();
        const rt::ProbeCounts c = rt::endCounting();
        if (ran != 1) throw std::runtime_error("expected one cycle per wake, ran " + std::to_string(ran));
        if (total.syscalls == 0) total.firstSyscalls = c.firstSyscalls;
        total.allocations += c.allocations;
        total.frees += c.frees;
        total.locks += c.locks;
        total.syscalls += c.syscalls;
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  io.join();
  host.stopIO();
  ASSERT_EQ(error, "");
  std::printf("host IO cycles: %llu, %llu allocations, %llu frees, %llu locks, %llu system calls\n",
              static_cast<unsigned long long>(kCycles), static_cast<unsigned long long>(total.allocations),
              static_cast<unsigned long long>(total.frees), static_cast<unsigned long long>(total.locks),
              static_cast<unsigned long long>(total.syscalls));
  EXPECT_EQ(total.allocations, 0u);
  EXPECT_EQ(total.frees, 0u);
  EXPECT_EQ(total.locks, 0u);
  EXPECT_EQ(total.syscalls, 0u) << "first: " << total.firstSyscalls[0];
  const HalHostStats h = host.stats();
  EXPECT_EQ(h.cycles, kCycles);
  EXPECT_EQ(h.ioErrors, 0u);
  const DeviceCounters d = device.counters();
  EXPECT_EQ(d.inputDiscontinuities + d.outputDiscontinuities, 0u);
  EXPECT_EQ(rx1.stats().framesMissing + rx2.stats().framesMissing, 0u);
  EXPECT_EQ(out1.overflowFrames() + out2.overflowFrames(), 0u);
}

}  // namespace
}  // namespace aes67
