// The real-time rule, proved: 10^6 IO cycles through the device with streams attached
// (PlayoutBuffer inputs, FrameRingBuffer outputs), in coreaudiod's per-cycle call order,
// on a thread where every allocation, lock and system call is observed (see
// realtime_probe.hpp for how). Each probe first shows it can see the thing it counts.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "driver/core/device.hpp"
#include "driver/core/realtime/realtime_probe.hpp"
#include "driver/core/stream_ports.hpp"

namespace aes67 {
namespace {

std::string describe(const rt::ProbeCounts& c) {
  std::ostringstream s;
  s << c.allocations << " allocations, " << c.frees << " frees, " << c.locks << " locks, " << c.syscalls << " system calls";
  if (c.syscalls > 0) {
    s << " (first numbers:";
    for (std::size_t i = 0; i < c.firstSyscalls.size() && i < c.syscalls; ++i) s << ' ' << c.firstSyscalls[i];
    s << ')';
  }
  return s.str();
}

// Runs `body` on a fresh thread with the system-call trap installed; returns its counts.
template <typename Body>
rt::ProbeCounts onTrappedThread(Body body) {
  rt::ProbeCounts counts;
  std::string error;
  std::thread t([&] {
    try {
      rt::installSyscallTrap();
      counts = body();
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  t.join();
  if (!error.empty()) throw std::runtime_error(error);
  return counts;
}

TEST(RealtimeProbe, SeesAnAllocationALockAndASystemCall) {
  using Malloc = void* (*)(std::size_t);
  static volatile Malloc doMalloc = &malloc;  // through a pointer: the compiler cannot elide the pair
  pid_t seen = 0;
  const pid_t parent = getppid();
  rt::ProbeCounts c = onTrappedThread([&] {
    std::mutex m;
    free(doMalloc(32));  // the thread's first malloc maps its arena (mmap): not what we count here
    rt::beginCounting();
    void* p = doMalloc(32);
    free(p);
    m.lock();
    m.unlock();
    seen = getppid();  // trapped, counted, then performed by the handler
    return rt::endCounting();
  });
  EXPECT_EQ(c.allocations, 1u) << describe(c);
  EXPECT_EQ(c.frees, 1u);
  EXPECT_EQ(c.locks, 1u);
  EXPECT_EQ(c.syscalls, 1u);
  EXPECT_EQ(c.firstSyscalls[0], SYS_getppid);
  EXPECT_EQ(seen, parent);  // the trapped call still did its work
  rt::ProbeCounts n = onTrappedThread([] {
    free(malloc(32));
    rt::beginCounting();
    std::vector<int> v(100);
    (void)!write(-1, "x", 1);
    return rt::endCounting();
  });
  EXPECT_EQ(n.allocations, 1u) << describe(n);  // operator new
  EXPECT_EQ(n.syscalls, 1u);
}

// A source that breaks the rule inside the IO path is caught there.
class MisbehavingSource final : public InputSource {
 public:
  std::uint32_t channels() const override { return 1; }
  void read(SampleTime, float* out, std::uint32_t frames) override {
    std::lock_guard<std::mutex> hold(mutex_);
    auto* scratch = new float[frames];
    out[0] = static_cast<float>(getppid() & 1) + scratch[0] * 0.0f;
    delete[] scratch;
  }

 private:
  std::mutex mutex_;
};

TEST(RealtimeIo, AnInputThatAllocatesLocksAndCallsTheKernelIsCaught) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 2;
  config.outputChannels = 2;
  Device device(config, clock);
  MisbehavingSource bad;
  device.addInput(bad, {1}, "bad");
  device.startIO(0);
  std::vector<float> buffer(64 * 2);
  rt::ProbeCounts c = onTrappedThread([&] {
    free(malloc(16));
    rt::beginCounting();
    for (SampleTime t = 0; t < 1000 * 64; t += 64) device.readInput(t, 64, buffer.data());
    return rt::endCounting();
  });
  EXPECT_EQ(c.allocations, 1000u) << describe(c);
  EXPECT_EQ(c.frees, 1000u);
  EXPECT_EQ(c.locks, 1000u);
  // 1000 getppid calls, plus whatever the allocator needed to grow the thread's arena.
  EXPECT_GE(c.syscalls, 1000u);
}

// 10^6 cycles of coreaudiod's sequence against a device with two 8-channel RX streams and
// two 8-channel TX streams. Between cycles, outside the counted window, the same thread
// plays the network: it writes the next packets into the playout buffers and drains the
// TX rings, so every cycle reads real audio and never overflows.
TEST(RealtimeIo, AMillionCyclesAllocateLockAndCallTheKernelZeroTimes) {
  constexpr std::uint32_t kBuffer = 32;
  constexpr std::uint32_t kPacket = 16;
  constexpr std::uint64_t kCycles = 1'000'000;
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 16;
  config.outputChannels = 16;
  Device device(config, clock);
  PlayoutBuffer rx1(PlayoutConfig{8, 4096, 96}), rx2(PlayoutConfig{8, 4096, 96});
  PlayoutInputSource in1(rx1, kPacket), in2(rx2, kPacket);
  FrameRingBuffer tx1(4096, 8), tx2(4096, 8);
  RingOutputSink out1(tx1, kPacket), out2(tx2, kPacket);
  device.addInput(in1, {0, 1, 2, 3, 4, 5, 6, 7}, "RX 1");
  device.addInput(in2, {8, 9, 10, 11, 12, 13, 14, 15}, "RX 2");
  device.addOutput(out1, {0, 1, 2, 3, 4, 5, 6, 7}, "TX 1");
  device.addOutput(out2, {15, 14, 13, 12, 11, 10, 9, 8}, "TX 2");
  std::vector<float> input(kBuffer * 16), output(kBuffer * 16), packet(kPacket * 8), drain(kBuffer * 8);
  for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<float>(i) / 256.0f;

  device.startIO(0);
  const SampleTime anchor = device.timeline().anchor();
  const SampleTime inSafety = device.inputSafetyOffsetFrames();
  const SampleTime outSafety = device.outputSafetyOffsetFrames();
  const SampleTime presentation = device.inputLatencyFrames();
  SampleTime written = anchor - presentation - 2 * kBuffer - inSafety;  // media time the network has delivered up to
  std::uint64_t badResults = 0;

  rt::ProbeCounts counts = onTrappedThread([&] {
    rt::ProbeCounts total;
    for (std::uint64_t n = 0; n < kCycles; ++n) {
      // The network (not counted): packets up to the frames this cycle reads.
      const SampleTime current = static_cast<SampleTime>(n + 2) * kBuffer + inSafety;
      const SampleTime need = anchor + current - inSafety - presentation;
      while (written < need) {
        rx1.write(written, packet.data(), kPacket);
        rx2.write(written, packet.data(), kPacket);
        written += kPacket;
      }
      tx1.pop(drain.data(), kBuffer);
      tx2.pop(drain.data(), kBuffer);

      // The HAL's IO cycle (counted).
      rt::beginCounting();
      const Nanoseconds host = device.timeline().hostTimeOf(current);
      device.getZeroTimeStamp(host);
      IoCycleInfo cycle;
      cycle.cycleCounter = n;
      cycle.nominalBufferFrames = kBuffer;
      cycle.currentHostTime = host;
      cycle.currentTime = current;
      cycle.inputTime = current - kBuffer - inSafety;
      cycle.outputTime = current + kBuffer + outSafety;
      cycle.deviceHostTicksPerFrame = device.timeline().hostTicksPerFrame();
      if (device.willDoIOOperation(IoOperation::kReadInput).willDo) {
        badResults += device.beginIOOperation(IoOperation::kReadInput, kBuffer, cycle) != IoResult::kOk;
        badResults += device.doIOOperation(IoOperation::kReadInput, kBuffer, cycle, input.data()) != IoResult::kOk;
        badResults += device.endIOOperation(IoOperation::kReadInput, kBuffer, cycle) != IoResult::kOk;
      }
      std::copy(input.begin(), input.end(), output.begin());  // the client: loopback
      if (device.willDoIOOperation(IoOperation::kWriteMix).willDo) {
        badResults += device.beginIOOperation(IoOperation::kWriteMix, kBuffer, cycle) != IoResult::kOk;
        badResults += device.doIOOperation(IoOperation::kWriteMix, kBuffer, cycle, output.data()) != IoResult::kOk;
        badResults += device.endIOOperation(IoOperation::kWriteMix, kBuffer, cycle) != IoResult::kOk;
      }
      const rt::ProbeCounts c = rt::endCounting();
      if (total.syscalls == 0) total.firstSyscalls = c.firstSyscalls;
      total.allocations += c.allocations;
      total.frees += c.frees;
      total.locks += c.locks;
      total.syscalls += c.syscalls;
    }
    return total;
  });
  device.stopIO();

  std::printf("IO cycles: %llu, %s\n", static_cast<unsigned long long>(kCycles), describe(counts).c_str());
  EXPECT_EQ(counts.allocations, 0u) << describe(counts);
  EXPECT_EQ(counts.frees, 0u) << describe(counts);
  EXPECT_EQ(counts.locks, 0u) << describe(counts);
  EXPECT_EQ(counts.syscalls, 0u) << describe(counts);
  EXPECT_EQ(badResults, 0u);
  // The cycles moved real audio: nothing missing, nothing discontinuous, nothing dropped.
  const DeviceCounters d = device.counters();
  EXPECT_EQ(d.ioCycles, kCycles);
  EXPECT_EQ(d.framesRead, kCycles * kBuffer);
  EXPECT_EQ(d.inputDiscontinuities + d.outputDiscontinuities, 0u);
  EXPECT_EQ(rx1.stats().framesMissing + rx2.stats().framesMissing, 0u);
  EXPECT_EQ(rx1.stats().framesPlayed, kCycles * kBuffer);
  EXPECT_EQ(out1.overflowFrames() + out2.overflowFrames() + out1.gaps() + out2.gaps(), 0u);
}

// Bindings swapped while IO runs (issue 9): a control thread binds and unbinds a second RX
// and a second TX stream as fast as it can while the IO thread runs coreaudiod's sequence.
// The swap path on the IO side (one atomic load of the table, one store of its generation)
// allocates, locks and calls the kernel zero times; the IO thread really crossed the swaps
// (it saw the second stream's channels come and go), the first stream never noticed, and
// every replaced table was freed once the IO thread was past it.
TEST(RealtimeIo, BindingsSwappedWhileIoRunsAllocateLockAndCallTheKernelZeroTimes) {
  constexpr std::uint32_t kBuffer = 32;
  constexpr std::uint32_t kPacket = 16;
  constexpr std::uint64_t kCycles = 300'000;
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 16;
  config.outputChannels = 16;
  Device device(config, clock);
  PlayoutBuffer rx1(PlayoutConfig{8, 4096, 96}), rx2(PlayoutConfig{8, 4096, 96});
  PlayoutInputSource in1(rx1, kPacket), in2(rx2, kPacket);
  FrameRingBuffer tx1(4096, 8), tx2(4096, 8);
  RingOutputSink out1(tx1, kPacket), out2(tx2, kPacket, true);
  device.addInput(in1, {0, 1, 2, 3, 4, 5, 6, 7}, "RX 1");
  device.addOutput(out1, {0, 1, 2, 3, 4, 5, 6, 7}, "TX 1");
  std::vector<float> input(kBuffer * 16), output(kBuffer * 16), packet(kPacket * 8), drain(kBuffer * 8);
  for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<float>(i + 1) / 256.0f;

  device.startIO(0);
  const SampleTime anchor = device.timeline().anchor();
  const SampleTime presentation = device.inputPresentationFrames();
  SampleTime written = anchor - presentation - 2 * kBuffer - kPacket;
  std::uint64_t badResults = 0, appeared = 0, vanished = 0;
  std::atomic<bool> done{false};
  std::uint64_t swaps = 0;
  std::size_t mostRetired = 0;

  std::thread control([&] {
    bool bound = false;
    while (!done.load(std::memory_order_acquire)) {
      if (bound) {
        device.removeInput(in2);
        device.removeOutput(out2);
      } else {
        device.addInput(in2, {8, 9, 10, 11, 12, 13, 14, 15}, "RX 2");
        device.addOutput(out2, {15, 14, 13, 12, 11, 10, 9, 8}, "TX 2");
      }
      bound = !bound;
      ++swaps;
      mostRetired = std::max(mostRetired, device.retiredBindingTables());
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (bound) {
      device.removeInput(in2);
      device.removeOutput(out2);
    }
  });
  rt::ProbeCounts counts = onTrappedThread([&] {
    rt::ProbeCounts total;
    bool sawSecond = false;
    for (std::uint64_t n = 0; n < kCycles; ++n) {
      // The network (not counted): packets for both streams, whether bound or not.
      const SampleTime current = static_cast<SampleTime>(n + 2) * kBuffer;
      const SampleTime need = anchor + current - presentation;
      while (written < need) {
        rx1.write(written, packet.data(), kPacket);
        rx2.write(written, packet.data(), kPacket);
        written += kPacket;
      }
      tx1.pop(drain.data(), kBuffer);
      tx2.pop(drain.data(), kBuffer);

      rt::beginCounting();
      const Nanoseconds host = device.timeline().hostTimeOf(current);
      device.getZeroTimeStamp(host);
      IoCycleInfo cycle;
      cycle.cycleCounter = n;
      cycle.nominalBufferFrames = kBuffer;
      cycle.currentHostTime = host;
      cycle.currentTime = current;
      cycle.inputTime = current - kBuffer;
      cycle.outputTime = current + kBuffer;
      badResults += device.beginIOOperation(IoOperation::kReadInput, kBuffer, cycle) != IoResult::kOk;
      badResults += device.doIOOperation(IoOperation::kReadInput, kBuffer, cycle, input.data()) != IoResult::kOk;
      badResults += device.endIOOperation(IoOperation::kReadInput, kBuffer, cycle) != IoResult::kOk;
      std::copy(input.begin(), input.end(), output.begin());
      badResults += device.beginIOOperation(IoOperation::kWriteMix, kBuffer, cycle) != IoResult::kOk;
      badResults += device.doIOOperation(IoOperation::kWriteMix, kBuffer, cycle, output.data()) != IoResult::kOk;
      badResults += device.endIOOperation(IoOperation::kWriteMix, kBuffer, cycle) != IoResult::kOk;
      const rt::ProbeCounts c = rt::endCounting();
      if (total.syscalls == 0) total.firstSyscalls = c.firstSyscalls;
      total.allocations += c.allocations;
      total.frees += c.frees;
      total.locks += c.locks;
      total.syscalls += c.syscalls;

      // Not counted: whether the second stream's channels carried audio this cycle.
      const bool second = input[8] != 0.0f;
      if (second && !sawSecond) ++appeared;
      if (!second && sawSecond) ++vanished;
      sawSecond = second;
    }
    return total;
  });
  done.store(true, std::memory_order_release);
  control.join();
  const PlayoutStats first = rx1.stats();
  // One more operation (its audio not delivered: not judged) enters the last table: everything replaced before it is freed.
  device.readInput(static_cast<SampleTime>(kCycles + 2) * kBuffer - kBuffer, kBuffer, input.data());
  device.reclaim();
  const std::size_t retiredAtEnd = device.retiredBindingTables();
  device.stopIO();

  std::printf("IO cycles: %llu, binding swaps: %llu (the IO thread saw the second stream appear %llu times), %s\n",
              static_cast<unsigned long long>(kCycles), static_cast<unsigned long long>(swaps),
              static_cast<unsigned long long>(appeared), describe(counts).c_str());
  EXPECT_EQ(counts.allocations, 0u) << describe(counts);
  EXPECT_EQ(counts.frees, 0u) << describe(counts);
  EXPECT_EQ(counts.locks, 0u) << describe(counts);
  EXPECT_EQ(counts.syscalls, 0u) << describe(counts);
  EXPECT_EQ(badResults, 0u);
  EXPECT_GT(appeared, 10u) << "the IO thread hardly crossed a swap";
  EXPECT_GE(vanished + 1, appeared);
  EXPECT_EQ(retiredAtEnd, 0u);
  std::printf("most binding tables waiting to be freed at once: %zu\n", mostRetired);
  // The first stream never noticed.
  const DeviceCounters d = device.counters();
  EXPECT_EQ(d.inputDiscontinuities + d.outputDiscontinuities, 0u);
  EXPECT_EQ(first.framesMissing, 0u);
  EXPECT_EQ(first.framesPlayed, kCycles * kBuffer);
  EXPECT_EQ(out1.overflowFrames() + out1.gaps(), 0u);
}

}  // namespace
}  // namespace aes67
