// The HAL host emulator: drives a driver/core Device the way coreaudiod drives an
// AudioServerPlugIn, so Linux CI measures "Core Audio loopback" on the same code the Mac
// runs.
//
// Per IO cycle, in coreaudiod's order: GetZeroTimeStamp; WillDoIOOperation,
// BeginIOOperation, DoIOOperation, EndIOOperation for ReadInput; every client's IOProc
// (outputs mixed); the same four for WriteMix. StartIO and StopIO around them.
//
// Scheduling is the HAL's: it knows the device only through its zero time stamps. A
// predictor (host time = last stamp + frames x host ticks per frame, the ticks measured
// between the two latest stamps, nominal before) says when device sample time `current`
// arrives, and the cycle runs then. Sample times are the HAL's own counter, exact and
// continuous: currentTime advances by one IO buffer per cycle, inputTime = current -
// buffer - input safety offset, outputTime = current + buffer + output safety offset.
//
// Two ways to run it:
// - virtual time: the caller advances its clock to nextCycleHostTime() (or further) and
//   calls runDue(); deterministic, as fast as the CPU allows;
// - real time: a thread (SCHED_FIFO when permitted) sleeps until each predicted wake and
//   runs the cycle; the host clock must then be a RealClock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "driver/core/device.hpp"
#include "driver/host/io_client.hpp"
#include "driver/host/stamp_ring.hpp"
#include "engine/base/clock.hpp"

namespace aes67 {

struct HalHostConfig {
  std::uint32_t ioBufferFrames = 256;  // kAudioDevicePropertyBufferFrameSize, 16-4096
  std::size_t cycleLogCapacity = 8192; // IO cycle stamps kept until drained
  bool realTimePriority = true;        // ask for SCHED_FIFO in real-time mode
  // A lone client that passes its input through is not called: its input is the mix. Off:
  // the reference way (the client copies, as any client runs), which tests compare it to.
  bool passThrough = true;
};

// One IO cycle, for latency attribution: when the HAL meant to run it, when it ran, and
// the sample times of its three stamps (device time line and media time).
struct IoCycleStamp {
  std::uint64_t cycle = 0;
  Nanoseconds predictedHostTime = 0;
  Nanoseconds wakeHostTime = 0;
  SampleTime currentTime = 0;
  SampleTime inputTime = 0;
  SampleTime outputTime = 0;
  SampleTime mediaCurrentTime = 0;  // currentTime on the media clock
  std::uint32_t frames = 0;
  double hostTicksPerFrame = 0;
};

struct HalHostStats {
  std::uint64_t cycles = 0;
  std::uint64_t zeroTimeStampCalls = 0;
  std::uint64_t zeroTimeStampsSeen = 0;  // distinct stamps the predictor learnt from
  std::uint64_t ioErrors = 0;            // an IO operation the device refused
  std::int64_t maxLatenessNs = 0;        // wake - predicted, the worst
  std::int64_t totalLatenessNs = 0;
  std::uint64_t configurationChanges = 0;
  std::uint64_t timelineJumps = 0;       // zero time stamps off the prediction by more than a period: re-anchored
  bool realTimePriority = false;         // the IO thread got SCHED_FIFO
};

class HalHost {
 public:
  HalHost(Device& device, const Clock& hostClock, const HalHostConfig& config);
  ~HalHost();
  HalHost(const HalHost&) = delete;
  HalHost& operator=(const HalHost&) = delete;

  // Clients (IOProcs), while IO is stopped. Their outputs are summed into the mix.
  void addClient(IoClient& client);
  void removeClient(IoClient& client);

  void startIO();
  void stopIO();
  bool running() const { return running_; }
  std::uint32_t ioBufferFrames() const { return buffer_; }
  // While IO is stopped; throws std::invalid_argument outside 16-4096.
  void setIoBufferFrames(std::uint32_t frames);

  // The host time the next cycle is predicted for; INT64_MAX when IO is stopped.
  Nanoseconds nextCycleHostTime() const;
  SampleTime nextCurrentTime() const { return current_; }
  // Virtual time: runs every cycle whose predicted time is at or before the clock's now.
  std::size_t runDue();
  // Runs one cycle now (whatever the prediction says).
  void runCycle();

  // Real time: an IO thread woken once per IO buffer. startRealTime() needs IO running.
  void startRealTime();
  void stopRealTime();
  bool realTimeRunning() const { return thread_.joinable(); }

  // What the HAL does for RequestConfigurationChange: stops IO (and the IO thread), runs
  // `change`, restarts what was running. The device's time line starts anew.
  void performConfigurationChange(const std::function<void()>& change);

  HalHostStats stats() const;
  StampRing<IoCycleStamp>& cycleLog() { return cycleLog_; }
  Device& device() { return device_; }

 private:
  struct Client {
    IoClient* client;
    std::vector<float> output;
  };
  Nanoseconds predict(SampleTime sample) const;
  // The input, mix and client buffers for buffer_ frames (IO stopped).
  void sizeBuffers();
  void observe(const ZeroTimeStamp& z, Nanoseconds now);
  void realTimeLoop();
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  Device& device_;
  const Clock& clock_;
  HalHostConfig config_;
  std::uint32_t buffer_;
  std::vector<Client> clients_;
  std::vector<float> input_;
  std::vector<float> mix_;
  // One client that passes its input through (IoClient::passesInputThrough), set at startIO:
  // the cycle hands the device its input as the mix. That copy (and zeroing the mix) was
  // ~20 % of an emulated device's time in bench/virtual-speed.ts: 16 KB a cycle, ~2.5 us
  // each there against ~0.2 us for a hot copy in a loop (so, likely, lines gone cold).
  bool passThrough_ = false;
  bool running_ = false;
  std::uint32_t inputSafety_ = 0;
  std::uint32_t outputSafety_ = 0;
  SampleTime current_ = 0;
  std::uint64_t cycle_ = 0;
  // The predictor.
  ZeroTimeStamp last_;
  bool haveStamp_ = false;
  double ticksPerFrame_ = 0;
  // Real time.
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> realTimePriority_{false};
  StampRing<IoCycleStamp> cycleLog_;
  std::atomic<std::uint64_t> cycles_{0}, zeroTimeStampCalls_{0}, zeroTimeStampsSeen_{0}, ioErrors_{0},
      configurationChanges_{0}, timelineJumps_{0};
  std::atomic<std::int64_t> maxLateness_{0}, totalLateness_{0};
};

}  // namespace aes67
