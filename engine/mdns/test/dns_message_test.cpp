// The DNS codec: what it writes reads back the same; compression pointers in hand-made
// packets (RFC 1035 §4.1.4 examples) are followed; forward and looping pointers, bad
// label types, long names, short records and every truncation are refused by reason.
#include <gtest/gtest.h>

#include "engine/mdns/dns_message.hpp"

namespace aes67 {
namespace {

DnsRecord record(const std::string& name, std::uint16_t type, std::uint32_t ttl) {
  DnsRecord r;
  r.name = dnsName(name);
  r.type = type;
  r.ttl = ttl;
  return r;
}

DnsMessage ravennaResponse() {
  DnsMessage m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  DnsRecord ptr = record("_ravenna_session._sub._rtsp._tcp.local", dns::kPtr, 4500);
  ptr.target = {"Stage box 1, mix. A", "_rtsp", "_tcp", "local"};
  DnsRecord srv = record("", dns::kSrv, 120);
  srv.name = ptr.target;
  srv.cacheFlush = true;
  srv.port = 554;
  srv.target = dnsName("horus.local");
  DnsRecord txt = record("", dns::kTxt, 4500);
  txt.name = ptr.target;
  txt.txt = {"txtvers=1", ""};
  DnsRecord a = record("horus.local", dns::kA, 120);
  a.cacheFlush = true;
  a.address = parseIpv4("10.67.180.1");
  DnsRecord aaaa = record("horus.local", dns::kAaaa, 120);
  aaaa.rdata = std::vector<std::uint8_t>(16, 0xfe);
  m.answers = {ptr};
  m.additionals = {srv, txt, a, aaaa};
  return m;
}

TEST(DnsMessage, WhatItWritesReadsBackTheSame) {
  const DnsMessage m = ravennaResponse();
  const auto bytes = writeDns(m);
  DnsMessage back;
  ASSERT_EQ(parseDns(bytes.data(), bytes.size(), back), DnsParseError::kNone);
  EXPECT_TRUE(back.isResponse());
  ASSERT_EQ(back.answers.size(), 1u);
  ASSERT_EQ(back.additionals.size(), 4u);
  EXPECT_EQ(back.answers[0].target, m.answers[0].target);  // a label with dots, comma and spaces survives
  EXPECT_EQ(formatDnsName(back.answers[0].target), "Stage box 1, mix\\. A._rtsp._tcp.local");
  EXPECT_EQ(back.additionals[0].port, 554);
  EXPECT_TRUE(back.additionals[0].cacheFlush);
  EXPECT_EQ(back.additionals[0].klass, dns::kClassIn);
  EXPECT_EQ(back.additionals[0].target, dnsName("horus.local"));
  EXPECT_EQ(back.additionals[1].txt, (std::vector<std::string>{"txtvers=1", ""}));
  EXPECT_EQ(formatIpv4(back.additionals[2].address), "10.67.180.1");
  EXPECT_EQ(back.additionals[3].rdata, std::vector<std::uint8_t>(16, 0xfe));
  EXPECT_EQ(back.additionals[3].ttl, 120u);
  EXPECT_EQ(writeDns(back), bytes);
}

TEST(DnsMessage, QuestionsKeepTheUnicastResponseBit) {
  DnsMessage q;
  q.questions.push_back({dnsName("_rtsp._tcp.local"), dns::kPtr, dns::kClassIn, true});
  const auto bytes = writeDns(q);
  DnsMessage back;
  ASSERT_EQ(parseDns(bytes.data(), bytes.size(), back), DnsParseError::kNone);
  EXPECT_FALSE(back.isResponse());
  ASSERT_EQ(back.questions.size(), 1u);
  EXPECT_TRUE(back.questions[0].unicastResponse);
  EXPECT_EQ(back.questions[0].klass, dns::kClassIn);
}

// A response written by hand with compression: the PTR's owner at 12, its target's
// "_rtsp._tcp.local" reused from offset 35 (inside the owner), the SRV's owner a pointer
// to the PTR's target, the SRV target's "local" a pointer too.
std::vector<std::uint8_t> compressed() {
  std::vector<std::uint8_t> p = {0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0};
  auto label = [&](const std::string& s) {
    p.push_back(static_cast<std::uint8_t>(s.size()));
    p.insert(p.end(), s.begin(), s.end());
  };
  // offset 12: _ravenna_session._sub._rtsp._tcp.local
  label("_ravenna_session");  // 12..28
  label("_sub");              // 29..33
  label("_rtsp");             // 34..39
  label("_tcp");              // 40..44
  label("local");             // 45..50
  p.push_back(0);             // 51
  p.insert(p.end(), {0, 12, 0, 1, 0, 0, 0x11, 0x94});  // PTR IN 4500
  const std::size_t rdlenAt = p.size();
  p.insert(p.end(), {0, 0});
  const std::size_t targetAt = p.size();
  label("Studio");
  p.insert(p.end(), {0xC0, 34});  // -> _rtsp._tcp.local
  p[rdlenAt + 1] = static_cast<std::uint8_t>(p.size() - targetAt);
  // SRV: owner -> the PTR's target
  p.insert(p.end(), {0xC0, static_cast<std::uint8_t>(targetAt), 0, 33, 0x80, 1, 0, 0, 0, 120});
  const std::size_t srvLenAt = p.size();
  p.insert(p.end(), {0, 0, 0, 0, 0, 0, 0x02, 0x2A});  // priority 0, weight 0, port 554
  label("horus");
  p.insert(p.end(), {0xC0, 45});  // -> local
  p[srvLenAt + 1] = static_cast<std::uint8_t>(p.size() - srvLenAt - 2);
  return p;
}

TEST(DnsMessage, FollowsCompressionPointers) {
  const auto p = compressed();
  DnsMessage m;
  ASSERT_EQ(parseDns(p.data(), p.size(), m), DnsParseError::kNone);
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(formatDnsName(m.answers[0].name), "_ravenna_session._sub._rtsp._tcp.local");
  EXPECT_EQ(formatDnsName(m.answers[0].target), "Studio._rtsp._tcp.local");
  EXPECT_EQ(formatDnsName(m.answers[1].name), "Studio._rtsp._tcp.local");
  EXPECT_TRUE(m.answers[1].cacheFlush);
  EXPECT_EQ(m.answers[1].port, 554);
  EXPECT_EQ(formatDnsName(m.answers[1].target), "horus.local");
}

TEST(DnsMessage, RefusesBadPointersLabelsAndRecordsByReason) {
  auto expectError = [](std::vector<std::uint8_t> p, DnsParseError e, const char* what) {
    DnsMessage m;
    EXPECT_EQ(parseDns(p.data(), p.size(), m), e) << what;
  };
  const std::vector<std::uint8_t> header1q = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  auto withName = [&](std::vector<std::uint8_t> name) {
    auto p = header1q;
    p.insert(p.end(), name.begin(), name.end());
    p.insert(p.end(), {0, 12, 0, 1});
    return p;
  };
  expectError(withName({0xC0, 12}), DnsParseError::kBadPointer, "pointer to itself");
  expectError(withName({0xC0, 40}), DnsParseError::kBadPointer, "forward pointer");
  expectError(withName({1, 'a', 0xC0, 12}), DnsParseError::kBadPointer, "loop back to the start");
  expectError(withName({0x41, 'a', 0}), DnsParseError::kBadName, "extended label type");
  std::vector<std::uint8_t> longName;
  for (int i = 0; i < 5; ++i) {
    longName.push_back(60);
    longName.insert(longName.end(), 60, 'x');
  }
  longName.push_back(0);
  expectError(withName(longName), DnsParseError::kBadName, "name over 255 bytes");
  expectError({0, 0, 0}, DnsParseError::kTruncated, "short header");
  expectError({0, 0, 0, 0, 0, 200, 0, 200, 0, 0, 0, 0}, DnsParseError::kTooManyRecords, "400 records announced");

  // An A record with 5 bytes of data, a TXT string running past its record, a short SRV.
  auto withRecord = [](std::uint16_t type, std::vector<std::uint8_t> rdata) {
    std::vector<std::uint8_t> p = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 'h', 0, 0, static_cast<std::uint8_t>(type), 0, 1, 0, 0, 0, 120, 0,
                                   static_cast<std::uint8_t>(rdata.size())};
    for (std::uint8_t b : rdata) p.push_back(b);  // (insert() trips a GCC 12 -Warray-bounds false positive)
    return p;
  };
  expectError(withRecord(dns::kA, {10, 0, 0, 1, 9}), DnsParseError::kBadRdata, "A of 5 bytes");
  expectError(withRecord(dns::kTxt, {5, 'a', 'b'}), DnsParseError::kBadRdata, "TXT string past its record");
  expectError(withRecord(dns::kSrv, {0, 0, 0, 0, 2}), DnsParseError::kBadRdata, "SRV too short");
  expectError(withRecord(dns::kPtr, {1, 'x', 0, 7}), DnsParseError::kBadRdata, "PTR with bytes after its name");
}

TEST(DnsMessage, EveryTruncationIsRefusedNeverOverread) {
  const auto full = writeDns(ravennaResponse());
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    DnsMessage m;
    EXPECT_NE(parseDns(cut.data(), cut.size(), m), DnsParseError::kNone) << n;
  }
}

TEST(DnsMessage, NamesAreLabelsComparedWithoutCase) {
  EXPECT_EQ(dnsName("a\\.b.c."), (DnsName{"a.b", "c"}));
  EXPECT_EQ(formatDnsName(DnsName{"a.b", "c\\d"}), "a\\.b.c\\\\d");
  EXPECT_TRUE(sameDnsName(dnsName("Horus.LOCAL"), dnsName("horus.local")));
  EXPECT_FALSE(sameDnsName(dnsName("horus.local"), dnsName("horus2.local")));
  DnsMessage m;
  DnsQuestion q;
  q.name = {std::string(64, 'x')};
  m.questions.push_back(q);
  EXPECT_THROW(writeDns(m), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
