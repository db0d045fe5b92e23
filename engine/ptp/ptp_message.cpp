#include "engine/ptp/ptp_message.hpp"

#include <cstring>

namespace aes67 {

namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}

PtpTimestamp readTimestamp(const std::uint8_t* p) {
  PtpTimestamp t;
  t.seconds = (std::uint64_t{be16(p)} << 32) | be32(p + 2);
  t.nanoseconds = be32(p + 6);
  return t;
}
void writeTimestamp(std::uint8_t* p, const PtpTimestamp& t) {
  put16(p, static_cast<std::uint16_t>(t.seconds >> 32));
  put32(p + 2, static_cast<std::uint32_t>(t.seconds));
  put32(p + 6, t.nanoseconds);
}

PortIdentity readPortIdentity(const std::uint8_t* p) {
  PortIdentity id;
  std::memcpy(id.clockIdentity.bytes.data(), p, 8);
  id.portNumber = be16(p + 8);
  return id;
}
void writePortIdentity(std::uint8_t* p, const PortIdentity& id) {
  std::memcpy(p, id.clockIdentity.bytes.data(), 8);
  put16(p + 8, id.portNumber);
}

bool knownType(std::uint8_t t) { return t <= 0x3 || (t >= 0x8 && t <= 0xD); }

// TLVs (14.1): type (2), lengthField (2), value; every one must end inside the message.
bool walkTlvs(const std::uint8_t* p, std::size_t size, std::size_t& count) {
  count = 0;
  std::size_t at = 0;
  while (at < size) {
    if (size - at < 4) return false;
    const std::size_t length = be16(p + at + 2);
    if (size - at - 4 < length) return false;
    at += 4 + length;
    ++count;
  }
  return true;
}

}  // namespace

const char* toString(PtpMessageType type) {
  switch (type) {
    case PtpMessageType::kSync: return "sync";
    case PtpMessageType::kDelayReq: return "delay-req";
    case PtpMessageType::kPdelayReq: return "pdelay-req";
    case PtpMessageType::kPdelayResp: return "pdelay-resp";
    case PtpMessageType::kFollowUp: return "follow-up";
    case PtpMessageType::kDelayResp: return "delay-resp";
    case PtpMessageType::kPdelayRespFollowUp: return "pdelay-resp-follow-up";
    case PtpMessageType::kAnnounce: return "announce";
    case PtpMessageType::kSignaling: return "signaling";
    case PtpMessageType::kManagement: return "management";
  }
  return "unknown";
}

const char* toString(PtpParseError error) {
  switch (error) {
    case PtpParseError::kNone: return "none";
    case PtpParseError::kTruncated: return "truncated";
    case PtpParseError::kVersion1: return "ptpv1-unsupported";
    case PtpParseError::kBadVersion: return "bad-version";
    case PtpParseError::kUnknownMessageType: return "unknown-message-type";
    case PtpParseError::kBadLength: return "bad-length";
    case PtpParseError::kBadTlv: return "bad-tlv";
    case PtpParseError::kCount: break;
  }
  return "unknown";
}

std::size_t ptpBodySize(PtpMessageType type) {
  switch (type) {
    case PtpMessageType::kSync:
    case PtpMessageType::kDelayReq:
    case PtpMessageType::kFollowUp:
      return 44;
    case PtpMessageType::kPdelayReq:
    case PtpMessageType::kPdelayResp:
    case PtpMessageType::kDelayResp:
    case PtpMessageType::kPdelayRespFollowUp:
      return 54;
    case PtpMessageType::kAnnounce: return 64;
    case PtpMessageType::kSignaling: return 44;
    case PtpMessageType::kManagement: return 48;
  }
  return kPtpHeaderSize;
}

std::uint8_t ptpVersionOf(const std::uint8_t* data, std::size_t size) { return size < 2 ? 0 : data[1] & 0x0F; }

PtpParseError parsePtp(const std::uint8_t* data, std::size_t size, PtpMessage& out) {
  if (size < 2) return PtpParseError::kTruncated;
  // PTPv1 (IEEE 1588-2002) begins with a 16-bit versionPTP of 1: octet 1 is 0x01.
  const std::uint8_t version = data[1] & 0x0F;
  if (version == 1) return PtpParseError::kVersion1;
  if (version != 2) return PtpParseError::kBadVersion;
  if (size < kPtpHeaderSize) return PtpParseError::kTruncated;
  const std::uint8_t type = data[0] & 0x0F;
  if (!knownType(type)) return PtpParseError::kUnknownMessageType;

  PtpHeader& h = out.header;
  h.transportSpecific = data[0] >> 4;
  h.messageType = static_cast<PtpMessageType>(type);
  h.versionPtp = version;
  h.minorVersionPtp = data[1] >> 4;
  h.messageLength = be16(data + 2);
  h.domainNumber = data[4];
  h.minorSdoId = data[5];
  h.flags = be16(data + 6);
  h.correctionField = static_cast<std::int64_t>((std::uint64_t{be32(data + 8)} << 32) | be32(data + 12));
  h.messageTypeSpecific = be32(data + 16);
  h.sourcePortIdentity = readPortIdentity(data + 20);
  h.sequenceId = be16(data + 30);
  h.controlField = data[32];
  h.logMessageInterval = static_cast<std::int8_t>(data[33]);

  const std::size_t body = ptpBodySize(h.messageType);
  if (h.messageLength < body) return PtpParseError::kBadLength;
  if (h.messageLength > size) return PtpParseError::kTruncated;

  const std::uint8_t* b = data + kPtpHeaderSize;
  out.timestamp = {};
  out.portIdentity = {};
  out.announce = {};
  out.management = {};
  switch (h.messageType) {
    case PtpMessageType::kSync:
    case PtpMessageType::kDelayReq:
    case PtpMessageType::kPdelayReq:
    case PtpMessageType::kFollowUp:
      out.timestamp = readTimestamp(b);
      break;
    case PtpMessageType::kDelayResp:
    case PtpMessageType::kPdelayResp:
    case PtpMessageType::kPdelayRespFollowUp:
      out.timestamp = readTimestamp(b);
      out.portIdentity = readPortIdentity(b + 10);
      break;
    case PtpMessageType::kAnnounce: {
      out.timestamp = readTimestamp(b);
      PtpAnnounceBody& a = out.announce;
      a.currentUtcOffset = static_cast<std::int16_t>(be16(b + 10));
      a.grandmasterPriority1 = b[13];
      a.grandmasterClockQuality.clockClass = b[14];
      a.grandmasterClockQuality.clockAccuracy = b[15];
      a.grandmasterClockQuality.offsetScaledLogVariance = be16(b + 16);
      a.grandmasterPriority2 = b[18];
      std::memcpy(a.grandmasterIdentity.bytes.data(), b + 19, 8);
      a.stepsRemoved = be16(b + 27);
      a.timeSource = b[29];
      break;
    }
    case PtpMessageType::kSignaling:
      out.portIdentity = readPortIdentity(b);
      break;
    case PtpMessageType::kManagement:
      out.portIdentity = readPortIdentity(b);
      out.management.startingBoundaryHops = b[10];
      out.management.boundaryHops = b[11];
      out.management.actionField = b[12] & 0x0F;
      break;
  }
  out.tlvs = data + body;
  out.tlvLength = h.messageLength - body;
  out.tlvCount = 0;
  if (h.messageType == PtpMessageType::kSignaling || h.messageType == PtpMessageType::kManagement) {
    if (!walkTlvs(out.tlvs, out.tlvLength, out.tlvCount)) return PtpParseError::kBadTlv;
  }
  return PtpParseError::kNone;
}

std::size_t writePtp(const PtpMessage& m, std::uint8_t* out, std::size_t capacity) {
  const PtpHeader& h = m.header;
  const std::size_t body = ptpBodySize(h.messageType);
  const std::size_t length = body + m.tlvLength;
  if (length > capacity || length > 0xFFFF) return 0;
  std::memset(out, 0, body);
  out[0] = static_cast<std::uint8_t>((h.transportSpecific << 4) | (static_cast<std::uint8_t>(h.messageType) & 0x0F));
  out[1] = static_cast<std::uint8_t>((h.minorVersionPtp << 4) | (h.versionPtp & 0x0F));
  put16(out + 2, static_cast<std::uint16_t>(length));
  out[4] = h.domainNumber;
  out[5] = h.minorSdoId;
  put16(out + 6, h.flags);
  const auto correction = static_cast<std::uint64_t>(h.correctionField);
  put32(out + 8, static_cast<std::uint32_t>(correction >> 32));
  put32(out + 12, static_cast<std::uint32_t>(correction));
  put32(out + 16, h.messageTypeSpecific);
  writePortIdentity(out + 20, h.sourcePortIdentity);
  put16(out + 30, h.sequenceId);
  out[32] = h.controlField;
  out[33] = static_cast<std::uint8_t>(h.logMessageInterval);

  std::uint8_t* b = out + kPtpHeaderSize;
  switch (h.messageType) {
    case PtpMessageType::kSync:
    case PtpMessageType::kDelayReq:
    case PtpMessageType::kPdelayReq:
    case PtpMessageType::kFollowUp:
      writeTimestamp(b, m.timestamp);
      break;
    case PtpMessageType::kDelayResp:
    case PtpMessageType::kPdelayResp:
    case PtpMessageType::kPdelayRespFollowUp:
      writeTimestamp(b, m.timestamp);
      writePortIdentity(b + 10, m.portIdentity);
      break;
    case PtpMessageType::kAnnounce: {
      writeTimestamp(b, m.timestamp);
      const PtpAnnounceBody& a = m.announce;
      put16(b + 10, static_cast<std::uint16_t>(a.currentUtcOffset));
      b[13] = a.grandmasterPriority1;
      b[14] = a.grandmasterClockQuality.clockClass;
      b[15] = a.grandmasterClockQuality.clockAccuracy;
      put16(b + 16, a.grandmasterClockQuality.offsetScaledLogVariance);
      b[18] = a.grandmasterPriority2;
      std::memcpy(b + 19, a.grandmasterIdentity.bytes.data(), 8);
      put16(b + 27, a.stepsRemoved);
      b[29] = a.timeSource;
      break;
    }
    case PtpMessageType::kSignaling:
      writePortIdentity(b, m.portIdentity);
      break;
    case PtpMessageType::kManagement:
      writePortIdentity(b, m.portIdentity);
      b[10] = m.management.startingBoundaryHops;
      b[11] = m.management.boundaryHops;
      b[12] = m.management.actionField & 0x0F;
      break;
  }
  if (m.tlvLength > 0) std::memcpy(out + body, m.tlvs, m.tlvLength);
  return length;
}

}  // namespace aes67
