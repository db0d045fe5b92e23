// PtpSlave on real sockets (UdpTransport on loopback, this test's own ports 42319/42320):
// kernel receive and transmit time stamps, two sockets, the same code as on an interface.
// The master is the test fixture on real sockets too (kernel transmit stamps for its
// two-step Sync); both read CLOCK_MONOTONIC, so the slave's error against it is known.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "engine/base/udp_transport.hpp"
#include "engine/ptp/ptp_slave.hpp"
#include "engine/ptp/test/simulated_master.hpp"

namespace aes67 {
namespace {

TEST(PtpSlaveUdp, LocksOnLoopbackWithKernelTimestamps) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  test::SimulatedMasterConfig mc;
  mc.destination = parseIpv4("127.0.0.1");
  mc.bindAddress = parseIpv4("127.0.0.2");
  mc.eventPort = 42319;
  mc.generalPort = 42320;
  mc.logAnnounceInterval = -2;
  mc.logSyncInterval = -4;
  mc.logMinDelayReqInterval = -4;
  mc.epoch = 1'767'225'600'000'000'000 - clock.now();
  mc.phase = clock.now();
  test::SimulatedMaster master(transport, mc);

  PtpSlaveConfig sc;
  sc.destination = parseIpv4("127.0.0.2");
  sc.bindAddress = parseIpv4("127.0.0.1");
  sc.eventPort = 42319;
  sc.generalPort = 42320;
  sc.transmitStamp = PtpTransmitStamp::kKernel;
  PtpSlave slave(transport, sc);

  const Nanoseconds start = clock.now();
  Nanoseconds lockedAt = -1;
  double worst = 0;
  int checked = 0;
  while (clock.now() - start < 15 * kNanosPerSecond) {
    master.poll(clock.now());
    slave.poll();
    if (isLocked(slave.synchronizer().servo().state())) {
      if (lockedAt < 0) lockedAt = clock.now();
      const Nanoseconds now = clock.now();
      worst = std::max(worst, std::abs(static_cast<double>(slave.mapping().ptpTimeAt(now) - master.ptpTime(now))));
      if (++checked > 2000) break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ASSERT_GE(lockedAt, 0) << "never locked on loopback; port datagrams " << slave.port().counters().datagrams;
  std::printf("[ figures  ] loopback: locked after %.3f s, worst true error %.1f us over %d checks, path delay %lld ns\n",
              static_cast<double>(lockedAt - start) / 1e9, worst / 1e3, checked, static_cast<long long>(slave.status().pathDelay));
  EXPECT_EQ(slave.transmitStampFallbacks(), 0u) << "lo stamps transmissions in the kernel";
  EXPECT_GT(slave.port().counters().delaySamples, 10u);
  EXPECT_EQ(slave.status().portState, PtpPortState::kSlave);
  EXPECT_EQ(slave.status().grandmasterIdentity, mc.identity);
  // Both ends stamp in the kernel (the fixture's Follow_Up carries its SO_TIMESTAMPING
  // transmit time), so on lo the error is well under a microsecond when the machine is
  // quiet; the bound leaves room for a loaded one.
  EXPECT_LT(worst, 20'000.0);
}

TEST(PtpSlaveUdp, ReportsWhatIsWrongWithTheSockets) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  PtpSlaveConfig sc;
  sc.eventDscp = 64;
  EXPECT_THROW(PtpSlave(transport, sc), std::invalid_argument);
  sc = {};
  sc.port.domainNumber = 200;
  EXPECT_THROW(PtpSlave(transport, sc), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
