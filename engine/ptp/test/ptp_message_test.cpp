#include "engine/ptp/ptp_message.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "engine/base/prng.hpp"

namespace aes67 {
namespace {

// Bytes of a two-step Sync as IEEE 1588-2008 13.3 and 13.6 lay them out, written by hand
// (not by our writer): domain 0, flags twoStep|unicast, correction 1.5 ns, identity
// 00:1d:7f:ff:fe:80:02:4a port 1, sequence 0x1234, control 0, logMessageInterval -3,
// originTimestamp 0x0000_5e0b_c83c s + 123456789 ns.
const std::vector<std::uint8_t> kSync = {
    0x00, 0x02, 0x00, 0x2C, 0x00, 0x00, 0x06, 0x00,              // type, version, length 44, domain, res, flags
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00,              // correction 0x18000 = 1.5 ns
    0x00, 0x00, 0x00, 0x00,                                      // reserved
    0x00, 0x1D, 0x7F, 0xFF, 0xFE, 0x80, 0x02, 0x4A, 0x00, 0x01,  // sourcePortIdentity
    0x12, 0x34, 0x00, 0xFD,                                      // sequenceId, control, log interval -3
    0x00, 0x00, 0x5E, 0x0B, 0xC8, 0x3C, 0x07, 0x5B, 0xCD, 0x15,  // originTimestamp
};

TEST(PtpMessage, ParsesAHandWrittenSync) {
  PtpMessage m;
  ASSERT_EQ(parsePtp(kSync.data(), kSync.size(), m), PtpParseError::kNone);
  EXPECT_EQ(m.header.messageType, PtpMessageType::kSync);
  EXPECT_EQ(m.header.versionPtp, 2);
  EXPECT_EQ(m.header.messageLength, 44);
  EXPECT_TRUE(m.header.twoStep());
  EXPECT_TRUE(m.header.unicast());
  EXPECT_EQ(m.header.correctionField, 0x18000);
  EXPECT_DOUBLE_EQ(correctionToNanos(m.header.correctionField), 1.5);
  EXPECT_EQ(formatPtp4l(m.header.sourcePortIdentity.clockIdentity), "001d7f.fffe.80024a");
  EXPECT_EQ(formatHex(m.header.sourcePortIdentity.clockIdentity), "0x001d7ffffe80024a");
  EXPECT_EQ(m.header.sourcePortIdentity.portNumber, 1);
  EXPECT_EQ(m.header.sequenceId, 0x1234);
  EXPECT_EQ(m.header.logMessageInterval, -3);
  EXPECT_EQ(m.timestamp.seconds, 0x5E0BC83Cu);
  EXPECT_EQ(m.timestamp.nanoseconds, 123456789u);
  EXPECT_EQ(m.tlvLength, 0u);
}

TEST(PtpMessage, WriterReproducesTheHandWrittenBytes) {
  PtpMessage m;
  ASSERT_EQ(parsePtp(kSync.data(), kSync.size(), m), PtpParseError::kNone);
  std::uint8_t out[64];
  ASSERT_EQ(writePtp(m, out, sizeof out), kSync.size());
  EXPECT_EQ(std::vector<std::uint8_t>(out, out + kSync.size()), kSync);
  EXPECT_EQ(writePtp(m, out, 43), 0u) << "too small a buffer writes nothing";
}

TEST(PtpMessage, RecognisesPtpv1AndOtherVersions) {
  // IEEE 1588-2002 Sync header: versionPTP (16 bits) = 1, versionNetwork = 1, subdomain "_DFLT".
  std::vector<std::uint8_t> v1 = {0x00, 0x01, 0x00, 0x01, '_', 'D', 'F', 'L', 'T', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  v1.resize(124, 0);
  PtpMessage m;
  EXPECT_EQ(parsePtp(v1.data(), v1.size(), m), PtpParseError::kVersion1);
  auto v3 = kSync;
  v3[1] = 0x03;
  EXPECT_EQ(parsePtp(v3.data(), v3.size(), m), PtpParseError::kBadVersion);
  auto v21 = kSync;
  v21[1] = 0x12;  // 1588-2019 sender: minorVersionPTP 1, versionPTP 2
  ASSERT_EQ(parsePtp(v21.data(), v21.size(), m), PtpParseError::kNone);
  EXPECT_EQ(m.header.minorVersionPtp, 1);
}

TEST(PtpMessage, ReportsEveryKindOfDamage) {
  PtpMessage m;
  EXPECT_EQ(parsePtp(kSync.data(), 0, m), PtpParseError::kTruncated);
  EXPECT_EQ(parsePtp(kSync.data(), 1, m), PtpParseError::kTruncated);
  EXPECT_EQ(parsePtp(kSync.data(), 33, m), PtpParseError::kTruncated);
  EXPECT_EQ(parsePtp(kSync.data(), 43, m), PtpParseError::kTruncated) << "messageLength 44 but 43 bytes";
  auto shortLength = kSync;
  shortLength[3] = 40;
  EXPECT_EQ(parsePtp(shortLength.data(), shortLength.size(), m), PtpParseError::kBadLength);
  for (std::uint8_t t : {4, 5, 6, 7, 0xE, 0xF}) {
    auto unknown = kSync;
    unknown[0] = t;
    EXPECT_EQ(parsePtp(unknown.data(), unknown.size(), m), PtpParseError::kUnknownMessageType) << int(t);
  }
  // Ethernet padding after messageLength is ignored.
  auto padded = kSync;
  padded.resize(60, 0);
  EXPECT_EQ(parsePtp(padded.data(), padded.size(), m), PtpParseError::kNone);
  EXPECT_EQ(m.tlvLength, 0u);
}

TEST(PtpMessage, SignalingAndManagementTlvsMustFitTheMessage) {
  PtpMessage m;
  m.header.messageType = PtpMessageType::kManagement;
  m.header.controlField = 4;
  m.management.actionField = 0;  // GET
  const std::uint8_t tlv[] = {0x00, 0x01, 0x00, 0x02, 0x20, 0x00};  // MANAGEMENT, length 2, DEFAULT_DATA_SET
  m.tlvs = tlv;
  m.tlvLength = sizeof tlv;
  std::uint8_t out[128];
  const std::size_t n = writePtp(m, out, sizeof out);
  ASSERT_EQ(n, 54u);
  PtpMessage back;
  ASSERT_EQ(parsePtp(out, n, back), PtpParseError::kNone);
  EXPECT_EQ(back.header.messageType, PtpMessageType::kManagement);
  EXPECT_EQ(back.tlvCount, 1u);
  EXPECT_EQ(back.tlvLength, 6u);
  out[51] = 0x09;  // TLV length 9 runs past messageLength
  EXPECT_EQ(parsePtp(out, n, back), PtpParseError::kBadTlv);
}

TEST(PtpMessage, ClockIdentityFormsRoundTrip) {
  const auto id = ClockIdentity::fromValue(0x28993affff267e2bull);
  EXPECT_EQ(formatPtp4l(id), "28993a.ffff.267e2b");
  EXPECT_EQ(parseClockIdentity("28993a.ffff.267e2b"), id);
  EXPECT_EQ(parseClockIdentity("0x28993affff267e2b"), id);
  EXPECT_FALSE(parseClockIdentity("28993a.ffff.267e2"));
  EXPECT_FALSE(parseClockIdentity("zz993a.ffff.267e2b"));
  EXPECT_EQ(formatPtp4l(ClockIdentity::fromMac({0x00, 0x1d, 0x7f, 0x80, 0x02, 0x4a})), "001d7f.fffe.80024a");
}

TEST(PtpMessage, TimestampValidity) {
  EXPECT_TRUE((PtpTimestamp{1'700'000'000, 999'999'999}.valid()));
  EXPECT_FALSE((PtpTimestamp{1'700'000'000, 1'000'000'000}.valid()));
  EXPECT_FALSE((PtpTimestamp{0xFFFF'FFFF'FFFFull, 0}.valid())) << "beyond 2262 does not fit int64 ns";
  EXPECT_EQ((PtpTimestamp::fromNanos(1'700'000'000'123'456'789).toNanos()), 1'700'000'000'123'456'789);
}

// Random bytes never crash the parser and never make it read past the datagram (run
// under ASan by ci/sanitizers); any message it accepts is rewritten to the same bytes.
TEST(PtpMessage, RandomInputIsSafeAndAcceptedMessagesRoundTrip) {
  Prng prng(2024);
  std::vector<std::uint8_t> buffer;
  std::uint8_t out[2048];
  int accepted = 0;
  for (int i = 0; i < 200'000; ++i) {
    const std::size_t size = prng.below(120);
    buffer.assign(size, 0);
    for (auto& b : buffer) b = static_cast<std::uint8_t>(prng.next());
    if (size >= 4 && prng.below(2) == 0) {
      buffer[1] = 0x02;  // mostly valid version and length, to get past the first checks
      buffer[2] = 0;
      buffer[3] = static_cast<std::uint8_t>(size - prng.below(4));
    }
    std::vector<std::uint8_t> exact(buffer);  // exactly `size` bytes: ASan sees over-reads
    PtpMessage m;
    if (parsePtp(exact.data(), exact.size(), m) != PtpParseError::kNone) continue;
    ++accepted;
    const std::size_t n = writePtp(m, out, sizeof out);
    ASSERT_EQ(n, m.header.messageLength);
    // Reserved bits are written as zero; everything else is what came in.
    PtpMessage again;
    ASSERT_EQ(parsePtp(out, n, again), PtpParseError::kNone);
    const std::size_t body = ptpBodySize(m.header.messageType);
    EXPECT_EQ(std::vector<std::uint8_t>(out + body, out + n), std::vector<std::uint8_t>(exact.begin() + body, exact.begin() + n));
    EXPECT_EQ(again.header.sequenceId, m.header.sequenceId);
    EXPECT_EQ(again.header.correctionField, m.header.correctionField);
    EXPECT_EQ(again.timestamp.seconds, m.timestamp.seconds);
    EXPECT_EQ(again.timestamp.nanoseconds, m.timestamp.nanoseconds);
  }
  EXPECT_GT(accepted, 1000) << "the generator should reach the message bodies";
}

}  // namespace
}  // namespace aes67
