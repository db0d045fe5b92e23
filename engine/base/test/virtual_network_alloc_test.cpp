// The virtual network allocates nothing per datagram once warmed up: the lab's virtual-time
// runs push ~10^4 datagrams per virtual second through it (bench/virtual-speed.ts), so an
// allocation per datagram was a large share of a run. Counted with the counting operator
// new of test-support/counting_heap.hpp (linked into engine_base_test).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "test-support/counting_heap.hpp"

namespace aes67 {
namespace {

// 8 multicast streams of 1164-byte datagrams each 1 ms, two receivers per group (one
// source-filtered), unicast replies of PTP size, and one socket that never reads (its
// queue fills to its limit and then counts overflows).
struct Traffic {
  VirtualClock clock{0};
  VirtualNetwork network{clock, 30'000};
  Transport& tx = network.addHost("tx", parseIpv4("10.67.1.1"));
  Transport& rx = network.addHost("rx", parseIpv4("10.67.3.1"));
  std::unique_ptr<DatagramSocket> out = tx.open({});
  std::unique_ptr<DatagramSocket> reply;
  std::unique_ptr<DatagramSocket> replyIn;
  std::unique_ptr<DatagramSocket> deaf;
  std::vector<std::unique_ptr<DatagramSocket>> ins;
  std::vector<std::uint8_t> rtp = std::vector<std::uint8_t>(12 + 48 * 8 * 3, 0x5a);
  std::vector<std::uint8_t> ptp = std::vector<std::uint8_t>(44, 0x11);
  std::uint8_t buffer[2048];
  std::uint64_t received = 0;

  Traffic() {
    SocketOptions o;
    o.localPort = 5004;
    for (int g = 0; g < 8; ++g) {
      const Ipv4Address group = parseIpv4("239.67.9." + std::to_string(g + 1));
      ins.push_back(rx.open(o));
      ins.back()->joinMulticast(group);
      ins.push_back(rx.open(o));
      ins.back()->joinMulticast(group, parseIpv4("10.67.1.1"));
    }
    SocketOptions small;
    small.localPort = 5004;
    small.receiveQueueLimit = 8;
    deaf = rx.open(small);
    deaf->joinMulticast(parseIpv4("239.67.9.1"));
    SocketOptions p;
    p.localPort = 319;
    reply = rx.open(p);
    replyIn = tx.open(p);
  }
};

TEST(VirtualNetworkAllocation, NoAllocationPerDatagramInTheSteadyState) {
  // Addresses are parsed before the counted part (std::to_string allocates for the test).
  Traffic t;
  std::vector<Ipv4Endpoint> groups;
  for (int g = 0; g < 8; ++g) groups.push_back({parseIpv4("239.67.9." + std::to_string(g + 1)), 5004});
  const Ipv4Endpoint master{parseIpv4("10.67.1.1"), 319};
  const std::uint8_t* view = nullptr;
  auto step = [&] {
    // Half the streams by sendGather (header and payload apart), as the native senders do.
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (g % 2 == 0) t.out->send(groups[g], t.rtp.data(), t.rtp.size());
      else t.network.sendGather(*t.out, groups[g], t.rtp.data(), 12, t.rtp.data() + 12, t.rtp.size() - 12);
    }
    t.reply->send(master, t.ptp.data(), t.ptp.size());
    t.clock.advanceBy(1'000'000);
    // Half the sockets read in place (peek), as the native receivers do.
    for (std::size_t i = 0; i < t.ins.size(); ++i) {
      if (i % 2 == 0) {
        while (t.ins[i]->receive(t.buffer, sizeof t.buffer)) ++t.received;
      } else {
        while (t.network.peek(*t.ins[i], view)) ++t.received;
      }
    }
    while (t.replyIn->receive(t.buffer, sizeof t.buffer)) ++t.received;
  };
  for (int k = 0; k < 100; ++k) step();  // warm-up: the pool, the rings, the in-flight heap
  const std::uint64_t allocationsBefore = heapAllocations();
  const std::uint64_t receivedBefore = t.received;
  const std::uint64_t sentBefore = t.network.stats().sent;
  HeapWatch watch;
  for (int k = 0; k < 2000; ++k) step();
  EXPECT_EQ(heapAllocations() - allocationsBefore, 0u) << "allocations in 2000 ms of steady traffic";
  EXPECT_EQ(watch.growth(), 0);
  EXPECT_EQ(t.network.stats().sent - sentBefore, 2000u * 9);
  EXPECT_EQ(t.received - receivedBefore, 2000u * (16 + 1)) << "every datagram reached its receivers";
  EXPECT_EQ(t.deaf->receiveOverflows(), 2100u - 8) << "the deaf socket's queue held its limit and counted the rest";
}

TEST(VirtualNetworkAllocation, DuplicatedAndDelayedDatagramsShareOnePooledCopy) {
  // The impairment hook doubles every datagram with different delays; both copies arrive
  // with the original bytes even though the sender's buffer changed in between, and the
  // pool does not grow once warm.
  VirtualClock clock{0};
  VirtualNetwork network{clock, 0};
  network.setImpairment([](const VirtualPacket&, std::vector<Nanoseconds>& d) { d = {0, 5'000'000}; });
  Transport& a = network.addHost("a", parseIpv4("10.0.0.1"));
  Transport& b = network.addHost("b", parseIpv4("10.0.0.2"));
  SocketOptions o;
  o.localPort = 9;
  auto rx = b.open(o);
  auto tx = a.open({});
  std::vector<std::uint8_t> payload(100);
  std::uint8_t got[200];
  auto step = [&](std::uint8_t k) {
    std::fill(payload.begin(), payload.end(), k);
    tx->send({parseIpv4("10.0.0.2"), 9}, payload.data(), payload.size());
    clock.advanceBy(1'000'000);
    int n = 0;
    while (auto info = rx->receive(got, sizeof got)) {
      ++n;
      EXPECT_EQ(info->size, 100u);
      // This step's immediate copy, then the delayed copy sent 4 steps ago (due 5 ms after
      // it, on the clock this step advanced to).
      const std::uint8_t expected = n == 1 ? k : static_cast<std::uint8_t>(k - 4);
      EXPECT_EQ(got[0], expected);
      EXPECT_EQ(got[99], expected);
    }
    EXPECT_EQ(n, k >= 4 ? 2 : 1);
  };
  std::uint8_t k = 0;
  for (; k < 20; ++k) step(k);
  const std::uint64_t before = heapAllocations();
  for (; k < 200; ++k) step(k);
  EXPECT_EQ(heapAllocations() - before, 0u);
  EXPECT_EQ(network.stats().duplicatedByImpairment, 200u);
}

}  // namespace
}  // namespace aes67

namespace aes67 {
namespace {

TEST(VirtualNetworkInPlace, GatherAndPeekCarryTheSameDatagramsAsSendAndReceive) {
  // Two identical networks, one driven by send/receive, the other by sendGather/peek with
  // the datagram split at every point: same bytes, same DatagramInfo.
  VirtualClock clock{0};
  VirtualNetwork plain{clock, 1'000};
  VirtualNetwork gathered{clock, 1'000};
  const Ipv4Address a = parseIpv4("10.0.0.1"), b = parseIpv4("10.0.0.2");
  SocketOptions o;
  o.localPort = 5004;
  auto txPlain = plain.addHost("a", a).open({});
  auto rxPlain = plain.addHost("b", b).open(o);
  auto txGathered = gathered.addHost("a", a).open({});
  auto rxGathered = gathered.addHost("b", b).open(o);
  const Ipv4Endpoint group{parseIpv4("239.1.2.3"), 5004};
  rxPlain->joinMulticast(group.address);
  rxGathered->joinMulticast(group.address);
  std::vector<std::uint8_t> datagram(300);
  for (std::size_t i = 0; i < datagram.size(); ++i) datagram[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::uint8_t got[400];
  for (std::size_t split = 0; split <= datagram.size(); split += 13) {
    txPlain->send(group, datagram.data(), datagram.size());
    gathered.sendGather(*txGathered, group, datagram.data(), split, datagram.data() + split, datagram.size() - split);
    const std::uint8_t* view = nullptr;
    EXPECT_FALSE(gathered.peek(*rxGathered, view)) << "not before the link delay";
    clock.advanceBy(1'000);
    const auto want = rxPlain->receive(got, sizeof got);
    const auto have = gathered.peek(*rxGathered, view);
    ASSERT_TRUE(want && have);
    EXPECT_EQ(have->size, want->size);
    EXPECT_EQ(have->source, want->source);
    EXPECT_EQ(have->destination, want->destination);
    EXPECT_EQ(have->receivedAt, want->receivedAt);
    EXPECT_EQ(have->dscp, want->dscp);
    EXPECT_EQ(have->truncated, want->truncated);
    // The view survives sends on the same network until the socket's next peek.
    gathered.sendGather(*txGathered, {b, 9}, got, 50, nullptr, 0);
    EXPECT_EQ(std::vector<std::uint8_t>(view, view + have->size), std::vector<std::uint8_t>(got, got + want->size)) << "split at " << split;
  }
  const std::uint8_t* none = nullptr;
  EXPECT_THROW(gathered.peek(*rxPlain, none), std::invalid_argument);
  EXPECT_THROW(plain.sendGather(*txGathered, group, datagram.data(), 1, nullptr, 0), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
