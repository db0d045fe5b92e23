// Every property the device reports to Core Audio: identity, channel counts, rates, the IO
// buffer range, latency and safety offsets computed from the attached streams, channel
// names from the stream map, and the refusals that name what is wrong.
#include "driver/core/device.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "driver/core/stream_ports.hpp"

namespace aes67 {
namespace {

DeviceConfig config(std::uint32_t in = 16, std::uint32_t out = 16, std::uint32_t rate = 48000) {
  DeviceConfig c;
  c.inputChannels = in;
  c.outputChannels = out;
  c.sampleRate = rate;
  return c;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// An RX stream as the engine builds it: playout buffer with its link offset + adapter.
struct RxStream {
  RxStream(std::size_t channels, SampleTime linkOffset, std::uint32_t packetFrames)
      : playout(PlayoutConfig{channels, 4096, linkOffset}), source(playout, packetFrames) {}
  PlayoutBuffer playout;
  PlayoutInputSource source;
};
struct TxStream {
  TxStream(std::size_t channels, std::uint32_t packetFrames) : ring(4096, channels), sink(ring, packetFrames) {}
  FrameRingBuffer ring;
  RingOutputSink sink;
};

TEST(DeviceConfig, AcceptsEveryAdvertisedRateAndChannelCountsAtTheLimits) {
  for (std::uint32_t rate : {44100u, 48000u, 88200u, 96000u, 176400u, 192000u, 352800u, 384000u}) {
    LocalMediaClock clock(rate);
    Device d(config(1, 128, rate), clock);
    EXPECT_EQ(d.sampleRate(), rate);
    EXPECT_EQ(d.inputChannels(), 1u);
    EXPECT_EQ(d.outputChannels(), 128u);
  }
}

TEST(DeviceConfig, RefusalsNameTheFieldAndTheFix) {
  auto bad = [](auto change) {
    DeviceConfig c = config();
    change(c);
    return errorOf([&] { validate(c); });
  };
  EXPECT_EQ(bad([](DeviceConfig& c) { c.inputChannels = 0; }), "inputChannels 0 is out of range: use 1-128");
  EXPECT_EQ(bad([](DeviceConfig& c) { c.outputChannels = 129; }), "outputChannels 129 is out of range: use 1-128");
  EXPECT_NE(bad([](DeviceConfig& c) { c.sampleRate = 44099; }).find("sampleRate 44099 is not supported"), std::string::npos);
  EXPECT_NE(bad([](DeviceConfig& c) { c.sampleRate = 32000; }).find("use 44100, 48000"), std::string::npos);
  EXPECT_EQ(bad([](DeviceConfig& c) { c.name.clear(); }), "device name must not be empty");
  EXPECT_EQ(bad([](DeviceConfig& c) { c.uid.clear(); }), "device UID must not be empty");
  EXPECT_NE(bad([](DeviceConfig& c) { c.zeroTimeStampPeriod = 4095; }).find("zeroTimeStampPeriod 4095"), std::string::npos);
  EXPECT_EQ(bad([](DeviceConfig& c) { c.zeroTimeStampPeriod = 4096; }), "");
  EXPECT_EQ(errorOf([] { validateIoBufferFrames(15); }), "ioBufferFrames 15 is out of range: use 16-4096");
  EXPECT_EQ(errorOf([] { validateIoBufferFrames(4097); }), "ioBufferFrames 4097 is out of range: use 16-4096");
  EXPECT_EQ(errorOf([] { validateIoBufferFrames(16); }), "");
  EXPECT_EQ(errorOf([] { validateIoBufferFrames(4096); }), "");
}

TEST(Device, IdentityAndRangesAsConfigured) {
  DeviceConfig c = config();
  c.name = "Studio A AES67";
  c.uid = "org.example.studio-a";
  LocalMediaClock clock(48000);
  Device d(c, clock);
  EXPECT_EQ(d.name(), "Studio A AES67");
  EXPECT_EQ(d.uid(), "org.example.studio-a");
  EXPECT_EQ(d.minIoBufferFrames(), 16u);
  EXPECT_EQ(d.maxIoBufferFrames(), 4096u);
  EXPECT_EQ(d.zeroTimeStampPeriod(), 16384u);
}

TEST(Device, RefusesAMediaClockAtAnotherRate) {
  LocalMediaClock clock(96000);
  EXPECT_EQ(errorOf([&] { Device d(config(), clock); }), "media clock runs at 96000 Hz but the device at 48000 Hz");
}

TEST(Device, LatencyAndSafetyOffsetsFollowTheAttachedStreams) {
  LocalMediaClock clock(48000);
  Device d(config(), clock);
  EXPECT_EQ(d.inputLatencyFrames(), 0u);
  EXPECT_EQ(d.outputLatencyFrames(), 0u);
  EXPECT_EQ(d.inputSafetyOffsetFrames(), 0u);
  EXPECT_EQ(d.outputSafetyOffsetFrames(), 0u);

  RxStream a(2, 48, 6);    // 1 ms link offset, 125 us packets
  RxStream b(2, 144, 48);  // 3 ms link offset, 1 ms packets
  TxStream t1(2, 6);
  TxStream t2(4, 12);
  d.addInput(a.source, {0, 1}, "A");
  EXPECT_EQ(d.inputLatencyFrames(), 48u);
  EXPECT_EQ(d.inputSafetyOffsetFrames(), 6u);
  d.addInput(b.source, {2, 3}, "B");
  EXPECT_EQ(d.inputLatencyFrames(), 144u);  // the largest link offset: all inputs aligned to it
  EXPECT_EQ(d.inputSafetyOffsetFrames(), 48u);
  d.addOutput(t1.sink, {0, 1}, "T1");
  EXPECT_EQ(d.outputLatencyFrames(), 6u);
  EXPECT_EQ(d.outputSafetyOffsetFrames(), 6u);
  d.addOutput(t2.sink, {0, 1, 2, 3}, "T2");
  EXPECT_EQ(d.outputLatencyFrames(), 12u);
  EXPECT_EQ(d.outputSafetyOffsetFrames(), 12u);

  // A changed link offset changes the property: it is computed, not stored.
  b.playout.setLinkOffset(96);
  EXPECT_EQ(d.inputLatencyFrames(), 96u);
  d.removeInput(b.source);
  EXPECT_EQ(d.inputLatencyFrames(), 48u);
  EXPECT_EQ(d.inputSafetyOffsetFrames(), 6u);
  d.clearStreams();
  EXPECT_EQ(d.inputLatencyFrames(), 0u);
  EXPECT_EQ(d.outputLatencyFrames(), 0u);

  // A minimum input latency (a device whose streams share one link offset): reported
  // without inputs, and latched by StartIO as the presentation, so an input as late as it
  // can be bound while IO runs.
  d.setMinimumInputLatency(96);
  EXPECT_EQ(d.inputLatencyFrames(), 96u);
  d.addInput(a.source, {0, 1}, "A");
  EXPECT_EQ(d.inputLatencyFrames(), 96u);
  d.removeInput(a.source);
  d.startIO(0);
  EXPECT_EQ(d.inputPresentationFrames(), 96u);
  d.addInput(b.source, {2, 3}, "B");  // 96 frames late: fits
  d.addOutput(t2.sink, {0, 1, 2, 3}, "T2");
  EXPECT_EQ(errorOf([&] { d.setMinimumInputLatency(48); }),
            "setting the minimum input latency needs IO stopped (do it in a configuration change)");
  // While IO runs the properties are what the HAL latched at StartIO (and schedules with).
  EXPECT_EQ(d.inputLatencyFrames(), 96u);
  EXPECT_EQ(d.inputSafetyOffsetFrames(), 0u);
  EXPECT_EQ(d.outputLatencyFrames(), 0u);
  EXPECT_EQ(d.outputSafetyOffsetFrames(), 0u);
  d.stopIO();
  EXPECT_EQ(d.inputSafetyOffsetFrames(), 48u);
  EXPECT_EQ(d.outputLatencyFrames(), 12u);
  EXPECT_EQ(d.outputSafetyOffsetFrames(), 12u);
  d.startIO(0);
  EXPECT_EQ(d.outputSafetyOffsetFrames(), 12u);
  d.stopIO();
}

TEST(Device, ChannelNamesComeFromTheStreamMap) {
  LocalMediaClock clock(48000);
  Device d(config(8, 8), clock);
  RxStream a(2, 48, 48);
  RxStream b(3, 48, 48);
  TxStream t(2, 48);
  TxStream u(1, 48);
  d.addInput(a.source, {4, 5}, "Stage Box", {"Kick", "Snare"});
  d.addInput(b.source, {0, 2, 1}, "Dante Rack");
  d.addOutput(t.sink, {0, 1}, "PA");
  d.addOutput(u.sink, {1}, "Monitor");
  EXPECT_EQ(d.inputChannelName(4), "Kick");
  EXPECT_EQ(d.inputChannelName(5), "Snare");
  EXPECT_EQ(d.inputChannelName(0), "Dante Rack 1");
  EXPECT_EQ(d.inputChannelName(2), "Dante Rack 2");
  EXPECT_EQ(d.inputChannelName(1), "Dante Rack 3");
  EXPECT_EQ(d.inputChannelName(7), "Input 8");
  EXPECT_EQ(d.outputChannelName(0), "PA 1");
  EXPECT_EQ(d.outputChannelName(1), "PA 2 + Monitor 1");
  EXPECT_EQ(d.outputChannelName(2), "Output 3");
  EXPECT_EQ(errorOf([&] { d.inputChannelName(8); }), "input channel 9 does not exist (the device has 8)");
}

TEST(Device, StreamMapRefusalsNameBothStreams) {
  LocalMediaClock clock(48000);
  Device d(config(8, 8), clock);
  RxStream a(2, 48, 48);
  RxStream b(2, 48, 48);
  d.addInput(a.source, {0, 1}, "A");
  EXPECT_EQ(errorOf([&] { d.addInput(b.source, {1, 2}, "B"); }),
            "input channel 2 is mapped by both 'A' and 'B': map one of them elsewhere");
  EXPECT_EQ(errorOf([&] { d.addInput(b.source, {7, 8}, "B"); }),
            "stream 'B': input channel 9 does not exist (the device has 8)");
  EXPECT_EQ(errorOf([&] { d.addInput(b.source, {3}, "B"); }), "stream 'B': 2 stream channels but 1 device channels mapped");
  EXPECT_EQ(errorOf([&] { d.addInput(b.source, {3, 3}, "B"); }), "stream 'B': input channel 4 is mapped twice");
  EXPECT_EQ(errorOf([&] { d.addInput(b.source, {3, 4}, "B", {"L"}); }), "stream 'B': 1 channel labels for 2 channels");
  EXPECT_EQ(errorOf([&] { d.addInput(a.source, {3, 4}, "A again"); }), "stream 'A again' is already attached");
  d.startIO(0);
  // While IO runs, a stream later than the presentation this run started with would be
  // late for every read: it waits for a configuration change.
  RxStream late(2, 96, 48);
  EXPECT_EQ(errorOf([&] { d.addInput(late.source, {3, 4}, "Late"); }),
            "stream 'Late': its latency of 96 frames exceeds the input presentation of 48 frames this IO run started with: "
            "add it in a configuration change");
  EXPECT_EQ(errorOf([&] { d.clearStreams(); }), "clearing the streams needs IO stopped (do it in a configuration change)");
  d.addInput(b.source, {3, 4}, "B");  // as late as the others: bound while IO runs
  EXPECT_EQ(d.inputStreamCount(), 2u);
  d.stopIO();
  d.addInput(late.source, {5, 6}, "Late");
  EXPECT_EQ(d.inputStreamCount(), 3u);
}

TEST(Device, SampleRateChangesOnlyWithoutStreamsAndWithAMatchingClock) {
  LocalMediaClock clock48(48000);
  LocalMediaClock clock96(96000);
  Device d(config(), clock48);
  RxStream a(2, 48, 48);
  d.addInput(a.source, {0, 1}, "A");
  EXPECT_EQ(errorOf([&] { d.setSampleRate(96000, clock96); }),
            "changing the sample rate to 96000 Hz: detach the streams first (they run at 48000 Hz)");
  d.clearStreams();
  EXPECT_EQ(errorOf([&] { d.setSampleRate(96000, clock48); }), "media clock runs at 48000 Hz, not 96000 Hz");
  EXPECT_NE(errorOf([&] { d.setSampleRate(22050, clock48); }).find("sampleRate 22050 is not supported"), std::string::npos);
  d.setSampleRate(96000, clock96);
  EXPECT_EQ(d.sampleRate(), 96000u);
  // The zero-time-stamp period is a frame count and stays what it was (libASPL PR #13).
  EXPECT_EQ(d.zeroTimeStampPeriod(), 16384u);
  d.startIO(0);
  EXPECT_NEAR(d.timeline().hostTicksPerFrame(), 1e9 / 96000, 1e-3);
  EXPECT_EQ(errorOf([&] { d.setMediaClock(clock96); }), "switching the media clock needs IO stopped (do it in a configuration change)");
}

TEST(Device, StartAndStopAreCountedPerClient) {
  LocalMediaClock clock(48000);
  Device d(config(), clock);
  EXPECT_FALSE(d.running());
  d.startIO(1000);
  const std::uint64_t seed = d.timeline().seed();
  d.startIO(5'000'000);  // a second client joins the running time line
  EXPECT_EQ(d.timeline().seed(), seed);
  d.stopIO();
  EXPECT_TRUE(d.running());
  d.stopIO();
  EXPECT_FALSE(d.running());
  d.stopIO();  // an extra StopIO is harmless
  EXPECT_FALSE(d.running());
  d.startIO(9'000'000);
  EXPECT_NE(d.timeline().seed(), seed);  // a new time line
  EXPECT_EQ(d.counters().startIOCalls, 3u);
  EXPECT_EQ(d.counters().stopIOCalls, 3u);
}

TEST(Device, OnlyReadInputAndWriteMixAreDone) {
  LocalMediaClock clock(48000);
  Device d(config(), clock);
  for (IoOperation op : {IoOperation::kThread, IoOperation::kCycle, IoOperation::kConvertInput, IoOperation::kProcessInput,
                         IoOperation::kProcessOutput, IoOperation::kMixOutput, IoOperation::kProcessMix,
                         IoOperation::kConvertMix}) {
    EXPECT_FALSE(d.willDoIOOperation(op).willDo) << toString(op);
  }
  EXPECT_TRUE(d.willDoIOOperation(IoOperation::kReadInput).willDo);
  EXPECT_TRUE(d.willDoIOOperation(IoOperation::kReadInput).inPlace);
  EXPECT_TRUE(d.willDoIOOperation(IoOperation::kWriteMix).willDo);

  std::vector<float> buffer(64 * 16);
  IoCycleInfo cycle;
  EXPECT_EQ(d.beginIOOperation(IoOperation::kReadInput, 64, cycle), IoResult::kNotRunning);
  EXPECT_EQ(d.doIOOperation(IoOperation::kReadInput, 64, cycle, buffer.data()), IoResult::kNotRunning);
  d.startIO(0);
  EXPECT_EQ(d.beginIOOperation(IoOperation::kMixOutput, 64, cycle), IoResult::kUnsupportedOperation);
  EXPECT_EQ(d.doIOOperation(IoOperation::kProcessOutput, 64, cycle, buffer.data()), IoResult::kUnsupportedOperation);
  EXPECT_EQ(d.beginIOOperation(IoOperation::kReadInput, 4097, cycle), IoResult::kOversize);
  const DeviceCounters c = d.counters();
  EXPECT_EQ(c.callsWhileStopped, 2u);
  EXPECT_EQ(c.unsupportedOperations, 2u);
  EXPECT_EQ(c.oversizeRequests, 1u);
}

}  // namespace
}  // namespace aes67
