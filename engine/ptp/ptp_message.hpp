// PTPv2 messages (IEEE 1588-2008 clause 13) as they travel in UDP/IPv4 (annex D: event
// port 319, general port 320, group 224.0.1.129): the common header and the bodies of
// Sync, Delay_Req, Pdelay_Req/Resp/Resp_Follow_Up, Follow_Up, Delay_Resp, Announce,
// Signaling and Management. Parsing is a copy of the fixed fields plus a view of the TLV
// suffix: no allocation. Anything that is not a well-formed PTPv2 message is reported by
// reason (PTPv1 by its own reason, so it can be counted as unsupported), never trusted.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/base/endpoint.hpp"
#include "engine/ptp/ptp_types.hpp"

namespace aes67 {

constexpr std::uint16_t kPtpEventPort = 319;
constexpr std::uint16_t kPtpGeneralPort = 320;
constexpr Ipv4Address kPtpPrimaryGroup = 0xE0000181;  // 224.0.1.129
constexpr std::size_t kPtpHeaderSize = 34;
constexpr std::int8_t kPtpLogIntervalUnspecified = 0x7F;  // 13.3.2.11: "not applicable"

enum class PtpMessageType : std::uint8_t {
  kSync = 0x0,
  kDelayReq = 0x1,
  kPdelayReq = 0x2,
  kPdelayResp = 0x3,
  kFollowUp = 0x8,
  kDelayResp = 0x9,
  kPdelayRespFollowUp = 0xA,
  kAnnounce = 0xB,
  kSignaling = 0xC,
  kManagement = 0xD,
};
const char* toString(PtpMessageType type);
// Event messages carry a timestamp taken at the wire and travel on port 319.
constexpr bool isEvent(PtpMessageType t) { return static_cast<std::uint8_t>(t) < 0x8; }
// The fixed size of a message of this type (header + body, before any TLV).
std::size_t ptpBodySize(PtpMessageType type);

// flagField (13.3.2.6) as one 16-bit value: octet 0 in the high byte.
namespace ptp_flags {
constexpr std::uint16_t kAlternateMaster = 0x0100;
constexpr std::uint16_t kTwoStep = 0x0200;
constexpr std::uint16_t kUnicast = 0x0400;
constexpr std::uint16_t kProfileSpecific1 = 0x2000;
constexpr std::uint16_t kProfileSpecific2 = 0x4000;
constexpr std::uint16_t kLeap61 = 0x0001;
constexpr std::uint16_t kLeap59 = 0x0002;
constexpr std::uint16_t kCurrentUtcOffsetValid = 0x0004;
constexpr std::uint16_t kPtpTimescale = 0x0008;
constexpr std::uint16_t kTimeTraceable = 0x0010;
constexpr std::uint16_t kFrequencyTraceable = 0x0020;
}  // namespace ptp_flags

enum class PtpParseError : std::uint8_t {
  kNone = 0,
  kTruncated,            // shorter than the header, or than the messageLength it announces
  kVersion1,             // IEEE 1588-2002 (PTPv1): recognised, not supported
  kBadVersion,           // versionPTP neither 1 nor 2
  kUnknownMessageType,   // a reserved messageType (4-7, E, F)
  kBadLength,            // messageLength shorter than the message type's fixed body
  kBadTlv,               // a Signaling/Management TLV that runs past messageLength
  kCount
};
const char* toString(PtpParseError error);

struct PtpHeader {
  std::uint8_t transportSpecific = 0;  // majorSdoId in 1588-2019
  PtpMessageType messageType = PtpMessageType::kSync;
  std::uint8_t versionPtp = 2;
  std::uint8_t minorVersionPtp = 0;    // reserved in 1588-2008, 1 in 1588-2019 senders
  std::uint16_t messageLength = 0;
  std::uint8_t domainNumber = 0;
  std::uint8_t minorSdoId = 0;         // reserved octet 5 in 1588-2008
  std::uint16_t flags = 0;
  std::int64_t correctionField = 0;    // ns x 2^16
  std::uint32_t messageTypeSpecific = 0;
  PortIdentity sourcePortIdentity;
  std::uint16_t sequenceId = 0;
  std::uint8_t controlField = 0;       // 13.3.2.10: 0 Sync, 1 Delay_Req, 2 Follow_Up, 3 Delay_Resp, 4 Mgmt, 5 other
  std::int8_t logMessageInterval = 0;

  bool twoStep() const { return (flags & ptp_flags::kTwoStep) != 0; }
  bool unicast() const { return (flags & ptp_flags::kUnicast) != 0; }
};

struct PtpAnnounceBody {
  std::int16_t currentUtcOffset = 0;
  std::uint8_t grandmasterPriority1 = 128;
  ClockQuality grandmasterClockQuality;
  std::uint8_t grandmasterPriority2 = 128;
  ClockIdentity grandmasterIdentity;
  std::uint16_t stepsRemoved = 0;
  std::uint8_t timeSource = 0xA0;  // INTERNAL_OSCILLATOR
};

struct PtpManagementBody {
  std::uint8_t startingBoundaryHops = 0;
  std::uint8_t boundaryHops = 0;
  std::uint8_t actionField = 0;  // 0 GET, 1 SET, 2 RESPONSE, 3 COMMAND, 4 ACKNOWLEDGE
};

// One message. Which body fields mean something depends on header.messageType:
//   timestamp:    originTimestamp (Sync, Delay_Req, Pdelay_Req, Announce),
//                 preciseOriginTimestamp (Follow_Up), receiveTimestamp (Delay_Resp),
//                 requestReceiptTimestamp (Pdelay_Resp), responseOriginTimestamp (Pdelay_Resp_Follow_Up)
//   portIdentity: requestingPortIdentity (Delay_Resp, Pdelay_Resp, Pdelay_Resp_Follow_Up),
//                 targetPortIdentity (Signaling, Management)
//   announce, management: their bodies.
//   tlvs: whatever follows the fixed body within messageLength (parsed: a view into the datagram).
struct PtpMessage {
  PtpHeader header;
  PtpTimestamp timestamp;
  PortIdentity portIdentity;
  PtpAnnounceBody announce;
  PtpManagementBody management;
  const std::uint8_t* tlvs = nullptr;
  std::size_t tlvLength = 0;
  std::size_t tlvCount = 0;  // counted for Signaling and Management, where TLVs are the content
};

// Parses one PTP message from a UDP payload (or an Ethernet payload of type 0x88F7: the
// message is the same). Bytes after messageLength (padding) are ignored.
PtpParseError parsePtp(const std::uint8_t* data, std::size_t size, PtpMessage& out);

// The version nibble of a datagram (0 when empty): lets a receiver tell PTPv1 from junk.
std::uint8_t ptpVersionOf(const std::uint8_t* data, std::size_t size);

// Writes `message` (messageLength is computed: fixed body + tlvLength). Returns the size
// written, or 0 when `capacity` is too small. Allocation-free.
std::size_t writePtp(const PtpMessage& message, std::uint8_t* out, std::size_t capacity);

}  // namespace aes67
