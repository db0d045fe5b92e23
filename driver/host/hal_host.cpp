#include "driver/host/hal_host.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#include <sched.h>
#endif

namespace aes67 {

HalHost::HalHost(Device& device, const Clock& hostClock, const HalHostConfig& config)
    : device_(device), clock_(hostClock), config_(config), buffer_(config.ioBufferFrames), cycleLog_(config.cycleLogCapacity) {
  validateIoBufferFrames(buffer_);
  sizeBuffers();
}

void HalHost::sizeBuffers() {
  // Every cycle moves exactly buffer_ frames, and the size changes only while IO is stopped:
  // buffers of that size, zero-filled here (faulted in before the IO thread touches them).
  // Sized for the largest IO buffer instead, each run of an emulated device zeroed ~1 MB a
  // buffer it never used (bench/virtual-speed.ts).
  const std::size_t frames = buffer_;
  input_.assign(frames * device_.inputChannels(), 0.0f);
  mix_.assign(frames * device_.outputChannels(), 0.0f);
  for (Client& c : clients_) c.output.assign(frames * device_.outputChannels(), 0.0f);
}

HalHost::~HalHost() {
  stopRealTime();
  if (running_) stopIO();
}

void HalHost::addClient(IoClient& client) {
  if (running_) throw std::invalid_argument("clients are added while IO is stopped");
  for (const Client& c : clients_) {
    if (c.client == &client) throw std::invalid_argument("this client is already attached");
  }
  clients_.push_back(Client{&client, std::vector<float>(static_cast<std::size_t>(buffer_) * device_.outputChannels())});
}

void HalHost::removeClient(IoClient& client) {
  if (running_) throw std::invalid_argument("clients are removed while IO is stopped");
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [&](const Client& c) { return c.client == &client; }),
                 clients_.end());
}

void HalHost::setIoBufferFrames(std::uint32_t frames) {
  if (running_) throw std::invalid_argument("the IO buffer size changes while IO is stopped");
  validateIoBufferFrames(frames);
  buffer_ = frames;
  sizeBuffers();
}

void HalHost::startIO() {
  if (running_) return;
  device_.startIO(clock_.now());
  // The HAL reads the safety offsets when IO starts and schedules with them.
  inputSafety_ = device_.inputSafetyOffsetFrames();
  outputSafety_ = device_.outputSafetyOffsetFrames();
  haveStamp_ = false;
  ticksPerFrame_ = 1e9 / device_.sampleRate();
  add(zeroTimeStampCalls_);
  const Nanoseconds now = clock_.now();
  observe(device_.getZeroTimeStamp(now), now);
  // The first cycle reads input from sample 0 on.
  current_ = static_cast<SampleTime>(buffer_) + inputSafety_;
  passThrough_ = config_.passThrough && clients_.size() == 1 && clients_[0].client->passesInputThrough() &&
                 device_.inputChannels() == device_.outputChannels();
  running_ = true;
}

void HalHost::stopIO() {
  stopRealTime();
  if (!running_) return;
  running_ = false;
  device_.stopIO();
}

void HalHost::observe(const ZeroTimeStamp& z, Nanoseconds now) {
  if (!haveStamp_ || z.seed != last_.seed) {
    last_ = z;
    haveStamp_ = true;
    ticksPerFrame_ = 1e9 / device_.sampleRate();
    add(zeroTimeStampsSeen_);
    return;
  }
  if (z.sampleTime != last_.sampleTime) {
    const Nanoseconds expected = predict(z.sampleTime);
    const Nanoseconds onePeriod = samplesToNanos(device_.zeroTimeStampPeriod(), device_.sampleRate());
    if (z.hostTime - expected > onePeriod || expected - z.hostTime > onePeriod) {
      // The device's stamps jumped (its clock stepped and nobody restarted IO). Like the
      // HAL, take the new stamp as the time line and go on from the sample `now` is at:
      // never a flood of catch-up cycles, never a stall until the old schedule comes round.
      last_ = z;
      ticksPerFrame_ = 1e9 / device_.sampleRate();
      current_ = z.sampleTime + static_cast<SampleTime>(std::llround(static_cast<double>(now - z.hostTime) / ticksPerFrame_));
      add(zeroTimeStampsSeen_);
      add(timelineJumps_);
      return;
    }
    ticksPerFrame_ = static_cast<double>(z.hostTime - last_.hostTime) / static_cast<double>(z.sampleTime - last_.sampleTime);
    last_ = z;
    add(zeroTimeStampsSeen_);
  }
}

Nanoseconds HalHost::predict(SampleTime sample) const {
  return last_.hostTime + static_cast<Nanoseconds>(std::llround(static_cast<double>(sample - last_.sampleTime) * ticksPerFrame_));
}

Nanoseconds HalHost::nextCycleHostTime() const {
  return running_ ? predict(current_) : std::numeric_limits<Nanoseconds>::max();
}

std::size_t HalHost::runDue() {
  std::size_t n = 0;
  while (running_ && predict(current_) <= clock_.now()) {
    runCycle();
    ++n;
  }
  return n;
}

void HalHost::runCycle() {
  if (!running_) return;
  const Nanoseconds scheduled = predict(current_);
  const Nanoseconds now = clock_.now();
  add(zeroTimeStampCalls_);
  const std::uint64_t jumpsBefore = timelineJumps_.load(std::memory_order_relaxed);
  observe(device_.getZeroTimeStamp(now), now);
  // After a jump the cycle runs on the new time line, now.
  const Nanoseconds predicted = timelineJumps_.load(std::memory_order_relaxed) != jumpsBefore ? now : scheduled;

  IoCycleInfo cycle;
  cycle.cycleCounter = cycle_;
  cycle.nominalBufferFrames = buffer_;
  cycle.currentHostTime = now;
  cycle.currentTime = current_;
  cycle.inputTime = current_ - buffer_ - inputSafety_;
  cycle.outputTime = current_ + buffer_ + outputSafety_;
  cycle.deviceHostTicksPerFrame = ticksPerFrame_;

  const std::uint32_t inCh = device_.inputChannels();
  const std::uint32_t outCh = device_.outputChannels();
  std::uint64_t errors = 0;
  if (device_.willDoIOOperation(IoOperation::kReadInput).willDo) {
    errors += device_.beginIOOperation(IoOperation::kReadInput, buffer_, cycle) != IoResult::kOk;
    errors += device_.doIOOperation(IoOperation::kReadInput, buffer_, cycle, input_.data()) != IoResult::kOk;
    errors += device_.endIOOperation(IoOperation::kReadInput, buffer_, cycle) != IoResult::kOk;
  } else {
    std::memset(input_.data(), 0, sizeof(float) * buffer_ * inCh);
  }
  // Every client's IOProc; the HAL zeroes their output and mixes them. A lone client that
  // passes its input through would make the mix a copy of the input: the input is the mix.
  float* mix = mix_.data();
  if (passThrough_) {
    mix = input_.data();
  } else if (clients_.size() == 1) {
    std::memset(mix_.data(), 0, sizeof(float) * buffer_ * outCh);
    clients_[0].client->process(cycle, input_.data(), inCh, mix_.data(), outCh, buffer_);
  } else {
    std::memset(mix_.data(), 0, sizeof(float) * buffer_ * outCh);
    for (Client& c : clients_) {
      std::memset(c.output.data(), 0, sizeof(float) * buffer_ * outCh);
      c.client->process(cycle, input_.data(), inCh, c.output.data(), outCh, buffer_);
      for (std::size_t i = 0, n = static_cast<std::size_t>(buffer_) * outCh; i < n; ++i) mix_[i] += c.output[i];
    }
  }
  if (device_.willDoIOOperation(IoOperation::kWriteMix).willDo) {
    errors += device_.beginIOOperation(IoOperation::kWriteMix, buffer_, cycle) != IoResult::kOk;
    errors += device_.doIOOperation(IoOperation::kWriteMix, buffer_, cycle, mix) != IoResult::kOk;
    errors += device_.endIOOperation(IoOperation::kWriteMix, buffer_, cycle) != IoResult::kOk;
  }

  IoCycleStamp stamp;
  stamp.cycle = cycle_;
  stamp.predictedHostTime = predicted;
  stamp.wakeHostTime = now;
  stamp.currentTime = cycle.currentTime;
  stamp.inputTime = cycle.inputTime;
  stamp.outputTime = cycle.outputTime;
  stamp.mediaCurrentTime = device_.timeline().mediaTimeOf(cycle.currentTime);
  stamp.frames = buffer_;
  stamp.hostTicksPerFrame = ticksPerFrame_;
  cycleLog_.push(stamp);

  const std::int64_t lateness = now - predicted;
  if (lateness > maxLateness_.load(std::memory_order_relaxed)) maxLateness_.store(lateness, std::memory_order_relaxed);
  totalLateness_.store(totalLateness_.load(std::memory_order_relaxed) + lateness, std::memory_order_relaxed);
  if (errors) add(ioErrors_, errors);
  add(cycles_);
  current_ += buffer_;
  ++cycle_;
}

void HalHost::startRealTime() {
  if (!running_) throw std::invalid_argument("start IO before the real-time IO thread");
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { realTimeLoop(); });
}

void HalHost::stopRealTime() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  thread_.join();
}

void HalHost::realTimeLoop() {
#if defined(__linux__) || defined(__APPLE__)
  if (config_.realTimePriority) {
    sched_param p{};
    p.sched_priority = std::min(sched_get_priority_max(SCHED_FIFO), 60);
    realTimePriority_.store(pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0);
  }
#endif
  while (!stop_.load(std::memory_order_acquire)) {
    const Nanoseconds wait = predict(current_) - clock_.now();
    if (wait > 0) {
      // At most 20 ms at a time so a stop request is seen promptly.
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<Nanoseconds>(wait, 20'000'000)));
      continue;
    }
    runCycle();
  }
}

void HalHost::performConfigurationChange(const std::function<void()>& change) {
  const bool wasRealTime = realTimeRunning();
  const bool wasRunning = running_;
  stopRealTime();
  if (wasRunning) stopIO();
  change();
  add(configurationChanges_);
  if (wasRunning) startIO();
  if (wasRealTime) startRealTime();
}

HalHostStats HalHost::stats() const {
  HalHostStats s;
  s.cycles = cycles_.load(std::memory_order_relaxed);
  s.zeroTimeStampCalls = zeroTimeStampCalls_.load(std::memory_order_relaxed);
  s.zeroTimeStampsSeen = zeroTimeStampsSeen_.load(std::memory_order_relaxed);
  s.ioErrors = ioErrors_.load(std::memory_order_relaxed);
  s.maxLatenessNs = maxLateness_.load(std::memory_order_relaxed);
  s.totalLatenessNs = totalLateness_.load(std::memory_order_relaxed);
  s.configurationChanges = configurationChanges_.load(std::memory_order_relaxed);
  s.timelineJumps = timelineJumps_.load(std::memory_order_relaxed);
  s.realTimePriority = realTimePriority_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace aes67
