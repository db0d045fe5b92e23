#include "engine/rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aes67 {
namespace {

// RFC 3550 5.1 layout written byte by byte: V=2 P=1 X=1 CC=2 M=1 PT=97.
std::vector<std::uint8_t> fullPacket() {
  return {0xB2, 0xE1, 0xFF, 0xFE, 0x11, 0x22, 0x33, 0x44, 0xDE, 0xAD, 0xBE, 0xEF,  // header
          0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,                          // CSRCs
          0xBE, 0xDE, 0x00, 0x01, 0xAA, 0xBB, 0xCC, 0xDD,                          // extension
          0x01, 0x02, 0x03, 0x04, 0x05, 0x06,                                      // payload
          0x00, 0x00, 0x03};                                                       // padding
}

TEST(RtpPacket, ParsesEveryFieldOfTheFixedHeader) {
  const auto bytes = fullPacket();
  RtpPacketView p;
  ASSERT_EQ(parseRtp(bytes.data(), bytes.size(), p), RtpParseError::kNone);
  EXPECT_TRUE(p.padding);
  EXPECT_TRUE(p.extension);
  EXPECT_TRUE(p.marker);
  EXPECT_EQ(p.payloadType, 97);
  EXPECT_EQ(p.sequenceNumber, 0xFFFE);
  EXPECT_EQ(p.timestamp, 0x11223344u);
  EXPECT_EQ(p.ssrc, 0xDEADBEEFu);
  ASSERT_EQ(p.csrcCount, 2);
  EXPECT_EQ(p.csrcs[1], 2u);
  EXPECT_EQ(p.extensionProfile, 0xBEDE);
  EXPECT_EQ(p.extensionLength, 4u);
  EXPECT_EQ(p.extensionData[0], 0xAA);
  EXPECT_EQ(p.payloadSize, 6u);
  EXPECT_EQ(p.payload[5], 0x06);
  EXPECT_EQ(p.paddingSize, 3u);
}

TEST(RtpPacket, ReportsEachMalformationByReason) {
  RtpPacketView p;
  auto bytes = fullPacket();
  EXPECT_EQ(parseRtp(bytes.data(), 11, p), RtpParseError::kTruncated);
  EXPECT_EQ(parseRtp(bytes.data(), 16, p), RtpParseError::kTruncated) << "CSRC list cut";
  EXPECT_EQ(parseRtp(bytes.data(), 26, p), RtpParseError::kTruncated) << "extension cut";
  auto v1 = bytes;
  v1[0] = 0x72;
  EXPECT_EQ(parseRtp(v1.data(), v1.size(), p), RtpParseError::kBadVersion);
  auto pad = bytes;
  pad.back() = 0;
  EXPECT_EQ(parseRtp(pad.data(), pad.size(), p), RtpParseError::kBadPadding);
  pad.back() = 200;
  EXPECT_EQ(parseRtp(pad.data(), pad.size(), p), RtpParseError::kBadPadding);
  // Every prefix of a valid packet parses or fails cleanly; none reads past the end.
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    parseRtp(prefix.data(), prefix.size(), p);
  }
}

TEST(RtpPacket, WritesTheHeaderItParses) {
  RtpHeaderFields f;
  f.marker = true;
  f.payloadType = 98;
  f.sequenceNumber = 65535;
  f.timestamp = 0xFFFFFFF0u;
  f.ssrc = 7;
  std::uint8_t out[kRtpHeaderSize + 3] = {};
  writeRtpHeader(f, out);
  RtpPacketView p;
  ASSERT_EQ(parseRtp(out, sizeof out, p), RtpParseError::kNone);
  EXPECT_TRUE(p.marker);
  EXPECT_EQ(p.payloadType, 98);
  EXPECT_EQ(p.sequenceNumber, 65535);
  EXPECT_EQ(p.timestamp, 0xFFFFFFF0u);
  EXPECT_EQ(p.ssrc, 7u);
  EXPECT_EQ(p.payloadSize, 3u);
}

}  // namespace
}  // namespace aes67
