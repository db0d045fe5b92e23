#include "engine/base/udp_transport.hpp"

#include <gtest/gtest.h>

#include <errno.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace aes67 {
namespace {

// Real sockets on loopback only: DSCP marking, source address and receive time stamps.
TEST(UdpTransport, SendsAndReceivesOnLoopbackWithDscpAndTimestamps) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  EXPECT_EQ(transport.localAddress(), parseIpv4("127.0.0.1"));
  SocketOptions rxOptions;
  rxOptions.bindAddress = parseIpv4("127.0.0.1");
  auto rx = transport.open(rxOptions);
  SocketOptions txOptions;
  txOptions.dscp = 34;  // AF41, AES67 media
  auto tx = transport.open(txOptions);
  const std::string payload = "aes67";
  const Nanoseconds before = clock.now();
  ASSERT_TRUE(tx->send(rx->localEndpoint(), reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
  ASSERT_TRUE(rx->waitReadable(2 * kNanosPerSecond)) << "loopback datagram never arrived";
  std::uint8_t buffer[64];
  auto info = rx->receive(buffer, sizeof buffer);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(std::string(buffer, buffer + info->size), payload);
  EXPECT_EQ(info->source, tx->localEndpoint().address == 0 ? info->source : tx->localEndpoint());
  EXPECT_EQ(info->source.address, parseIpv4("127.0.0.1"));
  EXPECT_EQ(info->destination.address, parseIpv4("127.0.0.1"));
  EXPECT_EQ(info->dscp, 34);
  EXPECT_FALSE(info->truncated);
  EXPECT_GE(info->receivedAt, before - 1'000'000) << "kernel time stamp mapped into the monotonic clock";
  EXPECT_LE(info->receivedAt, clock.now());
  EXPECT_FALSE(rx->receive(buffer, sizeof buffer).has_value()) << "non-blocking when empty";
}

TEST(UdpTransport, ReportsTruncationAndBadOptions) {
  RealClock clock;
  UdpTransport transport(clock);
  SocketOptions rxOptions;
  rxOptions.bindAddress = parseIpv4("127.0.0.1");
  auto rx = transport.open(rxOptions);
  auto tx = transport.open({});
  std::uint8_t big[1000] = {};
  ASSERT_TRUE(tx->send(rx->localEndpoint(), big, sizeof big));
  ASSERT_TRUE(rx->waitReadable(2 * kNanosPerSecond));
  std::uint8_t small[100];
  auto info = rx->receive(small, sizeof small);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->truncated);
  EXPECT_EQ(info->size, 1000u);
  SocketOptions bad;
  bad.dscp = 64;
  EXPECT_THROW(transport.open(bad), std::invalid_argument);
  EXPECT_THROW(UdpTransport(clock, "no-such-if0"), std::runtime_error);
}

// A reader delayed while a burst arrives keeps every datagram: the kernel buffer is sized
// for it (the default one drops most of this burst, which the second socket shows).
TEST(UdpTransport, ReceiveBufferHoldsABurstTheKernelDefaultDrops) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  auto receiveBurst = [&](std::size_t bufferBytes) {
    SocketOptions rxOptions;
    rxOptions.bindAddress = parseIpv4("127.0.0.1");
    rxOptions.receiveBufferBytes = bufferBytes;
    auto rx = transport.open(rxOptions);
    auto tx = transport.open({});
    std::uint8_t packet[1200] = {};
    constexpr int kBurst = 1500;  // 1.8 MB of payload: 1.5 s of an 8-channel L24 1 ms stream
    for (int i = 0; i < kBurst; ++i) tx->send(rx->localEndpoint(), packet, sizeof packet);
    int received = 0;
    std::uint8_t buffer[1500];
    while (rx->waitReadable(200'000'000) && rx->receive(buffer, sizeof buffer)) ++received;
    return received;
  };
  if (geteuid() != 0) GTEST_SKIP() << "SO_RCVBUFFORCE needs root; without it net.core.rmem_max caps the buffer";
  EXPECT_EQ(receiveBurst(SocketOptions{}.receiveBufferBytes), 1500);
  EXPECT_LT(receiveBurst(0), 1500) << "the kernel's default buffer should not hold this burst";
}

// The "drops" column of /proc/net/udp for the socket bound to 127.0.0.1:`port`: the
// kernel's own report, independent of how the transport reads it.
std::uint64_t procNetUdpDrops(std::uint16_t port) {
  std::ifstream in("/proc/net/udp");
  std::string line;
  std::getline(in, line);  // header
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, address, word;
    fields >> slot >> address;
    if (address != local) continue;
    while (fields >> word) {
    }
    return std::stoull(word);  // the last column
  }
  ADD_FAILURE() << "no socket on " << local << " in /proc/net/udp";
  return 0;
}

// A receive buffer that cannot hold what was sent: every datagram is either received or
// counted as dropped by the kernel, and the count is the one /proc/net/udp shows.
TEST(UdpTransport, CountsTheDatagramsTheKernelDroppedForAFullReceiveBuffer) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  SocketOptions rxOptions;
  rxOptions.bindAddress = parseIpv4("127.0.0.1");
  rxOptions.receiveBufferBytes = 8192;  // a few datagrams of 1 KB (the kernel doubles it)
  auto rx = transport.open(rxOptions);
  auto tx = transport.open({});
  EXPECT_EQ(rx->receiveOverflows(), 0u);
  constexpr int kSent = 200;
  std::uint8_t datagram[1000] = {};
  for (int i = 0; i < kSent; ++i) ASSERT_TRUE(tx->send(rx->localEndpoint(), datagram, sizeof datagram));
  const std::uint64_t dropped = rx->receiveOverflows();
  EXPECT_GT(dropped, 0u) << "the buffer held all " << kSent << " datagrams: the test no longer overflows it";
  EXPECT_EQ(dropped, procNetUdpDrops(rx->localEndpoint().port));
  int received = 0;
  std::uint8_t buffer[2048];
  for (int i = 0; i < kSent && rx->receive(buffer, sizeof buffer); ++i) ++received;
  EXPECT_EQ(received + dropped, static_cast<std::uint64_t>(kSent));
  EXPECT_EQ(rx->receiveOverflows(), dropped) << "draining drops nothing more";
}

// A send the kernel refuses is false, and why is kept (no system call to read it): the
// limited broadcast address without SO_BROADCAST is EACCES on Linux.
TEST(UdpTransport, KeepsTheErrnoOfTheLastSendThatFailed) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  auto tx = transport.open({});
  EXPECT_EQ(tx->lastSendError(), 0);
  std::uint8_t datagram[16] = {};
  EXPECT_FALSE(tx->send(parseEndpoint("255.255.255.255:9"), datagram, sizeof datagram));
  EXPECT_EQ(tx->lastSendError(), EACCES);
  auto rx = transport.open([] {
    SocketOptions o;
    o.bindAddress = parseIpv4("127.0.0.1");
    return o;
  }());
  EXPECT_TRUE(tx->send(rx->localEndpoint(), datagram, sizeof datagram));
  EXPECT_EQ(tx->lastSendError(), EACCES) << "the last failure stays until another one";
}

}  // namespace
}  // namespace aes67
