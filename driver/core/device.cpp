#include "driver/core/device.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aes67 {

Device::Device(const DeviceConfig& config, const MediaClock& mediaClock)
    : config_(config), timeline_(config.zeroTimeStampPeriod == 0 ? 1 : config.zeroTimeStampPeriod, mediaClock) {
  validate(config_);
  if (mediaClock.sampleRate() != config_.sampleRate) {
    throw std::invalid_argument("media clock runs at " + std::to_string(mediaClock.sampleRate()) +
                                " Hz but the device at " + std::to_string(config_.sampleRate) + " Hz");
  }
  scratch_.resize(static_cast<std::size_t>(kMaxIoBufferFrames) * kMaxStreamChannels);
  publish();
}

void Device::publish() {
  auto next = std::make_unique<BindingTable>();
  next->generation = ++generation_;
  next->inputs = inputs_;
  next->outputs = outputs_;
  // Input bindings never share a device channel (addInput refuses it): count them.
  std::size_t mapped = 0;
  for (const Binding& b : inputs_) mapped += b.channels.size();
  next->inputsCovered = mapped == config_.inputChannels;
  table_.store(next.get(), std::memory_order_release);
  if (current_) retiredTables_.push_back(RetiredTable{next->generation, std::move(current_)});
  current_ = std::move(next);
  reclaim();
}

bool Device::ioPast(std::uint64_t generation) const {
  return !running() || ioGeneration_.load(std::memory_order_acquire) >= generation;
}

void Device::reclaim() {
  retiredTables_.erase(std::remove_if(retiredTables_.begin(), retiredTables_.end(),
                                      [&](const RetiredTable& r) { return ioPast(r.freeAt); }),
                       retiredTables_.end());
}

void Device::requireStopped(const char* what) const {
  if (running()) throw std::invalid_argument(std::string(what) + " needs IO stopped (do it in a configuration change)");
}

void Device::checkBinding(const std::vector<std::uint32_t>& channels, std::uint32_t portChannels,
                          std::uint32_t deviceChannels, const std::string& label,
                          const std::vector<std::string>& channelLabels, const char* direction) const {
  if (portChannels == 0 || portChannels > kMaxStreamChannels) {
    throw std::invalid_argument("stream '" + label + "': a stream has 1-64 channels, not " + std::to_string(portChannels));
  }
  if (channels.size() != portChannels) {
    throw std::invalid_argument("stream '" + label + "': " + std::to_string(portChannels) + " stream channels but " +
                                std::to_string(channels.size()) + " device channels mapped");
  }
  if (!channelLabels.empty() && channelLabels.size() != portChannels) {
    throw std::invalid_argument("stream '" + label + "': " + std::to_string(channelLabels.size()) +
                                " channel labels for " + std::to_string(portChannels) + " channels");
  }
  for (std::uint32_t c : channels) {
    if (c >= deviceChannels) {
      throw std::invalid_argument("stream '" + label + "': " + direction + " channel " + std::to_string(c + 1) +
                                  " does not exist (the device has " + std::to_string(deviceChannels) + ")");
    }
  }
  for (std::size_t i = 0; i < channels.size(); ++i) {
    for (std::size_t j = i + 1; j < channels.size(); ++j) {
      if (channels[i] == channels[j]) {
        throw std::invalid_argument("stream '" + label + "': " + direction + " channel " + std::to_string(channels[i] + 1) +
                                    " is mapped twice");
      }
    }
  }
}

namespace {

// Rows of n floats from one frame layout into another (a stream's frames into the device's
// interleaved buffer, or back): a fixed count unrolls into a few vector moves per frame,
// where a loop of a run-time count paid its setup per frame (bench/virtual-speed.ts).
template <std::uint32_t N>
void copyRowsOf(const float* __restrict src, std::size_t srcStride, float* __restrict dst, std::size_t dstStride, std::uint32_t frames) {
  for (std::uint32_t f = 0; f < frames; ++f, src += srcStride, dst += dstStride) {
    for (std::uint32_t c = 0; c < N; ++c) dst[c] = src[c];
  }
}

void copyRows(const float* __restrict src, std::size_t srcStride, float* __restrict dst, std::size_t dstStride, std::uint32_t frames, std::uint32_t n) {
  switch (n) {
    case 1: return copyRowsOf<1>(src, srcStride, dst, dstStride, frames);
    case 2: return copyRowsOf<2>(src, srcStride, dst, dstStride, frames);
    case 4: return copyRowsOf<4>(src, srcStride, dst, dstStride, frames);
    case 8: return copyRowsOf<8>(src, srcStride, dst, dstStride, frames);
    case 16: return copyRowsOf<16>(src, srcStride, dst, dstStride, frames);
    default:
      for (std::uint32_t f = 0; f < frames; ++f, src += srcStride, dst += dstStride) {
        for (std::uint32_t c = 0; c < n; ++c) dst[c] = src[c];
      }
  }
}

}  // namespace

std::int64_t Device::firstRunOf(const std::vector<std::uint32_t>& channels) {
  for (std::size_t i = 1; i < channels.size(); ++i) {
    if (channels[i] != channels[0] + i) return -1;
  }
  return channels.empty() ? -1 : channels[0];
}

void Device::addInput(InputSource& source, const std::vector<std::uint32_t>& deviceChannels, const std::string& label,
                      const std::vector<std::string>& channelLabels) {
  checkBinding(deviceChannels, source.channels(), config_.inputChannels, label, channelLabels, "input");
  for (const Binding& b : inputs_) {
    if (b.port == &source) throw std::invalid_argument("stream '" + label + "' is already attached");
    for (std::uint32_t c : deviceChannels) {
      if (std::find(b.channels.begin(), b.channels.end(), c) != b.channels.end()) {
        throw std::invalid_argument("input channel " + std::to_string(c + 1) + " is mapped by both '" + b.label +
                                    "' and '" + label + "': map one of them elsewhere");
      }
    }
  }
  if (running() && source.latencyFrames() > inputPresentation_) {
    throw std::invalid_argument("stream '" + label + "': its latency of " + std::to_string(source.latencyFrames()) +
                                " frames exceeds the input presentation of " + std::to_string(inputPresentation_) +
                                " frames this IO run started with: add it in a configuration change");
  }
  inputs_.push_back(Binding{&source, deviceChannels, label, channelLabels, firstRunOf(deviceChannels)});
  publish();
}

void Device::addOutput(OutputSink& sink, const std::vector<std::uint32_t>& deviceChannels, const std::string& label,
                       const std::vector<std::string>& channelLabels) {
  checkBinding(deviceChannels, sink.channels(), config_.outputChannels, label, channelLabels, "output");
  for (const Binding& b : outputs_) {
    if (b.port == &sink) throw std::invalid_argument("stream '" + label + "' is already attached");
  }
  outputs_.push_back(Binding{&sink, deviceChannels, label, channelLabels, firstRunOf(deviceChannels)});
  publish();
}

std::uint64_t Device::removeInput(const InputSource& source) {
  inputs_.erase(std::remove_if(inputs_.begin(), inputs_.end(), [&](const Binding& b) { return b.port == &source; }),
                inputs_.end());
  publish();
  return generation_;
}

std::uint64_t Device::removeOutput(const OutputSink& sink) {
  outputs_.erase(std::remove_if(outputs_.begin(), outputs_.end(), [&](const Binding& b) { return b.port == &sink; }),
                 outputs_.end());
  publish();
  return generation_;
}

void Device::clearStreams() {
  requireStopped("clearing the streams");
  inputs_.clear();
  outputs_.clear();
  publish();
}

void Device::setMediaClock(const MediaClock& mediaClock) {
  requireStopped("switching the media clock");
  if (mediaClock.sampleRate() != config_.sampleRate) {
    throw std::invalid_argument("media clock runs at " + std::to_string(mediaClock.sampleRate()) +
                                " Hz but the device at " + std::to_string(config_.sampleRate) + " Hz");
  }
  timeline_.setMediaClock(mediaClock);
}

void Device::setSampleRate(std::uint32_t rate, const MediaClock& mediaClock) {
  requireStopped("changing the sample rate");
  if (!inputs_.empty() || !outputs_.empty()) {
    throw std::invalid_argument("changing the sample rate to " + std::to_string(rate) +
                                " Hz: detach the streams first (they run at " + std::to_string(config_.sampleRate) + " Hz)");
  }
  DeviceConfig next = config_;
  next.sampleRate = rate;
  validate(next);
  if (mediaClock.sampleRate() != rate) {
    throw std::invalid_argument("media clock runs at " + std::to_string(mediaClock.sampleRate()) + " Hz, not " +
                                std::to_string(rate) + " Hz");
  }
  config_ = next;
  timeline_.setMediaClock(mediaClock);
}

void Device::setMinimumInputLatency(std::uint32_t frames) {
  requireStopped("setting the minimum input latency");
  minimumInputLatency_ = frames;
}

std::uint32_t Device::computedInputLatency() const {
  std::uint32_t v = minimumInputLatency_;
  for (const Binding& b : inputs_) v = std::max(v, static_cast<InputSource*>(b.port)->latencyFrames());
  return v;
}
std::uint32_t Device::computedInputSafety() const {
  std::uint32_t v = 0;
  for (const Binding& b : inputs_) v = std::max(v, static_cast<InputSource*>(b.port)->safetyOffsetFrames());
  return v;
}
std::uint32_t Device::computedOutputLatency() const {
  std::uint32_t v = 0;
  for (const Binding& b : outputs_) v = std::max(v, static_cast<OutputSink*>(b.port)->latencyFrames());
  return v;
}
std::uint32_t Device::computedOutputSafety() const {
  std::uint32_t v = 0;
  for (const Binding& b : outputs_) v = std::max(v, static_cast<OutputSink*>(b.port)->safetyOffsetFrames());
  return v;
}
std::uint32_t Device::inputLatencyFrames() const { return running() ? inputPresentation_ : computedInputLatency(); }
std::uint32_t Device::inputSafetyOffsetFrames() const { return running() ? latchedInputSafety_ : computedInputSafety(); }
std::uint32_t Device::outputLatencyFrames() const { return running() ? latchedOutputLatency_ : computedOutputLatency(); }
std::uint32_t Device::outputSafetyOffsetFrames() const { return running() ? latchedOutputSafety_ : computedOutputSafety(); }

std::string Device::channelName(const std::vector<Binding>& bindings, std::uint32_t channel, const char* fallback) {
  std::string name;
  for (const Binding& b : bindings) {
    for (std::size_t i = 0; i < b.channels.size(); ++i) {
      if (b.channels[i] != channel) continue;
      const std::string one = !b.channelLabels.empty() && !b.channelLabels[i].empty()
                                  ? b.channelLabels[i]
                                  : b.label + " " + std::to_string(i + 1);
      name = name.empty() ? one : name + " + " + one;  // an output channel feeding several streams
    }
  }
  return name.empty() ? std::string(fallback) + " " + std::to_string(channel + 1) : name;
}

std::string Device::inputChannelName(std::uint32_t channel) const {
  if (channel >= config_.inputChannels) {
    throw std::invalid_argument("input channel " + std::to_string(channel + 1) + " does not exist (the device has " +
                                std::to_string(config_.inputChannels) + ")");
  }
  return channelName(inputs_, channel, "Input");
}

std::string Device::outputChannelName(std::uint32_t channel) const {
  if (channel >= config_.outputChannels) {
    throw std::invalid_argument("output channel " + std::to_string(channel + 1) + " does not exist (the device has " +
                                std::to_string(config_.outputChannels) + ")");
  }
  return channelName(outputs_, channel, "Output");
}

void Device::startIO(Nanoseconds hostNow) {
  startIOCalls_.add();
  if (clients_.load(std::memory_order_relaxed) > 0) {
    clients_.fetch_add(1, std::memory_order_acq_rel);
    return;
  }
  timeline_.start(hostNow);
  inputPresentation_ = computedInputLatency();
  latchedInputSafety_ = computedInputSafety();
  latchedOutputLatency_ = computedOutputLatency();
  latchedOutputSafety_ = computedOutputSafety();
  haveInput_ = haveOutput_ = haveCycle_ = false;
  clients_.store(1, std::memory_order_release);
}

void Device::stopIO() {
  stopIOCalls_.add();
  if (clients_.load(std::memory_order_relaxed) > 0) clients_.fetch_sub(1, std::memory_order_acq_rel);
}

ZeroTimeStamp Device::getZeroTimeStamp(Nanoseconds hostNow) {
  zeroTimeStampCalls_.add();
  return timeline_.zeroTimeStamp(hostNow);
}

IoOperationPlan Device::willDoIOOperation(IoOperation op) const {
  // Only the two operations that move audio. The HAL mixes every client into WriteMix, so
  // the device sees one mix per cycle (libASPL's default "mixing on" means the same).
  switch (op) {
    case IoOperation::kReadInput:
    case IoOperation::kWriteMix: return IoOperationPlan{true, true};
    default: return IoOperationPlan{false, true};
  }
}

IoResult Device::beginIOOperation(IoOperation op, std::uint32_t frames, const IoCycleInfo& cycle) {
  if (!running()) {
    callsWhileStopped_.add();
    return IoResult::kNotRunning;
  }
  if (!willDoIOOperation(op).willDo) {
    unsupportedOperations_.add();
    return IoResult::kUnsupportedOperation;
  }
  if (frames > kMaxIoBufferFrames) {
    oversizeRequests_.add();
    return IoResult::kOversize;
  }
  if (!haveCycle_ || cycle.cycleCounter != lastCycle_) {
    ioCycles_.add();
    lastCycle_ = cycle.cycleCounter;
    haveCycle_ = true;
  }
  return IoResult::kOk;
}

IoResult Device::doIOOperation(IoOperation op, std::uint32_t frames, const IoCycleInfo& cycle, float* buffer) {
  switch (op) {
    case IoOperation::kReadInput: return readInput(cycle.inputTime, frames, buffer);
    case IoOperation::kWriteMix: return writeMix(cycle.outputTime, frames, buffer);
    default: unsupportedOperations_.add(); return IoResult::kUnsupportedOperation;
  }
}

IoResult Device::endIOOperation(IoOperation op, std::uint32_t, const IoCycleInfo&) {
  if (!running()) return IoResult::kNotRunning;
  return willDoIOOperation(op).willDo ? IoResult::kOk : IoResult::kUnsupportedOperation;
}

IoResult Device::readInput(SampleTime sampleTime, std::uint32_t frames, float* interleaved) {
  readInputCalls_.add();
  if (!running()) {
    callsWhileStopped_.add();
    return IoResult::kNotRunning;
  }
  if (frames > kMaxIoBufferFrames) {
    oversizeRequests_.add();
    return IoResult::kOversize;
  }
  if (haveInput_ && sampleTime != nextInput_) inputDiscontinuities_.add();
  haveInput_ = true;
  nextInput_ = sampleTime + frames;
  const std::uint32_t deviceChannels = config_.inputChannels;
  const BindingTable& table = enterTable();
  // Channels no stream maps are silent (when every channel is mapped, every sample is written below).
  if (!table.inputsCovered) std::memset(interleaved, 0, sizeof(float) * frames * deviceChannels);
  // Every input is presented inputPresentation_ frames after its media time.
  const SampleTime mediaTime = timeline_.mediaTimeOf(sampleTime) - inputPresentation_;
  for (const Binding& b : table.inputs) {
    auto* source = static_cast<InputSource*>(b.port);
    const std::uint32_t n = static_cast<std::uint32_t>(b.channels.size());
    const std::uint32_t* map = b.channels.data();
    source->read(mediaTime, scratch_.data(), frames);
    if (b.firstRun >= 0) {
      // Consecutive channels: each frame is one run.
      copyRows(scratch_.data(), n, interleaved + b.firstRun, deviceChannels, frames, n);
      continue;
    }
    for (std::uint32_t f = 0; f < frames; ++f) {
      const float* src = &scratch_[static_cast<std::size_t>(f) * n];
      float* dst = interleaved + static_cast<std::size_t>(f) * deviceChannels;
      for (std::uint32_t c = 0; c < n; ++c) dst[map[c]] = src[c];
    }
  }
  framesRead_.add(frames);
  return IoResult::kOk;
}

IoResult Device::writeMix(SampleTime sampleTime, std::uint32_t frames, const float* interleaved) {
  writeMixCalls_.add();
  if (!running()) {
    callsWhileStopped_.add();
    return IoResult::kNotRunning;
  }
  if (frames > kMaxIoBufferFrames) {
    oversizeRequests_.add();
    return IoResult::kOversize;
  }
  if (haveOutput_ && sampleTime != nextOutput_) outputDiscontinuities_.add();
  haveOutput_ = true;
  nextOutput_ = sampleTime + frames;
  const std::uint32_t deviceChannels = config_.outputChannels;
  const SampleTime mediaTime = timeline_.mediaTimeOf(sampleTime);
  const BindingTable& table = enterTable();
  for (const Binding& b : table.outputs) {
    auto* sink = static_cast<OutputSink*>(b.port);
    const std::uint32_t n = static_cast<std::uint32_t>(b.channels.size());
    const std::uint32_t* map = b.channels.data();
    if (b.firstRun >= 0) {
      copyRows(interleaved + b.firstRun, deviceChannels, scratch_.data(), n, frames, n);
    } else {
      for (std::uint32_t f = 0; f < frames; ++f) {
        const float* src = interleaved + static_cast<std::size_t>(f) * deviceChannels;
        float* dst = &scratch_[static_cast<std::size_t>(f) * n];
        for (std::uint32_t c = 0; c < n; ++c) dst[c] = src[map[c]];
      }
    }
    sink->write(mediaTime, scratch_.data(), frames);
  }
  framesWritten_.add(frames);
  return IoResult::kOk;
}

DeviceCounters Device::counters() const {
  DeviceCounters c;
  c.ioCycles = ioCycles_.get();
  c.zeroTimeStampCalls = zeroTimeStampCalls_.get();
  c.readInputCalls = readInputCalls_.get();
  c.writeMixCalls = writeMixCalls_.get();
  c.framesRead = framesRead_.get();
  c.framesWritten = framesWritten_.get();
  c.inputDiscontinuities = inputDiscontinuities_.get();
  c.outputDiscontinuities = outputDiscontinuities_.get();
  c.oversizeRequests = oversizeRequests_.get();
  c.callsWhileStopped = callsWhileStopped_.get();
  c.unsupportedOperations = unsupportedOperations_.get();
  c.startIOCalls = startIOCalls_.get();
  c.stopIOCalls = stopIOCalls_.get();
  return c;
}

}  // namespace aes67
