// The host emulator drives the device with coreaudiod's sequence and schedule, and the
// loopback it builds has exactly the latency Core Audio's model gives: input latency +
// input safety offset + 2 x IO buffer + output safety offset.
#include "driver/host/hal_host.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <thread>

#include "driver/host/loopback_client.hpp"
#include "driver/host/test/test_ports.hpp"
#include "driver/host/wav_player_client.hpp"
#include "driver/host/wav_recorder_client.hpp"

namespace aes67 {
namespace {

using test::RecordingSink;
using test::signature;
using test::SignatureSource;

DeviceConfig deviceConfig(std::uint32_t rate, std::uint32_t in, std::uint32_t out) {
  DeviceConfig c;
  c.sampleRate = rate;
  c.inputChannels = in;
  c.outputChannels = out;
  return c;
}

// Virtual time: jump to each predicted wake and run what is due.
void runCycles(HalHost& host, VirtualClock& clock, std::uint64_t cycles) {
  const std::uint64_t target = host.stats().cycles + cycles;
  while (host.stats().cycles < target) {
    clock.advanceTo(std::max(clock.now(), host.nextCycleHostTime()));
    ASSERT_GT(host.runDue(), 0u);
  }
}

std::vector<IoCycleStamp> drain(HalHost& host) {
  std::vector<IoCycleStamp> v;
  IoCycleStamp s;
  while (host.cycleLog().pop(s)) v.push_back(s);
  return v;
}

TEST(HalHost, DrivesTheCallSequenceWithContinuousSampleTimes) {
  VirtualClock clock(1'000'000'000);
  LocalMediaClock media(48000, -5'000'000);
  Device device(deviceConfig(48000, 4, 4), media);
  SignatureSource source(4, 20, 6);
  RecordingSink sink(4, 6, 8);
  device.addInput(source, {0, 1, 2, 3}, "in");
  device.addOutput(sink, {0, 1, 2, 3}, "out");
  HalHost host(device, clock, HalHostConfig{64});
  LoopbackClient loop(4, 4);
  host.addClient(loop);
  host.startIO();
  runCycles(host, clock, 500);
  host.stopIO();
  const std::vector<IoCycleStamp> stamps = drain(host);
  ASSERT_EQ(stamps.size(), 500u);
  for (std::size_t k = 0; k < stamps.size(); ++k) {
    const IoCycleStamp& s = stamps[k];
    EXPECT_EQ(s.cycle, k);
    EXPECT_EQ(s.currentTime, 64 + 6 + static_cast<SampleTime>(k) * 64);  // the first cycle reads from sample 0
    EXPECT_EQ(s.inputTime, s.currentTime - 64 - 6);
    EXPECT_EQ(s.outputTime, s.currentTime + 64 + 8);
    EXPECT_EQ(s.mediaCurrentTime, device.timeline().anchor() + s.currentTime);
    EXPECT_EQ(s.wakeHostTime, s.predictedHostTime);  // virtual time wakes exactly when predicted
  }
  const DeviceCounters d = device.counters();
  const HalHostStats h = host.stats();
  EXPECT_EQ(h.cycles, 500u);
  EXPECT_EQ(h.ioErrors, 0u);
  EXPECT_EQ(d.ioCycles, 500u);
  EXPECT_EQ(d.readInputCalls, 500u);
  EXPECT_EQ(d.writeMixCalls, 500u);
  EXPECT_EQ(d.zeroTimeStampCalls, 501u);  // one at StartIO, one per cycle
  EXPECT_EQ(d.inputDiscontinuities + d.outputDiscontinuities, 0u);
  EXPECT_EQ(d.startIOCalls, 1u);
  EXPECT_EQ(d.stopIOCalls, 1u);
  // 500 x 64 frames cross 1 period boundary of 16384 frames: two stamps learnt.
  EXPECT_EQ(h.zeroTimeStampsSeen, 2u);
}

TEST(HalHost, WakesWhereTheZeroTimeStampsPredictEvenWithDrift) {
  for (double ppm : {0.0, 200.0, -150.0}) {
    VirtualClock clock(0);
    LocalMediaClock media(48000, 0, ppm);
    Device device(deviceConfig(48000, 2, 2), media);
    HalHost host(device, clock, HalHostConfig{128});
    SilenceClient silence;
    host.addClient(silence);
    host.startIO();
    runCycles(host, clock, 2000);  // ~15 zero-time-stamp periods
    std::int64_t worstBefore = 0, worstAfter = 0;
    for (const IoCycleStamp& s : drain(host)) {
      // How far the HAL's wake is from the true host time of its current sample.
      const std::int64_t error = std::llabs(s.wakeHostTime - device.timeline().hostTimeOf(s.currentTime));
      // The stamp at 16384 is first fetched by the cycle that wakes after it; the cycle
      // after that is the first one predicted from two stamps.
      std::int64_t& worst = s.currentTime < 16384 + 2 * 128 ? worstBefore : worstAfter;
      worst = std::max(worst, error);
    }
    // Until the second stamp the HAL assumes the nominal rate: off by up to ppm x a period.
    // Nominal ns per frame vs true ones (1e9 / (rate (1 + ppm))) over up to 16384 + 256 frames.
    const double perFrame = 1e9 / 48000 * std::fabs(1 - 1 / (1 + ppm / 1e6));
    EXPECT_LE(worstBefore, static_cast<std::int64_t>(std::ceil(perFrame * (16384 + 256))) + 2) << ppm;
    // From then on the ticks per frame come from the stamps: the drift is followed.
    EXPECT_LE(worstAfter, 2) << ppm;
    EXPECT_NEAR(host.stats().cycles ? device.timeline().rateScalar() : 0, 1 + ppm / 1e6, 2e-8);
  }
}

class LoopbackLatency : public ::testing::TestWithParam<std::tuple<std::uint32_t, std::uint32_t>> {};

TEST_P(LoopbackLatency, IsInputLatencyPlusBothSafetyOffsetsPlusTwoBuffers) {
  const auto [rate, buffer] = GetParam();
  VirtualClock clock(0);
  LocalMediaClock media(rate);
  Device device(deviceConfig(rate, 2, 2), media);
  const std::uint32_t latency = 37, inSafety = 11, outSafety = 5, outLatency = 9;
  SignatureSource source(2, latency, inSafety);
  RecordingSink sink(2, outLatency, outSafety);
  device.addInput(source, {0, 1}, "in");
  device.addOutput(sink, {0, 1}, "out");
  HalHost host(device, clock, HalHostConfig{buffer});
  LoopbackClient loop(2, 2);
  host.addClient(loop);
  host.startIO();
  runCycles(host, clock, std::max<std::uint64_t>(20, 40000 / buffer));
  host.stopIO();
  // The Core Audio model: the device reports latency + safety offset per direction and the
  // HAL adds one buffer each way.
  const SampleTime expected = (device.inputLatencyFrames() + device.inputSafetyOffsetFrames() + buffer) +
                              (device.outputSafetyOffsetFrames() + buffer);
  ASSERT_EQ(expected, latency + inSafety + outSafety + 2 * SampleTime{buffer});
  ASSERT_FALSE(sink.frames().empty());
  for (const auto& [m, frame] : sink.frames()) {
    ASSERT_EQ(frame[0], signature(m - expected, 0)) << "media " << m;
    ASSERT_EQ(frame[1], signature(m - expected, 1)) << "media " << m;
  }
}

INSTANTIATE_TEST_SUITE_P(RatesAndBuffers, LoopbackLatency,
                         ::testing::Combine(::testing::Values(44100u, 48000u, 96000u, 384000u),
                                            ::testing::Values(16u, 32u, 256u, 4096u)));

TEST(HalHost, LoopbackMapsChannels) {
  VirtualClock clock(0);
  LocalMediaClock media(48000);
  Device device(deviceConfig(48000, 3, 4), media);
  SignatureSource source(3, 0, 0);
  RecordingSink sink(4, 0, 0);
  device.addInput(source, {0, 1, 2}, "in");
  device.addOutput(sink, {0, 1, 2, 3}, "out");
  HalHost host(device, clock, HalHostConfig{32});
  LoopbackClient loop(3, 4, {2, LoopbackClient::kSilent, 0, 0});
  host.addClient(loop);
  host.startIO();
  runCycles(host, clock, 10);
  const SampleTime rt = 2 * 32;
  for (const auto& [m, f] : sink.frames()) {
    ASSERT_EQ(f[0], signature(m - rt, 2));
    ASSERT_EQ(f[1], 0.0f);
    ASSERT_EQ(f[2], signature(m - rt, 0));
    ASSERT_EQ(f[3], signature(m - rt, 0));
  }
  EXPECT_THROW(LoopbackClient(3, 2, {0, 3}), std::invalid_argument);
  EXPECT_THROW(LoopbackClient(3, 2, {0}), std::invalid_argument);
}

// What a device's outputs get from `cycles` IO cycles through `clients`: two input
// streams (channels 0-2 and 3-5) and two output streams (0-3 and 4-5), 6 x 6 channels.
struct ClientsRun {
  std::map<SampleTime, std::vector<float>> low, high;
};
ClientsRun runClients(const std::vector<IoClient*>& clients, bool passThrough, std::uint64_t cycles) {
  VirtualClock clock(0);
  LocalMediaClock media(48000, 123);
  Device device(deviceConfig(48000, 6, 6), media);
  SignatureSource a(3, 5, 2), b(3, 5, 2);
  RecordingSink low(4, 0, 3), high(2, 0, 3);
  device.addInput(a, {0, 1, 2}, "a");
  device.addInput(b, {5, 3, 4}, "b");
  device.addOutput(low, {0, 1, 2, 3}, "low");
  device.addOutput(high, {5, 4}, "high");
  HalHostConfig c{32};
  c.passThrough = passThrough;
  HalHost host(device, clock, c);
  for (IoClient* client : clients) host.addClient(*client);
  host.startIO();
  runCycles(host, clock, cycles);
  return {low.frames(), high.frames()};
}

// A client that copies channel N to channel N, says so, and counts its calls.
class CountingPassThrough final : public IoClient {
 public:
  void process(const IoCycleInfo&, const float* input, std::uint32_t inputChannels, float* output, std::uint32_t,
               std::uint32_t frames) override {
    ++calls;
    std::copy(input, input + static_cast<std::size_t>(frames) * inputChannels, output);
  }
  bool passesInputThrough() const override { return true; }
  std::uint64_t calls = 0;
};

// The pass-through fast path (the input handed to the device as the mix, the client not
// called) gives the outputs the reference way (the client copies) gives, sample for sample.
TEST(HalHost, ALonePassThroughClientsInputIsTheMixAsItsCopyWouldBe) {
  for (const std::vector<std::int32_t>& map :
       {std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}, std::vector<std::int32_t>{1, 0, 2, 3, 4, 5},
        std::vector<std::int32_t>{0, 1, 2, 3, 4, LoopbackClient::kSilent}}) {
    LoopbackClient fastClient(6, 6, map), referenceClient(6, 6, map);
    EXPECT_EQ(fastClient.passesInputThrough(), map[0] == 0 && map[5] == 5);
    const ClientsRun fast = runClients({&fastClient}, true, 50);
    const ClientsRun reference = runClients({&referenceClient}, false, 50);
    ASSERT_EQ(reference.low.size(), 50u * 32);
    EXPECT_EQ(fast.low, reference.low);
    EXPECT_EQ(fast.high, reference.high);
    // Audio went round, not silence: input b's first channel came back on output 5.
    const std::vector<float>& last = reference.high.rbegin()->second;
    if (map[5] == 5) {
      EXPECT_NE(last[0], 0.0f);
    }
    EXPECT_NE(last[1], 0.0f);
  }
  CountingPassThrough fast, reference;
  const ClientsRun lone = runClients({&reference}, false, 20);
  EXPECT_EQ(runClients({&fast}, true, 20).high, lone.high);
  EXPECT_EQ(fast.calls, 0u);
  EXPECT_EQ(reference.calls, 20u);
  // Beside another client the mix is made as always: both called, the input twice over.
  CountingPassThrough one, two;
  const ClientsRun both = runClients({&one, &two}, true, 20);
  EXPECT_EQ(one.calls, 20u);
  EXPECT_EQ(two.calls, 20u);
  for (const auto& [m, frame] : lone.high) {
    ASSERT_EQ(both.high.at(m), (std::vector<float>{2.0f * frame[0], 2.0f * frame[1]})) << m;
  }
}

TEST(HalHost, PlayerAndRecorderKnowTheirSampleTimesAndClientsAreMixed) {
  VirtualClock clock(0);
  LocalMediaClock media(48000);
  Device device(deviceConfig(48000, 2, 2), media);
  SignatureSource source(2, 10, 4);
  RecordingSink sink(2, 0, 3);
  device.addInput(source, {0, 1}, "in");
  device.addOutput(sink, {0, 1}, "out");
  AudioClip clip;
  clip.channels = 1;
  for (int i = 0; i < 1000; ++i) clip.samples.push_back(static_cast<float>(i + 1) / 4096.0f);
  WavPlayerClient a(clip, 48000, 2, {1});
  WavPlayerClient b(clip, 48000, 2, {1});  // the same clip twice: the mix doubles it
  WavRecorderClient recorder(48000, 2, {1, 0}, 2000);
  HalHost host(device, clock, HalHostConfig{64});
  host.addClient(a);
  host.addClient(b);
  host.addClient(recorder);
  host.startIO();
  runCycles(host, clock, 40);
  ASSERT_TRUE(a.finished());
  EXPECT_EQ(a.framesPlayed(), 1000u);
  const SampleTime firstOut = device.timeline().mediaTimeOf(a.firstOutputTime());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(sink.frames().at(firstOut + i)[1], 2.0f * clip.samples[i]) << i;
  EXPECT_EQ(firstOut, sink.frames().begin()->first);  // it started with the first cycle
  EXPECT_EQ(sink.frames().at(firstOut + 1000)[1], 0.0f);
  EXPECT_EQ(recorder.framesRecorded(), 2000u);
  EXPECT_EQ(recorder.framesDropped(), 40u * 64 - 2000);
  const AudioClip rec = recorder.clip();
  for (std::size_t i = 0; i < rec.frames(); ++i) {
    const SampleTime m = device.timeline().mediaTimeOf(recorder.firstInputTime() + static_cast<SampleTime>(i)) - 10;
    ASSERT_EQ(rec.samples[i * 2], signature(m, 1));
    ASSERT_EQ(rec.samples[i * 2 + 1], signature(m, 0));
  }
  EXPECT_THROW(WavPlayerClient(clip, 96000, 2, {0}), std::invalid_argument);
  EXPECT_THROW(WavPlayerClient(clip, 48000, 2, {2}), std::invalid_argument);
}

TEST(HalHost, AConfigurationChangeRestartsOnANewTimeLine) {
  VirtualClock clock(0);
  LocalMediaClock media48(48000), media96(96000);
  Device device(deviceConfig(48000, 2, 2), media48);
  HalHost host(device, clock, HalHostConfig{256});
  SilenceClient silence;
  host.addClient(silence);
  host.startIO();
  runCycles(host, clock, 10);
  const std::uint64_t seed = device.timeline().seed();
  host.performConfigurationChange([&] {
    device.setSampleRate(96000, media96);
    host.setIoBufferFrames(512);
  });
  EXPECT_TRUE(host.running());
  EXPECT_NE(device.timeline().seed(), seed);
  EXPECT_EQ(host.nextCurrentTime(), 512);
  runCycles(host, clock, 10);
  EXPECT_EQ(host.stats().configurationChanges, 1u);
  EXPECT_EQ(device.counters().inputDiscontinuities, 0u);  // a new time line is not a discontinuity
  EXPECT_NEAR(device.timeline().hostTicksPerFrame(), 1e9 / 96000, 1e-3);
  EXPECT_THROW(host.setIoBufferFrames(1024), std::invalid_argument);  // IO running
}

// PTP locks while IO runs: the HAL stops IO, the device switches to the PTP-derived media
// clock (here a stand-in 37 ppm fast against the host clock, at another epoch), IO
// restarts on a new time line, and the zero time stamps now carry that clock's rate.
TEST(HalHost, SwitchingToThePtpMediaClockIsAConfigurationChange) {
  VirtualClock clock(0);
  LocalMediaClock freeRunning(48000);
  LocalMediaClock ptp(48000, -1'767'225'600'000'000'000, 37.0);
  Device device(deviceConfig(48000, 2, 2), freeRunning);
  HalHost host(device, clock, HalHostConfig{256});
  SilenceClient silence;
  host.addClient(silence);
  host.startIO();
  runCycles(host, clock, 200);
  EXPECT_NEAR(device.timeline().rateScalar(), 1.0, 1e-8);
  const std::uint64_t seed = device.timeline().seed();
  host.performConfigurationChange([&] { device.setMediaClock(ptp); });
  EXPECT_NE(device.timeline().seed(), seed);
  EXPECT_EQ(device.timeline().anchor(), ptp.sampleAt(clock.now()) + (ptp.localTimeOf(ptp.sampleAt(clock.now())) < clock.now()));
  drain(host);
  runCycles(host, clock, 300);  // ~4.7 periods of 16384 frames
  EXPECT_NEAR(device.timeline().rateScalar(), 1.0 + 37e-6, 2e-8);
  std::int64_t worst = 0;
  for (const IoCycleStamp& s : drain(host)) {
    if (s.currentTime < 16384 + 2 * 256) continue;  // the predictor's first period is nominal
    worst = std::max<std::int64_t>(worst, std::llabs(s.wakeHostTime - device.timeline().hostTimeOf(s.currentTime)));
  }
  EXPECT_LE(worst, 2);
  EXPECT_EQ(device.counters().inputDiscontinuities + device.counters().outputDiscontinuities, 0u);
  EXPECT_EQ(host.stats().ioErrors, 0u);
}

// Real time: a thread woken once per IO buffer on the host clock. Only what does not
// depend on the machine's load is asserted; the lateness is printed.
TEST(HalHost, RunsInRealTimeOnAThreadPerIoBuffer) {
  RealClock clock;
  LocalMediaClock media(48000, clock.now());
  Device device(deviceConfig(48000, 2, 2), media);
  SignatureSource source(2, 48, 6);
  RecordingSink sink(2, 6, 6);
  device.addInput(source, {0, 1}, "in");
  device.addOutput(sink, {0, 1}, "out");
  HalHost host(device, clock, HalHostConfig{128});
  LoopbackClient loop(2, 2);
  host.addClient(loop);
  host.startIO();
  host.startRealTime();
  const Nanoseconds until = clock.now() + 3'000'000'000;  // bounded: at most 3 s
  while (host.stats().cycles < 40 && clock.now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  host.stopIO();
  EXPECT_FALSE(host.realTimeRunning());
  const HalHostStats s = host.stats();
  ASSERT_GE(s.cycles, 40u);
  EXPECT_EQ(s.ioErrors, 0u);
  EXPECT_EQ(device.counters().inputDiscontinuities + device.counters().outputDiscontinuities, 0u);
  for (const IoCycleStamp& c : drain(host)) EXPECT_GE(c.wakeHostTime, c.predictedHostTime);  // never early
  const SampleTime rt = 48 + 6 + 6 + 2 * 128;
  for (const auto& [m, f] : sink.frames()) ASSERT_EQ(f[0], signature(m - rt, 0));
  std::printf("real time: %llu cycles, SCHED_FIFO %s, lateness mean %.1f us, max %.1f us\n",
              static_cast<unsigned long long>(s.cycles), s.realTimePriority ? "yes" : "no",
              s.totalLatenessNs / 1e3 / static_cast<double>(s.cycles), s.maxLatenessNs / 1e3);
}

}  // namespace
}  // namespace aes67

namespace aes67 {
namespace {

// A media clock that can jump: what a PTP step does under a device nobody restarted.
class SteppableMediaClock final : public MediaClock {
 public:
  explicit SteppableMediaClock(std::uint32_t rate) : base_(rate) {}
  std::uint32_t sampleRate() const override { return base_.sampleRate(); }
  SampleTime sampleAt(Nanoseconds t) const override { return base_.sampleAt(t + offset_); }
  Nanoseconds localTimeOf(SampleTime s) const override { return base_.localTimeOf(s) - offset_; }
  void step(Nanoseconds by) { offset_ += by; }

 private:
  LocalMediaClock base_;
  Nanoseconds offset_ = 0;
};

TEST(HalHost, AForwardClockJumpIsReanchoredNotCaughtUpCycleByCycle) {
  VirtualClock clock(1'000'000'000);
  SteppableMediaClock media(48000);
  DeviceConfig dc;
  dc.inputChannels = dc.outputChannels = 2;
  Device device(dc, media);
  HalHost host(device, clock, HalHostConfig{64});
  LoopbackClient loop(2, 2);
  host.addClient(loop);
  host.startIO();
  for (int i = 0; i < 2000; ++i) {
    clock.advanceTo(std::max(clock.now(), host.nextCycleHostTime()));
    host.runDue();
  }
  // Media time jumps 10 s ahead: 7500 IO cycles' worth. The HAL sees the stamps jump at the
  // next period boundary and goes on from there.
  media.step(10'000'000'000);
  std::size_t most = 0;
  for (int i = 0; i < 2000; ++i) {
    clock.advanceTo(std::max(clock.now(), host.nextCycleHostTime()));
    most = std::max(most, host.runDue());
  }
  EXPECT_EQ(host.stats().timelineJumps, 1u);
  EXPECT_LE(most, 2u) << "cycles run back to back after the jump";
  EXPECT_EQ(device.counters().inputDiscontinuities, 1u);
  EXPECT_EQ(device.counters().outputDiscontinuities, 1u);
  EXPECT_EQ(host.stats().ioErrors, 0u);
}

TEST(HalHost, ABackwardClockJumpNeverStallsTheCycles) {
  VirtualClock clock(1'000'000'000);
  SteppableMediaClock media(48000);
  DeviceConfig dc;
  dc.inputChannels = dc.outputChannels = 2;
  Device device(dc, media);
  HalHost host(device, clock, HalHostConfig{64});
  LoopbackClient loop(2, 2);
  host.addClient(loop);
  host.startIO();
  for (int i = 0; i < 2000; ++i) {
    clock.advanceTo(std::max(clock.now(), host.nextCycleHostTime()));
    host.runDue();
  }
  media.step(-10'000'000'000);
  // No new stamp comes until media time catches up; the HAL keeps its schedule meanwhile.
  const Nanoseconds start = clock.now();
  const std::uint64_t before = host.stats().cycles;
  while (clock.now() - start < 1'000'000'000) {
    clock.advanceTo(std::max(clock.now(), host.nextCycleHostTime()));
    host.runDue();
  }
  EXPECT_NEAR(static_cast<double>(host.stats().cycles - before), 48000.0 / 64, 2.0);
  EXPECT_EQ(host.stats().ioErrors, 0u);
}

}  // namespace
}  // namespace aes67
