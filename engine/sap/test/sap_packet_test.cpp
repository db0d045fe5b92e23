#include "engine/sap/sap_packet.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/base/prng.hpp"

namespace aes67 {
namespace {

const std::string kSdp = "v=0\r\no=- 1 1 IN IP4 10.67.20.5\r\ns=AVIO\r\nc=IN IP4 239.69.20.5/32\r\nt=0 0\r\n";

std::vector<std::uint8_t> bytes(std::initializer_list<int> b) {
  std::vector<std::uint8_t> v;
  for (int x : b) v.push_back(static_cast<std::uint8_t>(x));
  return v;
}

TEST(SapPacket, BuildsTheRfc2974LayoutByteForByte) {
  SapBuildOptions o;
  o.msgIdHash = 0x1234;
  o.origin = parseIpv4("10.67.20.5");
  o.sdp = "v=0\r\n";
  const auto p = buildSap(o);
  // V=1 (001), A=0, R=0, T=0, E=0, C=0 | auth len 0 | hash | origin | "application/sdp\0" | SDP
  const auto head = bytes({0x20, 0x00, 0x12, 0x34, 10, 67, 20, 5});
  ASSERT_GE(p.size(), 8u);
  EXPECT_TRUE(std::equal(head.begin(), head.end(), p.begin()));
  EXPECT_EQ(std::string(p.begin() + 8, p.end()), std::string("application/sdp\0v=0\r\n", 21));
  o.deletion = true;
  o.omitPayloadType = true;
  const auto d = buildSap(o);
  EXPECT_EQ(d[0], 0x24);
  EXPECT_EQ(std::string(d.begin() + 8, d.end()), "v=0\r\n");
}

TEST(SapPacket, ParsesWhatItBuilds) {
  for (bool deletion : {false, true})
    for (bool omit : {false, true})
      for (bool compressed : {false, true}) {
        SapBuildOptions o;
        o.deletion = deletion;
        o.omitPayloadType = omit;
        o.compressed = compressed && sapHasZlib();
        o.msgIdHash = 0xFFFE;
        o.origin = parseIpv4("10.67.20.6");
        o.sdp = kSdp;
        const auto b = buildSap(o);
        SapPacket p;
        ASSERT_EQ(parseSap(b.data(), b.size(), p), SapParseError::kNone);
        EXPECT_EQ(p.version, 1);
        EXPECT_EQ(p.deletion, deletion);
        EXPECT_EQ(p.compressed, o.compressed);
        EXPECT_EQ(p.msgIdHash, 0xFFFE);
        EXPECT_EQ(formatSapOrigin(p), "10.67.20.6");
        EXPECT_EQ(p.payloadType, "application/sdp");
        EXPECT_EQ(p.payloadTypePresent, !omit);
        EXPECT_EQ(p.sdp, kSdp);
      }
}

TEST(SapPacket, SkipsAuthenticationDataAndReadsIpv6OriginsAndOtherTypes) {
  auto b = bytes({0x20, 0x01, 0xAB, 0xCD, 10, 67, 20, 9, 0x10, 0, 0, 0});
  const std::string rest = std::string("text/plain\0v=0\r\n", 16);
  b.insert(b.end(), rest.begin(), rest.end());
  SapPacket p;
  ASSERT_EQ(parseSap(b.data(), b.size(), p), SapParseError::kNone);
  EXPECT_EQ(p.authBytes, 4u);
  EXPECT_EQ(p.payloadType, "text/plain");
  EXPECT_EQ(p.sdp, "v=0\r\n");
  auto v6 = bytes({0x30, 0, 0, 1, 0xFF, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 'v', '=', '0'});
  ASSERT_EQ(parseSap(v6.data(), v6.size(), p), SapParseError::kNone);
  EXPECT_TRUE(p.ipv6);
  EXPECT_EQ(formatSapOrigin(p), "ff15:0:0:0:0:0:0:101");
  auto enc = bytes({0x22, 0, 0, 1, 1, 2, 3, 4, 0x99, 0x98});
  ASSERT_EQ(parseSap(enc.data(), enc.size(), p), SapParseError::kNone);
  EXPECT_TRUE(p.encrypted);
  EXPECT_TRUE(p.sdp.empty());
}

TEST(SapPacket, EveryMalformationHasItsReason) {
  SapPacket p;
  auto check = [&p](std::vector<std::uint8_t> b, SapParseError want) {
    EXPECT_EQ(parseSap(b.data(), b.size(), p), want) << toString(want);
  };
  check(bytes({0x20, 0, 0}), SapParseError::kTruncated);
  check(bytes({0x20, 5, 0, 0, 1, 2, 3, 4}), SapParseError::kTruncated);          // auth data past the end
  check(bytes({0x30, 0, 0, 0, 1, 2, 3, 4}), SapParseError::kTruncated);          // IPv6 origin cut
  check(bytes({0x40, 0, 0, 0, 1, 2, 3, 4}), SapParseError::kBadVersion);
  check(bytes({0x00, 0, 0, 0, 1, 2, 3, 4}), SapParseError::kBadVersion);         // SAPv0
  check(bytes({0x20, 0, 0, 0, 1, 2, 3, 4}), SapParseError::kBadPayloadType);     // empty payload
  check(bytes({0x20, 0, 0, 0, 1, 2, 3, 4, 'x', 'y'}), SapParseError::kBadPayloadType);  // no NUL
  check(bytes({0x20, 0, 0, 0, 1, 2, 3, 4, 'x', 0}), SapParseError::kBadPayloadType);    // not type/subtype
  check(bytes({0x20, 0, 0, 0, 1, 2, 3, 4, 'a', '/', 0}), SapParseError::kBadPayloadType);
  check(bytes({0x20, 0, 0, 0, 1, 2, 3, 4, 'a', ' ', '/', 'b', 0}), SapParseError::kBadPayloadType);
  check(bytes({0x20, 0, 0, 0, 1, 2, 3, 4, '/', '/', 'b', 0}), SapParseError::kNone);    // as the lab's regex reads it
  if (sapHasZlib()) {
    check(bytes({0x21, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9}), SapParseError::kDecompressFailed);
    // A valid stream cut short.
    SapBuildOptions o;
    o.compressed = true;
    o.sdp = kSdp;
    auto z = buildSap(o);
    z.resize(z.size() - 3);
    check(z, SapParseError::kDecompressFailed);
    // A zip bomb beyond 64 KiB is refused.
    o.sdp = std::string(kSapMaxPayload + 10, 'a');
    check(buildSap(o), SapParseError::kDecompressFailed);
  } else {
    check(bytes({0x21, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9}), SapParseError::kNoZlib);
  }
  for (int e = 0; e <= static_cast<int>(SapParseError::kBadPayloadType); ++e) {
    EXPECT_STRNE(toString(static_cast<SapParseError>(e)), "unknown");
  }
  // Random bytes: parse or refuse, never crash or read past the end.
  Prng prng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> r(prng.below(64));
    for (auto& x : r) x = static_cast<std::uint8_t>(prng.next());
    if (!r.empty()) r[0] = static_cast<std::uint8_t>((r[0] & 0x1F) | 0x20);
    parseSap(r.data(), r.size(), p);
  }
}

TEST(SapPacket, MessageHashIsNeverZeroAndFollowsTheText) {
  EXPECT_NE(sapMessageHash(kSdp), sapMessageHash(kSdp + "a=x\r\n"));
  EXPECT_EQ(sapMessageHash(kSdp), sapMessageHash(kSdp));
  for (int i = 0; i < 100000; ++i) ASSERT_NE(sapMessageHash(std::to_string(i)), 0);
}

}  // namespace
}  // namespace aes67
