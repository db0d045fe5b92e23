// What runs on the audio IO thread (the media clock's reads) and what runs per packet
// (PtpPort, PtpSynchronizer) allocates nothing: counted by replacing the global
// allocation functions for this test binary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "engine/ptp/ptp_media_clock.hpp"
#include "engine/ptp/ptp_port.hpp"
#include "engine/ptp/ptp_synchronizer.hpp"

namespace {
thread_local bool gCounting = false;
thread_local std::size_t gAllocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (gCounting) ++gAllocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace aes67 {
namespace {

struct CountAllocations {
  CountAllocations() {
    gAllocations = 0;
    gCounting = true;
  }
  ~CountAllocations() { gCounting = false; }
  std::size_t count() const { return gAllocations; }
};

static_assert(std::atomic<double>::is_always_lock_free, "the mapping's reads must not take a lock");
static_assert(std::atomic<std::int64_t>::is_always_lock_free, "the mapping's reads must not take a lock");

TEST(PtpRealtime, CounterSeesAnAllocation) {
  CountAllocations counter;
  std::vector<int> v(10);
  EXPECT_EQ(counter.count(), 1u) << "the counter works";
}

TEST(PtpRealtime, MediaClockReadsAllocateNothing) {
  PtpTimeMapping mapping;
  mapping.step(0, 1'767'225'600'000'000'000);
  mapping.setFrequency(0, 12'000.0);
  PtpMediaClock clock(mapping, 48'000, 1234);
  std::uint64_t sink = 0;
  CountAllocations counter;
  for (Nanoseconds t = 0; t < 1'000'000'000; t += 1'333'333) {
    const SampleTime s = clock.sampleAt(t);
    sink += static_cast<std::uint64_t>(clock.localTimeOf(s)) + clock.rtpTimestampAt(t);
    sink += static_cast<std::uint64_t>(clock.driftPpm());
  }
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_NE(sink, 0u);
}

TEST(PtpRealtime, PerPacketWorkAllocatesNothing) {
  PtpPortConfig pc;
  pc.clockIdentity = ClockIdentity::fromValue(0x0200000afffe0002ull);
  PtpPort port(pc);
  PtpSynchronizer sync;
  const ClockIdentity gm = ClockIdentity::fromValue(0x001d7ffffe80024aull);
  auto make = [&](PtpMessageType type, std::uint16_t seq) {
    PtpMessage m;
    m.header.messageType = type;
    m.header.sourcePortIdentity = {gm, 1};
    m.header.sequenceId = seq;
    m.header.logMessageInterval = type == PtpMessageType::kAnnounce ? 1 : -3;
    m.announce.grandmasterIdentity = gm;
    return m;
  };
  // Pre-built datagrams: building them is the test's work, not the port's.
  std::vector<std::vector<std::uint8_t>> wire;
  std::vector<PtpMessage> messages;
  for (std::uint16_t i = 0; i < 400; ++i) {
    if (i % 16 == 0) messages.push_back(make(PtpMessageType::kAnnounce, i));
    PtpMessage s = make(PtpMessageType::kSync, i);
    s.timestamp = PtpTimestamp::fromNanos(1'767'225'600'000'000'000 + i * 125'000'000LL);
    messages.push_back(s);
  }
  for (const auto& m : messages) {
    std::vector<std::uint8_t> w(128);
    w.resize(writePtp(m, w.data(), w.size()));
    wire.push_back(std::move(w));
  }
  std::vector<std::uint8_t> resp(128);
  Nanoseconds now = 0;
  std::size_t handled = 0;
  CountAllocations counter;
  for (const auto& w : wire) {
    now += 62'500'000;
    port.handle(w.data(), w.size(), now);
    port.poll(now);
    PtpOutgoing out;
    while (port.nextOutgoing(out)) {
      port.transmitted(out.type, out.sequenceId, now);
      PtpMessage r;
      r.header.messageType = PtpMessageType::kDelayResp;
      r.header.sourcePortIdentity = {gm, 1};
      r.header.sequenceId = out.sequenceId;
      r.header.logMessageInterval = -3;
      r.timestamp = PtpTimestamp::fromNanos(1'767'225'600'000'000'000 + now);
      r.portIdentity = port.portIdentity();
      const std::size_t n = writePtp(r, resp.data(), resp.size());
      port.handle(resp.data(), n, now + 10'000);
    }
    PtpPortEvent e;
    while (port.nextEvent(e)) sync.handle(e, now);
    sync.poll(now);
    PtpOffsetRecord rec;
    while (sync.nextRecord(rec)) ++handled;
  }
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_GT(handled, 300u) << "the work was done";
  EXPECT_GT(port.counters().delaySamples, 100u);
}

}  // namespace
}  // namespace aes67
