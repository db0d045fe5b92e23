#include "engine/base/udp_transport.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

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

}  // namespace
}  // namespace aes67
