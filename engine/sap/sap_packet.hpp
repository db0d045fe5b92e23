// SAP (RFC 2974) packets: version 1, IPv4 or IPv6 originating source, message identifier
// hash, announcement or deletion, authentication data skipped, zlib-compressed payloads
// inflated (when the engine was built with zlib) and the optional payload type
// ("application/sdp" when absent). Reasons match the lab's lab/net/sap.ts where they overlap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/endpoint.hpp"

namespace aes67 {

// Dante and VLC announce to the administratively scoped group (FIELD-NOTES "Dante in
// AES67 mode", Discovery); RFC 2974 §3 names 224.2.127.254 for global scope.
constexpr Ipv4Address kSapGroupAdminScope = 0xEFFFFFFF;  // 239.255.255.255
constexpr Ipv4Address kSapGroupGlobal = 0xE0027FFE;      // 224.2.127.254
constexpr std::uint16_t kSapPort = 9875;
// A decompressed payload larger than this is refused: no UDP datagram needs more.
constexpr std::size_t kSapMaxPayload = 65536;

enum class SapParseError : std::uint8_t {
  kNone = 0,
  kTruncated,         // shorter than its header, origin and authentication data
  kBadVersion,        // version is not 1
  kDecompressFailed,  // zlib stream broken or larger than kSapMaxPayload
  kNoZlib,            // compressed, and the engine was built without zlib
  kBadPayloadType,    // neither "v=0..." nor a NUL-terminated MIME type
};
const char* toString(SapParseError e);

struct SapPacket {
  std::uint8_t version = 1;
  bool deletion = false;
  bool encrypted = false;  // the payload cannot be read; sdp is empty
  bool compressed = false;
  bool ipv6 = false;
  std::uint16_t msgIdHash = 0;
  Ipv4Address origin = 0;              // IPv4 originating source
  std::array<std::uint8_t, 16> origin6{};
  std::size_t authBytes = 0;
  std::string payloadType = "application/sdp";
  bool payloadTypePresent = false;
  std::string sdp;                     // the payload after the type, inflated if compressed
};

SapParseError parseSap(const std::uint8_t* data, std::size_t size, SapPacket& out);
// The originating source as text: dotted IPv4, or eight hex groups for IPv6 (as the lab writes it).
std::string formatSapOrigin(const SapPacket& p);

struct SapBuildOptions {
  bool deletion = false;
  std::uint16_t msgIdHash = 0;
  Ipv4Address origin = 0;
  std::string sdp;
  std::string payloadType = "application/sdp";
  bool omitPayloadType = false;  // RFC 2974 allows it; some receivers expect the type
  bool compressed = false;       // zlib; throws std::runtime_error if built without zlib
};
std::vector<std::uint8_t> buildSap(const SapBuildOptions& options);

// True when this build can inflate/deflate SAP payloads.
bool sapHasZlib();

// A 16-bit message identifier hash of an SDP text (FNV-1a folded; never 0, which RFC 2974
// §5 reserves for SAPv0 compatibility). A changed SDP gets a new hash.
std::uint16_t sapMessageHash(const std::string& sdp);

}  // namespace aes67
