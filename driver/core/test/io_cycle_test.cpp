// The IO cycle: ReadInput delivers each stream's audio at exactly media time - input
// latency on the mapped channels, WriteMix hands the outputs exactly the media time of its
// sample time, sample times are continuous and every discontinuity is counted.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "driver/core/device.hpp"
#include "driver/core/stream_ports.hpp"

namespace aes67 {
namespace {

// Channel c of media sample m carries a value unique to (m, c), exact in float.
float valueOf(SampleTime m, std::uint32_t c) { return static_cast<float>((m % 100000) * 8 + c) / 1048576.0f; }

void feed(PlayoutBuffer& p, SampleTime from, SampleTime to) {
  const std::size_t ch = p.channels();
  std::vector<float> frames(static_cast<std::size_t>(to - from) * ch);
  for (SampleTime m = from; m < to; ++m) {
    for (std::size_t c = 0; c < ch; ++c) frames[static_cast<std::size_t>(m - from) * ch + c] = valueOf(m, static_cast<std::uint32_t>(c));
  }
  ASSERT_EQ(p.write(from, frames.data(), static_cast<std::size_t>(to - from)), PlayoutWrite::kStored);
}

IoCycleInfo cycleAt(std::uint64_t n, SampleTime current, std::uint32_t buffer, std::uint32_t inSafety, std::uint32_t outSafety) {
  IoCycleInfo c;
  c.cycleCounter = n;
  c.nominalBufferFrames = buffer;
  c.currentTime = current;
  c.inputTime = current - buffer - inSafety;
  c.outputTime = current + buffer + outSafety;
  return c;
}

TEST(IoCycle, ReadInputPresentsEveryStreamAtMediaTimeMinusTheInputLatency) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 8;
  config.outputChannels = 8;
  Device d(config, clock);
  PlayoutBuffer a(PlayoutConfig{2, 16384, 48});  // link offset 1 ms
  PlayoutBuffer b(PlayoutConfig{3, 16384, 96});  // link offset 2 ms: the device presents both at 2 ms
  PlayoutInputSource sa(a, 48), sb(b, 6);
  d.addInput(sa, {6, 1}, "A");
  d.addInput(sb, {0, 3, 4}, "B");
  d.startIO(0);
  const SampleTime anchor = d.timeline().anchor();
  feed(a, anchor - 200, anchor + 13000);  // 200 cycles of 64 frames
  feed(b, anchor - 200, anchor + 13000);
  const std::uint32_t buffer = 64;
  std::vector<float> in(buffer * 8);
  const SampleTime latency = d.inputLatencyFrames();
  ASSERT_EQ(latency, 96);
  for (std::uint64_t n = 0; n < 200; ++n) {
    const IoCycleInfo cycle = cycleAt(n, static_cast<SampleTime>(buffer * (n + 2)), buffer, 0, 0);
    ASSERT_EQ(d.beginIOOperation(IoOperation::kReadInput, buffer, cycle), IoResult::kOk);
    ASSERT_EQ(d.doIOOperation(IoOperation::kReadInput, buffer, cycle, in.data()), IoResult::kOk);
    ASSERT_EQ(d.endIOOperation(IoOperation::kReadInput, buffer, cycle), IoResult::kOk);
    for (std::uint32_t f = 0; f < buffer; ++f) {
      const SampleTime media = anchor + cycle.inputTime + f - latency;
      const float* frame = &in[f * 8];
      ASSERT_EQ(frame[6], valueOf(media, 0)) << "cycle " << n << " frame " << f;
      ASSERT_EQ(frame[1], valueOf(media, 1));
      ASSERT_EQ(frame[0], valueOf(media, 0));
      ASSERT_EQ(frame[3], valueOf(media, 1));
      ASSERT_EQ(frame[4], valueOf(media, 2));
      ASSERT_EQ(frame[2], 0.0f);  // unmapped channels are silent
      ASSERT_EQ(frame[5], 0.0f);
      ASSERT_EQ(frame[7], 0.0f);
    }
  }
  const DeviceCounters c = d.counters();
  EXPECT_EQ(c.ioCycles, 200u);
  EXPECT_EQ(c.readInputCalls, 200u);
  EXPECT_EQ(c.framesRead, 200u * buffer);
  EXPECT_EQ(c.inputDiscontinuities, 0u);
  EXPECT_EQ(a.stats().framesMissing + b.stats().framesMissing, 0u);
}

// Consecutive maps take the IO cycle's run copy, others the per-channel map: the same audio
// on the same channels either way (each checked against the values fed, not against the other path).
TEST(IoCycle, ConsecutiveAndScatteredMapsCarryEveryChannelBothWays) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 9;
  config.outputChannels = 9;
  Device d(config, clock);
  PlayoutBuffer a(PlayoutConfig{3, 16384, 48}), b(PlayoutConfig{1, 16384, 48}), c(PlayoutConfig{2, 16384, 48});
  PlayoutInputSource sa(a, 48), sb(b, 48), sc(c, 48);
  d.addInput(sa, {2, 3, 4}, "run");
  d.addInput(sb, {8}, "one");
  d.addInput(sc, {6, 0}, "scattered");
  FrameRingBuffer r1(8192, 3), r2(8192, 2);
  RingOutputSink o1(r1, 48), o2(r2, 48);
  d.addOutput(o1, {5, 6, 7}, "run out");
  d.addOutput(o2, {7, 1}, "scattered out");
  d.startIO(0);
  const SampleTime anchor = d.timeline().anchor();
  for (PlayoutBuffer* p : {&a, &b, &c}) feed(*p, anchor - 200, anchor + 7000);
  const std::uint32_t buffer = 32;
  std::vector<float> in(buffer * 9), out(buffer * 9);
  const SampleTime latency = d.inputLatencyFrames();
  SampleTime firstOutput = 0;
  for (std::uint64_t n = 0; n < 100; ++n) {
    const IoCycleInfo cycle = cycleAt(n, static_cast<SampleTime>(buffer * (n + 4)), buffer, 0, d.outputSafetyOffsetFrames());
    if (n == 0) firstOutput = cycle.outputTime;
    ASSERT_EQ(d.doIOOperation(IoOperation::kReadInput, buffer, cycle, in.data()), IoResult::kOk);
    for (std::uint32_t f = 0; f < buffer; ++f) {
      const SampleTime media = anchor + cycle.inputTime + f - latency;
      const float* frame = &in[f * 9];
      const float want[9] = {valueOf(media, 1), 0, valueOf(media, 0), valueOf(media, 1), valueOf(media, 2), 0, valueOf(media, 0), 0, valueOf(media, 0)};
      for (std::uint32_t ch = 0; ch < 9; ++ch) ASSERT_EQ(frame[ch], want[ch]) << "cycle " << n << " frame " << f << " channel " << ch;
    }
    for (std::uint32_t f = 0; f < buffer; ++f) {
      for (std::uint32_t ch = 0; ch < 9; ++ch) out[f * 9 + ch] = valueOf(cycle.outputTime + f, ch);
    }
    ASSERT_EQ(d.doIOOperation(IoOperation::kWriteMix, buffer, cycle, out.data()), IoResult::kOk);
  }
  std::vector<float> got1(3200 * 3), got2(3200 * 2);
  ASSERT_EQ(r1.pop(got1.data(), 3200), 3200u);
  ASSERT_EQ(r2.pop(got2.data(), 3200), 3200u);
  for (SampleTime i = 0; i < 3200; ++i) {
    ASSERT_EQ(got1[i * 3], valueOf(firstOutput + i, 5)) << i;
    ASSERT_EQ(got1[i * 3 + 1], valueOf(firstOutput + i, 6));
    ASSERT_EQ(got1[i * 3 + 2], valueOf(firstOutput + i, 7));
    ASSERT_EQ(got2[i * 2], valueOf(firstOutput + i, 7));
    ASSERT_EQ(got2[i * 2 + 1], valueOf(firstOutput + i, 1));
  }
}

// Every device input mapped (ReadInput then writes every sample without clearing first),
// with streams of the channel counts the IO cycle copies as fixed runs (1, 2, 4, 8, 16) and
// one it copies as a general run (3): the buffer holds exactly the streams' audio, whatever
// was in it before.
TEST(IoCycle, AFullyMappedDeviceWritesEveryInputSample) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 34;
  config.outputChannels = 2;
  Device d(config, clock);
  const std::uint32_t widths[] = {1, 2, 4, 8, 16, 3};
  std::vector<std::unique_ptr<PlayoutBuffer>> buffers;
  std::vector<std::unique_ptr<PlayoutInputSource>> sources;
  std::uint32_t next = 0;
  std::vector<std::uint32_t> firstOf;
  for (std::uint32_t w : widths) {
    buffers.push_back(std::make_unique<PlayoutBuffer>(PlayoutConfig{w, 16384, 48}));
    sources.push_back(std::make_unique<PlayoutInputSource>(*buffers.back(), 48));
    std::vector<std::uint32_t> map;
    for (std::uint32_t c = 0; c < w; ++c) map.push_back(next + c);
    firstOf.push_back(next);
    next += w;
    d.addInput(*sources.back(), map, "w" + std::to_string(w));
  }
  ASSERT_EQ(next, 34u);
  d.startIO(0);
  const SampleTime anchor = d.timeline().anchor();
  for (auto& b : buffers) feed(*b, anchor - 200, anchor + 7000);
  const std::uint32_t buffer = 64;
  std::vector<float> in(buffer * 34, 123.0f);  // stale values the cycle must overwrite
  const SampleTime latency = d.inputLatencyFrames();
  for (std::uint64_t n = 0; n < 50; ++n) {
    const IoCycleInfo cycle = cycleAt(n, static_cast<SampleTime>(buffer * (n + 4)), buffer, 0, 0);
    ASSERT_EQ(d.doIOOperation(IoOperation::kReadInput, buffer, cycle, in.data()), IoResult::kOk);
    for (std::uint32_t f = 0; f < buffer; ++f) {
      const SampleTime media = anchor + cycle.inputTime + f - latency;
      for (std::size_t s = 0; s < 6; ++s) {
        for (std::uint32_t c = 0; c < widths[s]; ++c) ASSERT_EQ(in[f * 34 + firstOf[s] + c], valueOf(media, c)) << "cycle " << n << " frame " << f << " stream " << s;
      }
    }
    std::fill(in.begin(), in.end(), 123.0f);
  }
}

TEST(IoCycle, WriteMixHandsTheOutputsTheMediaTimeOfItsSampleTime) {
  LocalMediaClock clock(96000);
  DeviceConfig config;
  config.sampleRate = 96000;
  config.inputChannels = 4;
  config.outputChannels = 4;
  Device d(config, clock);
  FrameRingBuffer r1(8192, 2), r2(8192, 1);
  RingOutputSink s1(r1, 12), s2(r2, 96);
  d.addOutput(s1, {3, 0}, "One");
  d.addOutput(s2, {3}, "Two");
  d.startIO(5'000'000);
  const std::uint32_t buffer = 32;
  std::vector<float> out(buffer * 4);
  SampleTime firstOutput = 0;
  for (std::uint64_t n = 0; n < 100; ++n) {
    const IoCycleInfo cycle = cycleAt(n, static_cast<SampleTime>(buffer * n), buffer, 0, d.outputSafetyOffsetFrames());
    if (n == 0) firstOutput = cycle.outputTime;
    for (std::uint32_t f = 0; f < buffer; ++f) {
      for (std::uint32_t c = 0; c < 4; ++c) out[f * 4 + c] = valueOf(cycle.outputTime + f, c);
    }
    ASSERT_EQ(d.doIOOperation(IoOperation::kWriteMix, buffer, cycle, out.data()), IoResult::kOk);
  }
  EXPECT_EQ(d.counters().outputDiscontinuities, 0u);
  ASSERT_TRUE(s1.started());
  EXPECT_EQ(s1.firstMediaTime(), d.timeline().mediaTimeOf(firstOutput));
  EXPECT_EQ(s2.firstMediaTime(), d.timeline().mediaTimeOf(firstOutput));
  std::vector<float> got(3200 * 2);
  ASSERT_EQ(r1.pop(got.data(), 3200), 3200u);
  for (SampleTime i = 0; i < 3200; ++i) {
    ASSERT_EQ(got[i * 2], valueOf(firstOutput + i, 3)) << i;
    ASSERT_EQ(got[i * 2 + 1], valueOf(firstOutput + i, 0));
  }
  std::vector<float> mono(3200);
  ASSERT_EQ(r2.pop(mono.data(), 3200), 3200u);
  for (SampleTime i = 0; i < 3200; ++i) ASSERT_EQ(mono[i], valueOf(firstOutput + i, 3));
}

TEST(IoCycle, DiscontinuitiesAreCountedAndTheTxRingStaysAlignedInMediaTime) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 2;
  config.outputChannels = 1;
  Device d(config, clock);
  PlayoutBuffer p(PlayoutConfig{2, 8192, 10});
  PlayoutInputSource src(p, 6);
  FrameRingBuffer ring(4096, 1);
  RingOutputSink sink(ring, 6);
  d.addInput(src, {0, 1}, "In");
  d.addOutput(sink, {0}, "Out");
  d.startIO(0);
  std::vector<float> in(64 * 2), out(64);
  auto write = [&](SampleTime t, std::uint32_t frames) {
    for (std::uint32_t f = 0; f < frames; ++f) out[f] = valueOf(t + f, 0);
    return d.writeMix(t, frames, out.data());
  };
  d.readInput(0, 64, in.data());
  d.readInput(64, 64, in.data());
  d.readInput(200, 64, in.data());  // skipped 72 frames
  d.readInput(200, 64, in.data());  // repeated
  EXPECT_EQ(d.counters().inputDiscontinuities, 2u);

  write(1000, 64);
  write(1064, 64);
  write(1200, 64);  // 72 frames skipped: silence keeps the ring aligned
  write(1232, 64);  // overlaps the last 32: only the new 32 frames go in
  write(1100, 16);  // entirely in the past: nothing goes in
  EXPECT_EQ(d.counters().outputDiscontinuities, 3u);
  EXPECT_EQ(sink.gaps(), 1u);
  EXPECT_EQ(sink.gapFrames(), 72u);
  EXPECT_EQ(sink.repeatedFrames(), 32u + 16u);
  ASSERT_EQ(ring.fill(), 296u);  // 1000..1296
  const SampleTime first = sink.firstMediaTime() - d.timeline().anchor();
  ASSERT_EQ(first, 1000);
  std::vector<float> got(296);
  ring.pop(got.data(), 296);
  for (SampleTime i = 0; i < 296; ++i) {
    const SampleTime t = 1000 + i;
    const bool hole = t >= 1128 && t < 1200;
    ASSERT_EQ(got[i], hole ? 0.0f : valueOf(t, 0)) << "t=" << t;
  }
}

TEST(IoCycle, AFullTxRingDropsWhatDoesNotFitAndRealignsOnTheNextWrite) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.outputChannels = 1;
  config.inputChannels = 1;
  Device d(config, clock);
  FrameRingBuffer ring(128, 1);
  RingOutputSink sink(ring, 48);
  d.addOutput(sink, {0}, "Out");
  d.startIO(0);
  std::vector<float> out(100);
  auto write = [&](SampleTime t) {
    for (std::uint32_t f = 0; f < 100; ++f) out[f] = valueOf(t + f, 0);
    d.writeMix(t, 100, out.data());
  };
  write(0);
  write(100);  // only 28 fit
  EXPECT_EQ(sink.overflowFrames(), 72u);
  std::vector<float> got(128);
  ASSERT_EQ(ring.pop(got.data(), 128), 128u);  // the transmitter drains 0..127
  write(200);  // 128..199 were lost: the hole becomes silence, then 200..299 follow
  std::vector<float> next(128);
  ASSERT_EQ(ring.pop(next.data(), 128), 128u);
  for (SampleTime i = 0; i < 128; ++i) {
    const SampleTime t = 128 + i;
    ASSERT_EQ(next[i], t < 200 ? 0.0f : valueOf(t, 0)) << "t=" << t;
  }
  // The silence filled frames counted as lost already: no gap (the HAL skipped nothing);
  // 256..299 did not fit behind it.
  EXPECT_EQ(sink.overflowFrames(), 72u + 44u);
  EXPECT_EQ(sink.gaps(), 0u);
  EXPECT_EQ(sink.gapFrames(), 0u);
}

// The IO cycle goes on while the transmitter stalls (the ring full), and the HAL skips once
// in the middle: every frame lost is counted once, the skip once. Before, each write into
// the full ring counted the whole hole behind it again (a live DUT that stalled ~200 ms
// under load reported 95 gaps and 282,684 gap and overflow frames for a clean recording).
TEST(IoCycle, ATransmitterStallCountsEachLostFrameAndTheSkipOnce) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.outputChannels = 1;
  config.inputChannels = 1;
  Device d(config, clock);
  FrameRingBuffer ring(256, 1);
  RingOutputSink sink(ring, 64);
  d.addOutput(sink, {0}, "Out");
  d.startIO(0);
  std::vector<float> out(64);
  auto write = [&](SampleTime t) {
    for (std::uint32_t f = 0; f < 64; ++f) out[f] = valueOf(t + f, 0);
    d.writeMix(t, 64, out.data());
  };
  SampleTime t = 0;
  for (int i = 0; i < 4; ++i, t += 64) write(t);  // the ring is full: 0..255
  for (int i = 0; i < 10; ++i, t += 64) write(t);  // stalled transmitter: 256..895 lost
  EXPECT_EQ(sink.overflowFrames(), 640u);
  t += 100;                                        // the HAL skips 100 frames: 896..995
  for (int i = 0; i < 5; ++i, t += 64) write(t);   // still full: 996..1315 lost
  EXPECT_EQ(sink.overflowFrames(), 640u + 320u);
  EXPECT_EQ(sink.gaps(), 1u);
  EXPECT_EQ(sink.gapFrames(), 100u);
  std::vector<float> got(256);
  ASSERT_EQ(ring.pop(got.data(), 256), 256u);  // the transmitter drains 0..255
  write(t);                                     // the hole up to it becomes silence; 1316.. follow
  EXPECT_EQ(sink.gaps(), 1u);
  EXPECT_EQ(sink.gapFrames(), 100u);
  EXPECT_EQ(sink.overflowFrames(), 640u + 320u + 64u);  // 256 frames of the hole went in; this write did not fit behind it
  ASSERT_EQ(ring.pop(got.data(), 256), 256u);
  for (float v : got) ASSERT_EQ(v, 0.0f);
}

// Streams bound and unbound while IO runs (issue 9): each change takes effect at the next
// operation, the other streams' audio and sample times go on untouched, a removed input's
// channels read silence at once, and the tables replaced are freed only once the IO path
// has entered a later one.
TEST(IoCycle, StreamsBoundAndUnboundWhileIoRunsChangeNothingElse) {
  LocalMediaClock clock(48000);
  DeviceConfig config;
  config.inputChannels = 4;
  config.outputChannels = 4;
  Device d(config, clock);
  PlayoutBuffer a(PlayoutConfig{2, 16384, 48}), b(PlayoutConfig{2, 16384, 48});
  PlayoutInputSource sa(a, 48), sb(b, 48);
  FrameRingBuffer ra(16384, 2), rb(16384, 2);
  RingOutputSink oa(ra, 48), ob(rb, 48, true);
  d.addInput(sa, {0, 1}, "A");
  d.addOutput(oa, {0, 1}, "A out");
  d.startIO(0);
  const SampleTime anchor = d.timeline().anchor();
  feed(a, anchor - 4000, anchor + 13000);
  feed(b, anchor - 4000, anchor + 13000);
  const std::uint32_t buffer = 64;
  std::vector<float> in(buffer * 4), out(buffer * 4);
  const SampleTime latency = d.inputPresentationFrames();
  ASSERT_EQ(latency, 48);
  std::uint64_t generationAtRemoval = 0;
  for (std::uint64_t n = 0; n < 150; ++n) {
    const SampleTime current = static_cast<SampleTime>(buffer * (n + 2));
    if (n == 50) {
      d.addInput(sb, {2, 3}, "B");
      d.addOutput(ob, {2, 3}, "B out");
      // The IO path is still in the table from before both: neither replaced one is freed.
      EXPECT_EQ(d.retiredBindingTables(), 2u);
    }
    if (n == 100) generationAtRemoval = d.removeInput(sb);
    if (n == 101) {
      EXPECT_TRUE(d.ioPast(generationAtRemoval));
      d.reclaim();
      EXPECT_EQ(d.retiredBindingTables(), 0u);
    }
    const IoCycleInfo cycle = cycleAt(n, current, buffer, 0, 0);
    ASSERT_EQ(d.readInput(cycle.inputTime, buffer, in.data()), IoResult::kOk);
    const SampleTime media = anchor + cycle.inputTime - latency;
    for (std::uint32_t f = 0; f < buffer; ++f) {
      for (std::uint32_t c = 0; c < 2; ++c) ASSERT_EQ(in[f * 4 + c], valueOf(media + f, c)) << "A, cycle " << n;
      for (std::uint32_t c = 0; c < 2; ++c) {
        const float want = n >= 50 && n < 100 ? valueOf(media + f, c) : 0.0f;
        ASSERT_EQ(in[f * 4 + 2 + c], want) << "B, cycle " << n << " frame " << f;
      }
    }
    for (std::uint32_t f = 0; f < buffer; ++f) {
      for (std::uint32_t c = 0; c < 4; ++c) out[f * 4 + c] = valueOf(anchor + cycle.outputTime + f, c);
    }
    ASSERT_EQ(d.writeMix(cycle.outputTime, buffer, out.data()), IoResult::kOk);
  }
  EXPECT_EQ(d.counters().inputDiscontinuities + d.counters().outputDiscontinuities, 0u);
  // A's ring: every frame from its first write on, in order.
  EXPECT_EQ(oa.firstMediaTime(), anchor + 2 * 64 + 64);
  std::vector<float> got(ra.fill() * 2);
  const std::size_t aFrames = ra.pop(got.data(), ra.fill());
  EXPECT_EQ(aFrames, 150u * 64);
  for (std::size_t i = 0; i < aFrames; ++i) ASSERT_EQ(got[i * 2], valueOf(oa.firstMediaTime() + static_cast<SampleTime>(i), 0));
  // B's ring starts on the first packet boundary at or after its first write (media time
  // 52 * 64 + anchor) and takes channels 2 and 3 from there on.
  const SampleTime firstWrite = anchor + 52 * 64 + 64;
  EXPECT_EQ(ob.firstMediaTime() % 48, 0);
  EXPECT_GE(ob.firstMediaTime(), firstWrite);
  EXPECT_LT(ob.firstMediaTime(), firstWrite + 48);
  EXPECT_EQ(ob.repeatedFrames() + ob.gaps(), 0u);
  got.assign(rb.fill() * 2, 0.0f);
  const std::size_t bFrames = rb.pop(got.data(), rb.fill());
  EXPECT_EQ(static_cast<SampleTime>(bFrames), anchor + 152 * 64 + 64 - ob.firstMediaTime());
  for (std::size_t i = 0; i < bFrames; ++i) ASSERT_EQ(got[i * 2 + 1], valueOf(ob.firstMediaTime() + static_cast<SampleTime>(i), 3));
}

}  // namespace
}  // namespace aes67
