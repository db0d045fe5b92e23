// DnsSdBrowser, sans-IO and on the VirtualNetwork: the PTR question and its doubling
// interval, known answers, resolving SRV/TXT then A, goodbyes, TTL expiry, cache-flush,
// the cache bound, and bad datagrams counted by reason. The crossing with the lab's
// independent mDNS responder is native/test/mdns.test.ts.
#include <gtest/gtest.h>

#include "engine/base/virtual_network.hpp"
#include "engine/mdns/dns_sd_browser.hpp"

namespace aes67 {
namespace {

constexpr Nanoseconds kS = kNanosPerSecond;
const DnsName kInstance = {"Stage box 1, mix", "_rtsp", "_tcp", "local"};

DnsRecord ptr(std::uint32_t ttl = 4500, const DnsName& target = kInstance) {
  DnsRecord r;
  r.name = dnsName("_ravenna_session._sub._rtsp._tcp.local");
  r.type = dns::kPtr;
  r.ttl = ttl;
  r.target = target;
  return r;
}
DnsRecord srv(std::uint16_t port = 554, std::uint32_t ttl = 120, bool flush = true) {
  DnsRecord r;
  r.name = kInstance;
  r.type = dns::kSrv;
  r.ttl = ttl;
  r.cacheFlush = flush;
  r.port = port;
  r.target = dnsName("horus.local");
  return r;
}
DnsRecord txt() {
  DnsRecord r;
  r.name = kInstance;
  r.type = dns::kTxt;
  r.ttl = 4500;
  r.txt = {"", "ver=1"};
  return r;
}
DnsRecord a(const std::string& address = "10.67.180.1", std::uint32_t ttl = 120) {
  DnsRecord r;
  r.name = dnsName("horus.local");
  r.type = dns::kA;
  r.ttl = ttl;
  r.cacheFlush = true;
  r.address = parseIpv4(address);
  return r;
}

std::vector<std::uint8_t> response(std::vector<DnsRecord> answers, std::vector<DnsRecord> additionals = {}) {
  DnsMessage m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  m.answers = std::move(answers);
  m.additionals = std::move(additionals);
  return writeDns(m);
}

void give(DnsSdBrowser& b, const std::vector<std::uint8_t>& p, Nanoseconds now) { b.handle(p.data(), p.size(), now); }

DnsMessage parsed(const std::vector<std::uint8_t>& bytes) {
  DnsMessage m;
  EXPECT_EQ(parseDns(bytes.data(), bytes.size(), m), DnsParseError::kNone);
  return m;
}

TEST(DnsSdBrowser, AsksForRavennaSessionsAtDoublingIntervals) {
  DnsSdBrowserConfig c;
  c.maxInterval = 8 * kS;
  DnsSdBrowser b(c);
  EXPECT_EQ(formatDnsName(b.browseName()), "_ravenna_session._sub._rtsp._tcp.local");
  std::vector<Nanoseconds> times;
  Nanoseconds now = 0;
  for (int i = 0; i < 7; ++i) {
    const Nanoseconds next = b.update(now);
    const auto q = b.takeQueries();
    ASSERT_EQ(q.size(), 1u);
    const DnsMessage m = parsed(q[0]);
    EXPECT_FALSE(m.isResponse());
    ASSERT_EQ(m.questions.size(), 1u);
    EXPECT_EQ(m.questions[0].type, dns::kPtr);
    EXPECT_TRUE(sameDnsName(m.questions[0].name, b.browseName()));
    times.push_back(now);
    EXPECT_TRUE(b.takeQueries().empty());
    now = next;
  }
  EXPECT_EQ(times, (std::vector<Nanoseconds>{0, 1 * kS, 3 * kS, 7 * kS, 15 * kS, 23 * kS, 31 * kS}));
}

TEST(DnsSdBrowser, ResolvesAnInstanceFromOneResponse) {
  DnsSdBrowser b{DnsSdBrowserConfig{}};
  b.update(0);
  b.takeQueries();
  give(b, response({ptr()}, {srv(), txt(), a()}), 100'000'000);
  const auto list = b.instances();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "Stage box 1, mix");
  EXPECT_EQ(formatDnsName(list[0].host), "horus.local");
  EXPECT_EQ(formatIpv4(list[0].address), "10.67.180.1");
  EXPECT_EQ(list[0].port, 554);
  EXPECT_EQ(list[0].txt, (std::vector<std::string>{"ver=1"}));
  EXPECT_TRUE(list[0].resolved());
  ASSERT_TRUE(b.find("Stage box 1, mix"));
  EXPECT_FALSE(b.find("stage box 1, mix"));  // instance names are matched as written
  // Resolved: no SRV/TXT/A questions; the next PTR question lists the known answer.
  b.update(1 * kS);
  const auto q = b.takeQueries();
  ASSERT_EQ(q.size(), 1u);
  const DnsMessage m = parsed(q[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].target, kInstance);
  EXPECT_EQ(m.answers[0].ttl, 4499u);
}

TEST(DnsSdBrowser, AsksForWhatAnInstanceLacks) {
  DnsSdBrowser b{DnsSdBrowserConfig{}};
  b.update(0);
  b.takeQueries();
  give(b, response({ptr()}), 0);
  b.update(kS / 2);  // the PTR question is not due; the resolve questions are
  auto q = b.takeQueries();
  ASSERT_EQ(q.size(), 1u);
  DnsMessage m = parsed(q[0]);
  ASSERT_EQ(m.questions.size(), 2u);
  EXPECT_EQ(m.questions[0].type, dns::kSrv);
  EXPECT_EQ(m.questions[1].type, dns::kTxt);
  EXPECT_EQ(m.questions[0].name, kInstance);
  EXPECT_FALSE(b.instances()[0].resolved());
  b.update(kS / 2 + 1);  // rate-limited
  EXPECT_TRUE(b.takeQueries().empty());
  give(b, response({srv()}), kS);
  b.update(kS + kS / 2);
  q = b.takeQueries();
  ASSERT_EQ(q.size(), 2u);  // the PTR question (due at 1 s) and the A question
  m = parsed(q[1]);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].type, dns::kA);
  EXPECT_EQ(formatDnsName(m.questions[0].name), "horus.local");
  give(b, response({a()}), 2 * kS);
  EXPECT_TRUE(b.instances()[0].resolved());
}

TEST(DnsSdBrowser, GoodbyesAndTtlsRemoveRecords) {
  DnsSdBrowser b{DnsSdBrowserConfig{}};
  give(b, response({ptr()}, {srv(), txt(), a()}), 0);
  give(b, response({ptr(0)}), 10 * kS);  // goodbye
  EXPECT_EQ(b.stats().goodbyes, 1u);
  b.update(10 * kS + kS - 1);
  EXPECT_EQ(b.instances().size(), 1u);
  b.update(11 * kS);
  EXPECT_TRUE(b.instances().empty());
  // The host records run out after their 120 s.
  EXPECT_EQ(b.cachedRecords(), 3u);
  b.update(120 * kS);
  EXPECT_EQ(b.cachedRecords(), 1u);  // the TXT (4500 s) stays
}

TEST(DnsSdBrowser, ACacheFlushRecordReplacesOlderOnes) {
  DnsSdBrowser b{DnsSdBrowserConfig{}};
  give(b, response({ptr()}, {srv(554), a()}), 0);
  give(b, response({srv(8554)}), 5 * kS);  // the device moved its RTSP port
  auto i = b.find("Stage box 1, mix");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->port, 8554);
  // Without the flush bit both are kept, the older first.
  DnsSdBrowser shared{DnsSdBrowserConfig{}};
  give(shared, response({ptr()}, {srv(554, 120, false), a()}), 0);
  give(shared, response({srv(8554, 120, false)}), 5 * kS);
  EXPECT_EQ(shared.find("Stage box 1, mix")->port, 554);
  // A second A record in the same second as the first is not flushed (one response may carry several).
  give(b, response({a("10.67.180.9")}), 5 * kS + 1);
  give(b, response({a("10.67.180.1")}), 5 * kS + 2);
  EXPECT_EQ(b.cachedRecords(), 4u);
}

TEST(DnsSdBrowser, IgnoresOtherServicesQueriesAndOtherClasses) {
  DnsSdBrowser b{DnsSdBrowserConfig{}};
  give(b, response({ptr(4500, {"x", "_http", "_tcp", "local"})}), 0);  // a PTR to another service
  DnsMessage q;
  q.answers = {ptr()};  // a query's known answers are not answers to us
  give(b, writeDns(q), 0);
  DnsRecord chaos = ptr();
  chaos.klass = 3;
  give(b, response({chaos}), 0);
  EXPECT_TRUE(b.instances().empty());
  EXPECT_EQ(b.stats().responses, 2u);
  EXPECT_EQ(b.stats().received, 3u);
}

TEST(DnsSdBrowser, TheCacheIsBoundedAndBadDatagramsAreCounted) {
  DnsSdBrowserConfig c;
  c.maxRecords = 10;
  DnsSdBrowser b(c);
  for (int i = 0; i < 50; ++i) give(b, response({ptr(4500, {"s" + std::to_string(i), "_rtsp", "_tcp", "local"})}), 0);
  EXPECT_EQ(b.cachedRecords(), 10u);
  EXPECT_EQ(b.stats().cacheFull, 40u);
  const std::vector<std::uint8_t> loop = {0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 12, 0, 1};
  give(b, loop, 0);
  give(b, {1, 2, 3}, 0);
  EXPECT_EQ(b.stats().dropped[static_cast<std::size_t>(DnsParseError::kBadPointer)], 1u);
  EXPECT_EQ(b.stats().dropped[static_cast<std::size_t>(DnsParseError::kTruncated)], 1u);
}

TEST(DnsSdBrowser, FindsAResponderOnTheVirtualNetwork) {
  VirtualClock clock(0);
  VirtualNetwork network(clock, 50'000);
  Transport& dev = network.addHost("device", parseIpv4("10.67.180.2"));
  Transport& ravenna = network.addHost("ravenna", parseIpv4("10.67.180.1"));
  SocketOptions o;
  o.localPort = kMdnsPort;
  auto responder = ravenna.open(o);
  responder->joinMulticast(kMdnsGroup);
  DnsSdBrowser b(dev);
  std::vector<std::uint8_t> buf(9000);
  int answered = 0;
  while (clock.now() < 3 * kS) {
    const Nanoseconds next = b.poll();
    network.deliverDue();
    while (auto d = responder->receive(buf.data(), buf.size())) {
      DnsMessage m;
      if (parseDns(buf.data(), d->size, m) != DnsParseError::kNone || m.isResponse()) continue;
      EXPECT_EQ(d->source.address, parseIpv4("10.67.180.2"));
      EXPECT_EQ(d->source.port, kMdnsPort);
      const auto r = response({ptr()}, {srv(), a()});
      responder->send({kMdnsGroup, kMdnsPort}, r.data(), r.size());
      ++answered;
    }
    const Nanoseconds t = std::min({next, network.nextDeliveryTime(), 3 * kS});
    clock.advanceTo(std::max(t, clock.now() + 1));
  }
  b.poll();
  ASSERT_TRUE(b.find("Stage box 1, mix"));
  EXPECT_TRUE(b.find("Stage box 1, mix")->resolved());
  EXPECT_EQ(answered, 2);  // the questions at 0 and 1 s
  EXPECT_EQ(b.stats().queriesSent, 3u);  // and the one at 3 s, sent by the last poll
}

}  // namespace
}  // namespace aes67
