// Kernel software transmit time stamps (SocketOptions::transmitTimestamps) on loopback:
// the stamp lies between the clock readings around the send and before the receiver's
// kernel receive stamp, belongs to the datagram just sent, and is absent when not asked for.
#include <gtest/gtest.h>

#include "engine/base/udp_transport.hpp"

namespace aes67 {
namespace {

TEST(TransmitTimestamps, StampEachDatagramBetweenSendAndReceive) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  SocketOptions rxOptions;
  rxOptions.bindAddress = parseIpv4("127.0.0.1");
  auto rx = transport.open(rxOptions);
  SocketOptions txOptions;
  txOptions.transmitTimestamps = true;
  auto tx = transport.open(txOptions);
  const std::uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  Nanoseconds previous = 0;
  for (int i = 0; i < 20; ++i) {
    const Nanoseconds before = clock.now();
    ASSERT_TRUE(tx->send(rx->localEndpoint(), payload, sizeof payload));
    const Nanoseconds after = clock.now();
    const auto sent = tx->lastTransmitTime(100'000'000);
    ASSERT_TRUE(sent.has_value()) << "lo stamps transmissions (skb_tx_timestamp in loopback_xmit)";
    EXPECT_GE(*sent, before - 2'000);
    EXPECT_LE(*sent, after + 2'000);
    EXPECT_GT(*sent, previous) << "each datagram its own stamp";
    previous = *sent;
    ASSERT_TRUE(rx->waitReadable(kNanosPerSecond));
    std::uint8_t buffer[16];
    const auto got = rx->receive(buffer, sizeof buffer);
    ASSERT_TRUE(got.has_value());
    EXPECT_LE(*sent, got->receivedAt + 2'000) << "sent before it was received";
  }
  // Two sends before asking: the stamp given is the second datagram's.
  ASSERT_TRUE(tx->send(rx->localEndpoint(), payload, sizeof payload));
  const Nanoseconds between = clock.now();
  ASSERT_TRUE(tx->send(rx->localEndpoint(), payload, sizeof payload));
  const auto second = tx->lastTransmitTime(100'000'000);
  ASSERT_TRUE(second.has_value());
  EXPECT_GE(*second, between - 2'000);

  auto plain = transport.open({});
  ASSERT_TRUE(plain->send(rx->localEndpoint(), payload, sizeof payload));
  EXPECT_FALSE(plain->lastTransmitTime(1'000'000).has_value()) << "only when asked for";
}

}  // namespace
}  // namespace aes67
