#include "engine/base/virtual_network.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "engine/base/prng.hpp"

namespace aes67 {
namespace {

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::string take(DatagramSocket& socket, DatagramInfo* info = nullptr) {
  std::uint8_t buffer[1500];
  auto got = socket.receive(buffer, sizeof buffer);
  if (!got) return "";
  if (info) *info = *got;
  return std::string(buffer, buffer + std::min(got->size, sizeof buffer));
}

class VirtualNetworkTest : public ::testing::Test {
 protected:
  VirtualClock clock{1'000'000};
  VirtualNetwork network{clock, 50'000};
  Transport& a = network.addHost("a", parseIpv4("10.0.0.1"));
  Transport& b = network.addHost("b", parseIpv4("10.0.0.2"));
  Transport& c = network.addHost("c", parseIpv4("10.0.0.3"));
};

TEST_F(VirtualNetworkTest, DeliversUnicastAfterTheDelayAtTheRightTime) {
  auto tx = a.open({});
  SocketOptions rxOptions;
  rxOptions.localPort = 5004;
  auto rx = b.open(rxOptions);
  auto bystander = c.open(rxOptions);
  const auto payload = bytes("hello");
  tx->send({parseIpv4("10.0.0.2"), 5004}, payload.data(), payload.size());
  EXPECT_EQ(take(*rx), "") << "not before the 50 us link delay";
  clock.advanceBy(49'999);
  EXPECT_EQ(take(*rx), "");
  clock.advanceBy(1);
  DatagramInfo info;
  EXPECT_EQ(take(*rx, &info), "hello");
  EXPECT_EQ(info.receivedAt, 1'050'000);
  EXPECT_EQ(info.source.address, parseIpv4("10.0.0.1"));
  EXPECT_EQ(info.destination, (Ipv4Endpoint{parseIpv4("10.0.0.2"), 5004}));
  EXPECT_EQ(take(*bystander), "") << "unicast reaches only its destination";
  EXPECT_EQ(network.stats().delivered, 1u);
}

TEST_F(VirtualNetworkTest, MulticastReachesMembersOnlyAndHonoursSourceFilters) {
  SocketOptions o;
  o.localPort = 5004;
  auto member = b.open(o);
  auto sourceFiltered = c.open(o);
  auto notMember = c.open(o);
  const Ipv4Address group = parseIpv4("239.69.1.1");
  member->joinMulticast(group);
  sourceFiltered->joinMulticast(group, parseIpv4("10.0.0.9"));  // some other source
  auto tx = a.open({});
  const auto payload = bytes("audio");
  tx->send({group, 5004}, payload.data(), payload.size());
  tx->send({parseIpv4("239.69.1.2"), 5004}, payload.data(), payload.size());
  clock.advanceBy(50'000);
  EXPECT_EQ(take(*member), "audio");
  EXPECT_EQ(take(*member), "") << "another group on the same port is not heard";
  EXPECT_EQ(take(*sourceFiltered), "");
  EXPECT_EQ(take(*notMember), "");
  EXPECT_EQ(network.stats().noReceiver, 1u);
}

// A socket closed while still a member (a stream stopped without leaving its group) leaves
// the network's group index with it: a datagram to the group then finds no receiver, and the
// other member still gets its copy. (It once stayed indexed: ASan, heap-use-after-free.)
TEST_F(VirtualNetworkTest, AClosedMemberIsNoLongerDeliveredTo) {
  SocketOptions o;
  o.localPort = 5004;
  const Ipv4Address group = parseIpv4("239.69.1.1");
  auto stays = c.open(o);
  stays->joinMulticast(group);
  {
    auto closed = b.open(o);
    closed->joinMulticast(group);
    closed->joinMulticast(group, parseIpv4("10.0.0.1"));
  }
  auto tx = a.open({});
  const auto payload = bytes("audio");
  tx->send({group, 5004}, payload.data(), payload.size());
  clock.advanceBy(50'000);
  EXPECT_EQ(take(*stays), "audio");
  EXPECT_EQ(network.stats().delivered, 1u);
  stays.reset();
  tx->send({group, 5004}, payload.data(), payload.size());
  clock.advanceBy(50'000);
  network.deliverDue();
  EXPECT_EQ(network.stats().noReceiver, 1u);
}

TEST_F(VirtualNetworkTest, ImpairmentHookDropsDuplicatesAndReordersDeterministically) {
  // Every third packet lost, every fourth duplicated, odd packets delayed 200 us more.
  int n = 0;
  network.setImpairment([&](const VirtualPacket&, std::vector<Nanoseconds>& delays) {
    ++n;
    if (n % 3 == 0) delays.clear();
    else if (n % 4 == 0) delays.push_back(10'000);
    else if (n % 2 == 1) delays[0] = 200'000;
  });
  SocketOptions o;
  o.localPort = 9;
  auto rx = b.open(o);
  auto tx = a.open({});
  for (int i = 1; i <= 8; ++i) {
    const auto payload = bytes(std::to_string(i));
    tx->send({parseIpv4("10.0.0.2"), 9}, payload.data(), payload.size());
    clock.advanceBy(100'000);
  }
  clock.advanceBy(1'000'000);
  std::string order;
  for (std::string s; !(s = take(*rx)).empty();) order += s;
  // 1 at 250, 2 at 150, 4 at 350 and 360, 5 at 650, 7 at 850, 8 at 750 and 760 (us).
  EXPECT_EQ(order, "21445887");
  EXPECT_EQ(network.stats().droppedByImpairment, 2u);
  EXPECT_EQ(network.stats().duplicatedByImpairment, 2u);
}

TEST_F(VirtualNetworkTest, FullReceiveQueueDropsAndCounts) {
  SocketOptions o;
  o.localPort = 9;
  o.receiveQueueLimit = 3;
  auto rx = b.open(o);
  auto tx = a.open({});
  const auto payload = bytes("x");
  for (int i = 0; i < 5; ++i) tx->send({parseIpv4("10.0.0.2"), 9}, payload.data(), payload.size());
  clock.advanceBy(50'000);
  network.deliverDue();
  EXPECT_EQ(rx->receiveOverflows(), 2u);
  EXPECT_EQ(network.stats().queueOverflow, 2u);
}

// What the lab's scheduler polls the emulated DUT on: every datagram that reached one of a
// host's sockets (multicast to each member socket, a full queue's too), none of another's.
TEST_F(VirtualNetworkTest, CountsTheDatagramsThatReachEachHost) {
  const std::uint64_t& toA = network.deliveriesTo(a);
  const std::uint64_t& toB = network.deliveriesTo(b);
  auto tx = c.open({});
  SocketOptions options;
  options.localPort = 5004;
  options.receiveQueueLimit = 2;
  auto unicast = b.open(options);
  SocketOptions groupOptions;
  groupOptions.localPort = 5006;
  auto m1 = a.open(groupOptions);
  auto m2 = a.open(groupOptions);
  m1->joinMulticast(parseIpv4("239.1.1.1"));
  m2->joinMulticast(parseIpv4("239.1.1.1"));
  const auto payload = bytes("x");
  for (int i = 0; i < 3; ++i) tx->send({parseIpv4("10.0.0.2"), 5004}, payload.data(), payload.size());
  tx->send({parseIpv4("239.1.1.1"), 5006}, payload.data(), payload.size());
  tx->send({parseIpv4("10.0.0.2"), 5999}, payload.data(), payload.size());  // no socket there
  EXPECT_EQ(toA, 0u);
  EXPECT_EQ(toB, 0u) << "nothing before the link delay";
  clock.advanceBy(50'000);
  network.deliverDue();
  EXPECT_EQ(toB, 3u) << "the third overflowed the queue of two, and still counts";
  EXPECT_EQ(toA, 2u) << "one multicast datagram, two member sockets";
  EXPECT_EQ(network.stats().queueOverflow, 1u);
  EXPECT_EQ(network.deliveriesTo(c), 0u);
  VirtualClock otherClock{0};
  VirtualNetwork other{otherClock};
  Transport& stranger = other.addHost("a", parseIpv4("10.0.0.1"));
  EXPECT_THROW((void)network.deliveriesTo(stranger), std::invalid_argument);
}

// receiveView: the virtual network lends its buffer (the bytes receive() would copy, the
// full size, never truncated); a transport that lends none copies into the socket's own.
TEST_F(VirtualNetworkTest, ReceiveViewLendsTheDatagramOrFallsBackToACopy) {
  SocketOptions o;
  o.localPort = 7;
  auto rx = b.open(o);
  auto tx = a.open({});
  std::vector<std::uint8_t> big(12000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  tx->send({parseIpv4("10.0.0.2"), 7}, big.data(), big.size());
  const auto small = bytes("tiny");
  tx->send({parseIpv4("10.0.0.2"), 7}, small.data(), small.size());
  clock.advanceBy(50'000);
  const std::uint8_t* data = nullptr;
  auto got = rx->receiveView(data);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, big.size());
  EXPECT_FALSE(got->truncated);
  EXPECT_EQ(std::vector<std::uint8_t>(data, data + got->size), big);
  got = rx->receiveView(data);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(data, data + got->size), "tiny");
  EXPECT_FALSE(rx->receiveView(data));

  // A socket that only copies: receiveView is its receive() into a buffer of its own.
  struct Copying : DatagramSocket {
    int calls = 0;
    bool send(const Ipv4Endpoint&, const std::uint8_t*, std::size_t) override { return true; }
    std::optional<DatagramInfo> receive(std::uint8_t* buffer, std::size_t capacity) override {
      if (calls++ > 0) return std::nullopt;
      EXPECT_GE(capacity, 65536u);
      std::memcpy(buffer, "copied", 6);
      DatagramInfo info;
      info.size = 6;
      return info;
    }
    bool waitReadable(Nanoseconds) override { return false; }
    void joinMulticast(Ipv4Address, Ipv4Address) override {}
    void leaveMulticast(Ipv4Address, Ipv4Address) override {}
    Ipv4Endpoint localEndpoint() const override { return {}; }
    std::uint64_t receiveOverflows() const override { return 0; }
  } copying;
  got = copying.receiveView(data);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(data, data + got->size), "copied");
  EXPECT_FALSE(copying.receiveView(data));
}

// Datagrams come out in (due time, send order), however the impairment moves them: most in
// send order (one base delay), some held back or duplicated past later ones, some sent at
// the same instant. Checked against a sort of what was sent.
TEST_F(VirtualNetworkTest, DeliversInDueThenSendOrderWhateverTheDelays) {
  SocketOptions o;
  o.localPort = 9;
  o.receiveQueueLimit = 1 << 20;
  auto rx = b.open(o);
  auto tx = a.open({});
  Prng prng(20261125);
  struct Sent {
    Nanoseconds due;
    std::uint64_t order;
    std::uint32_t id;
  };
  std::vector<Sent> expected;
  std::uint64_t order = 0;
  std::uint32_t id = 0;
  network.setImpairment([&](const VirtualPacket& p, std::vector<Nanoseconds>& extra) {
    const double r = prng.uniform();
    if (r < 0.1) extra[0] = static_cast<Nanoseconds>(prng.uniform() * 3'000'000);  // held back
    if (r > 0.95) extra.push_back(static_cast<Nanoseconds>(prng.uniform() * 500'000));  // and a late copy
    for (Nanoseconds e : extra) expected.push_back({p.sentAt + 50'000 + e, order++, id});
  });
  std::vector<std::uint32_t> got;
  std::uint8_t buffer[16];
  for (int step = 0; step < 4000; ++step) {
    const int burst = step % 7 == 0 ? 3 : 1;  // some at the same instant
    for (int k = 0; k < burst; ++k, ++id) tx->send({parseIpv4("10.0.0.2"), 9}, reinterpret_cast<const std::uint8_t*>(&id), sizeof id);
    clock.advanceBy(static_cast<Nanoseconds>(prng.uniform() * 200'000));
    while (auto d = rx->receive(buffer, sizeof buffer)) got.push_back(*reinterpret_cast<const std::uint32_t*>(buffer));
  }
  clock.advanceBy(10'000'000);
  while (auto d = rx->receive(buffer, sizeof buffer)) got.push_back(*reinterpret_cast<const std::uint32_t*>(buffer));
  std::sort(expected.begin(), expected.end(), [](const Sent& x, const Sent& y) { return x.due != y.due ? x.due < y.due : x.order < y.order; });
  std::vector<std::uint32_t> want;
  for (const Sent& e : expected) want.push_back(e.id);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

TEST_F(VirtualNetworkTest, RejectsBadHosts) {
  EXPECT_THROW(network.addHost("dup", parseIpv4("10.0.0.1")), std::invalid_argument);
  EXPECT_THROW(network.addHost("mc", parseIpv4("239.1.1.1")), std::invalid_argument);
  EXPECT_THROW(network.host(parseIpv4("10.9.9.9")), std::invalid_argument);
}

TEST(Endpoint, ParsesAndFormats) {
  EXPECT_EQ(parseIpv4("239.69.0.1"), 0xEF450001u);
  EXPECT_EQ(formatEndpoint(parseEndpoint("10.67.0.2:5004")), "10.67.0.2:5004");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d", "1.2.3.4 "}) {
    EXPECT_THROW(parseIpv4(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(parseEndpoint("1.2.3.4:70000"), std::invalid_argument);
  EXPECT_TRUE(isMulticast(parseIpv4("224.0.1.129")));
  EXPECT_FALSE(isMulticast(parseIpv4("10.0.0.1")));
}

TEST(Prng, IsDeterministicAndRoughlyUniform) {
  Prng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next(), b.next());
  EXPECT_NE(Prng(7).next(), c.next());
  Prng p(1);
  double sum = 0, sumSq = 0;
  constexpr int kN = 200'000;
  for (int i = 0; i < kN; ++i) {
    const double x = p.normal();
    sum += x;
    sumSq += x * x;
  }
  EXPECT_NEAR(sum / kN, 0.0, 0.02);
  EXPECT_NEAR(sumSq / kN, 1.0, 0.02);
  int buckets[10] = {};
  for (int i = 0; i < kN; ++i) ++buckets[p.below(10)];
  for (int count : buckets) EXPECT_NEAR(count, kN / 10, kN / 100);
}

}  // namespace
}  // namespace aes67
