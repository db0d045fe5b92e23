// The device as Core Audio sees it: identity, channels, nominal rate, latency and
// safety-offset properties, channel names, zero time stamps, and the IO cycle (ReadInput /
// WriteMix) between the HAL's buffers and the engine's streams. The macOS AudioServerPlugIn
// and the HAL host emulator both drive exactly this class through the same entry points
// coreaudiod calls (StartIO, GetZeroTimeStamp, WillDoIOOperation, Begin/Do/EndIOOperation,
// StopIO); every decision lives here, the glue only converts types.
//
// Time: see device_timeline.hpp. ReadInput at device sample time X delivers the media
// samples captured at mediaTimeOf(X) - inputLatency (the largest link offset of the
// inputs); WriteMix at device sample time Y hands the outputs media time mediaTimeOf(Y),
// which becomes the RTP timestamp of that sample.
//
// Threads: configuration (clock, rate) changes only while IO is stopped, which is what the
// HAL guarantees inside PerformConfigurationChange. Streams can also be bound and unbound
// while IO runs (patching one more stream must not stop the others, issue 9): the IO
// thread reads the bindings from an immutable table that the control thread builds and
// publishes whole through an atomic pointer; the IO thread says which table it last
// entered (its generation), and a replaced table, like a removed stream's port, is freed
// only once the IO thread has entered a later one (or IO stopped). The IO entry points run
// on one IO thread and never allocate, lock, log or make a system call (driver/core/
// realtime proves it, swaps included). Counters can be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "driver/core/device_config.hpp"
#include "driver/core/device_timeline.hpp"
#include "driver/core/io_cycle.hpp"
#include "driver/core/io_ports.hpp"
#include "engine/base/media_clock.hpp"

namespace aes67 {

struct DeviceCounters {
  std::uint64_t ioCycles = 0;               // distinct IO cycle counters seen in BeginIOOperation
  std::uint64_t zeroTimeStampCalls = 0;
  std::uint64_t readInputCalls = 0;
  std::uint64_t writeMixCalls = 0;
  std::uint64_t framesRead = 0;
  std::uint64_t framesWritten = 0;
  std::uint64_t inputDiscontinuities = 0;   // ReadInput's sample time did not follow the previous one
  std::uint64_t outputDiscontinuities = 0;  // likewise for WriteMix
  std::uint64_t oversizeRequests = 0;       // more frames than the largest IO buffer (refused)
  std::uint64_t callsWhileStopped = 0;      // IO operations without StartIO (refused)
  std::uint64_t unsupportedOperations = 0;  // operations WillDoIOOperation declined (refused)
  std::uint64_t startIOCalls = 0;
  std::uint64_t stopIOCalls = 0;
};

class Device {
 public:
  Device(const DeviceConfig& config, const MediaClock& mediaClock);
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  const std::string& uid() const { return config_.uid; }
  std::uint32_t inputChannels() const { return config_.inputChannels; }
  std::uint32_t outputChannels() const { return config_.outputChannels; }
  std::uint32_t sampleRate() const { return config_.sampleRate; }
  std::uint32_t minIoBufferFrames() const { return kMinIoBufferFrames; }
  std::uint32_t maxIoBufferFrames() const { return kMaxIoBufferFrames; }
  std::uint32_t zeroTimeStampPeriod() const { return config_.zeroTimeStampPeriod; }

  // Streams. Source channel i goes to `deviceChannels[i]` (0-based). `label` names the
  // stream (its SDP s=); `channelLabels` (optional, one per stream channel, e.g. Dante's i=
  // labels) name its channels. Throws std::invalid_argument if a channel is out of range,
  // an input channel is already taken (naming both streams), or the counts differ.
  // While IO runs the binding takes effect from the IO thread's next operation, and the
  // other streams' time line goes on; an input whose latency exceeds the presentation
  // latched at StartIO (inputPresentationFrames) is refused then (it would be late for
  // every read: add it in a configuration change).
  void addInput(InputSource& source, const std::vector<std::uint32_t>& deviceChannels, const std::string& label,
                const std::vector<std::string>& channelLabels = {});
  // One device output channel may feed several streams.
  void addOutput(OutputSink& sink, const std::vector<std::uint32_t>& deviceChannels, const std::string& label,
                 const std::vector<std::string>& channelLabels = {});
  // Unbinds a stream; its device input channels read silence from the IO thread's next
  // operation. Returns the binding generation the IO thread must reach before the port
  // may be destroyed: keep it until ioPast(generation) (at once when IO is stopped).
  std::uint64_t removeInput(const InputSource& source);
  std::uint64_t removeOutput(const OutputSink& sink);
  // Whether the IO thread no longer reads anything bound before `generation` (it entered
  // that binding table or a later one, or IO is stopped). Any thread.
  bool ioPast(std::uint64_t generation) const;
  // Frees the binding tables the IO thread is past (add/remove do it too). Control thread.
  void reclaim();
  // Binding tables published so far, and replaced ones not yet freed.
  std::uint64_t bindingGeneration() const { return generation_; }
  std::size_t retiredBindingTables() const { return retiredTables_.size(); }
  void clearStreams();
  std::size_t inputStreamCount() const { return inputs_.size(); }
  std::size_t outputStreamCount() const { return outputs_.size(); }

  // Switching clocks (e.g. to the PTP media clock once locked), while IO is stopped; the
  // next StartIO begins a new time line on it. Throws if its rate differs from the device's.
  void setMediaClock(const MediaClock& mediaClock);
  // A new nominal rate with a media clock at that rate, while IO is stopped and no streams
  // are attached (streams run at one rate: the stream manager re-creates them).
  void setSampleRate(std::uint32_t rate, const MediaClock& mediaClock);

  // Properties computed from the attached streams (0 with none). The HAL reads them when IO
  // starts and schedules with them until it stops: while IO runs they report the values
  // latched at StartIO (a stream bound since does not change them; the next configuration
  // change does), so what the device says is what the IO cycle uses.
  // Input latency: the largest link offset; every input is presented this late.
  std::uint32_t inputLatencyFrames() const;
  // The input latency latched at StartIO, which every input is presented at until IO stops.
  std::uint32_t inputPresentationFrames() const { return inputPresentation_; }
  // An input latency the device reports even without (or with earlier) inputs, while IO is
  // stopped: a device whose streams all have one link offset sets it, so that the first RX
  // stream bound while IO runs does not change the latency it started with (as Dante's
  // devices keep one latency setting whatever is subscribed).
  void setMinimumInputLatency(std::uint32_t frames);
  // Input safety offset: the largest packet time of the inputs.
  std::uint32_t inputSafetyOffsetFrames() const;
  // Output latency: the largest packetization delay of the outputs.
  std::uint32_t outputLatencyFrames() const;
  // Output safety offset: the largest packet time of the outputs.
  std::uint32_t outputSafetyOffsetFrames() const;
  // kAudioObjectPropertyElementName: from the stream map, "Input N" / "Output N" if unmapped.
  std::string inputChannelName(std::uint32_t channel) const;
  std::string outputChannelName(std::uint32_t channel) const;

  // IO lifecycle. StartIO / StopIO are counted per client like the HAL calls them: the
  // time line starts with the first StartIO and IO stops with the last StopIO.
  void startIO(Nanoseconds hostNow);
  void stopIO();
  bool running() const { return clients_.load(std::memory_order_acquire) > 0; }

  // --- The HAL's real-time entry points ---------------------------------------------
  ZeroTimeStamp getZeroTimeStamp(Nanoseconds hostNow);
  IoOperationPlan willDoIOOperation(IoOperation op) const;
  IoResult beginIOOperation(IoOperation op, std::uint32_t frames, const IoCycleInfo& cycle);
  // ReadInput fills `buffer` (inputChannels interleaved floats per frame) for
  // cycle.inputTime; WriteMix takes `buffer` (outputChannels per frame) for cycle.outputTime.
  IoResult doIOOperation(IoOperation op, std::uint32_t frames, const IoCycleInfo& cycle, float* buffer);
  IoResult endIOOperation(IoOperation op, std::uint32_t frames, const IoCycleInfo& cycle);

  // The two operations that move audio, by sample time.
  IoResult readInput(SampleTime sampleTime, std::uint32_t frames, float* interleaved);
  IoResult writeMix(SampleTime sampleTime, std::uint32_t frames, const float* interleaved);

  const DeviceTimeline& timeline() const { return timeline_; }
  DeviceCounters counters() const;

 private:
  struct Binding {
    void* port;  // InputSource* or OutputSink*
    std::vector<std::uint32_t> channels;
    std::string label;
    std::vector<std::string> channelLabels;
    // The first device channel when the stream's channels are consecutive device channels
    // (the common map), else -1: the IO cycle copies such a frame as one run, not channel
    // by channel through the map.
    std::int64_t firstRun = -1;
  };
  // What the IO thread reads: the bindings as one immutable table, published whole.
  struct BindingTable {
    std::uint64_t generation = 0;
    std::vector<Binding> inputs;
    std::vector<Binding> outputs;
    // Whether the inputs map every device input channel (then ReadInput need not clear the
    // buffer first: every sample of it is written).
    bool inputsCovered = false;
  };
  struct RetiredTable {
    std::uint64_t freeAt;  // the generation that replaced it
    std::unique_ptr<BindingTable> table;
  };
  static std::int64_t firstRunOf(const std::vector<std::uint32_t>& channels);
  // Builds a table from inputs_/outputs_ and publishes it (control thread; allocates).
  void publish();
  // IO thread: the current table, and the word that it entered it.
  const BindingTable& enterTable() {
    const BindingTable* t = table_.load(std::memory_order_acquire);
    if (ioGeneration_.load(std::memory_order_relaxed) != t->generation) {
      ioGeneration_.store(t->generation, std::memory_order_release);
    }
    return *t;
  }
  // A counter written by the IO thread only and read from anywhere.
  struct Counter {
    std::atomic<std::uint64_t> value{0};
    void add(std::uint64_t n = 1) { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    std::uint64_t get() const { return value.load(std::memory_order_relaxed); }
  };
  void requireStopped(const char* what) const;
  void checkBinding(const std::vector<std::uint32_t>& channels, std::uint32_t portChannels, std::uint32_t deviceChannels,
                    const std::string& label, const std::vector<std::string>& channelLabels, const char* direction) const;
  static std::string channelName(const std::vector<Binding>& bindings, std::uint32_t channel, const char* fallback);

  DeviceConfig config_;
  DeviceTimeline timeline_;
  // The control thread's bindings (channel names, properties); the IO thread reads table_.
  std::vector<Binding> inputs_;
  std::vector<Binding> outputs_;
  std::unique_ptr<BindingTable> current_;  // what table_ points at
  std::atomic<const BindingTable*> table_{nullptr};
  std::atomic<std::uint64_t> ioGeneration_{0};
  std::uint64_t generation_ = 0;
  std::vector<RetiredTable> retiredTables_;
  std::vector<float> scratch_;
  std::atomic<int> clients_{0};
  std::uint32_t inputPresentation_ = 0;  // inputLatencyFrames() latched at StartIO
  std::uint32_t minimumInputLatency_ = 0;
  // The other properties as StartIO latched them (see inputLatencyFrames).
  std::uint32_t latchedInputSafety_ = 0, latchedOutputLatency_ = 0, latchedOutputSafety_ = 0;
  std::uint32_t computedInputLatency() const;
  std::uint32_t computedInputSafety() const;
  std::uint32_t computedOutputLatency() const;
  std::uint32_t computedOutputSafety() const;
  SampleTime nextInput_ = 0;
  SampleTime nextOutput_ = 0;
  bool haveInput_ = false;
  bool haveOutput_ = false;
  std::uint64_t lastCycle_ = 0;
  bool haveCycle_ = false;
  Counter ioCycles_, zeroTimeStampCalls_, readInputCalls_, writeMixCalls_, framesRead_, framesWritten_,
      inputDiscontinuities_, outputDiscontinuities_, oversizeRequests_, callsWhileStopped_, unsupportedOperations_,
      startIOCalls_, stopIOCalls_;
};

}  // namespace aes67
