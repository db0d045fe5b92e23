#include "engine/sap/sap_packet.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#ifdef AES67_HAVE_ZLIB
#include <zlib.h>
#endif

namespace aes67 {

const char* toString(SapParseError e) {
  switch (e) {
    case SapParseError::kNone: return "none";
    case SapParseError::kTruncated: return "truncated";
    case SapParseError::kBadVersion: return "bad-version";
    case SapParseError::kDecompressFailed: return "decompress-failed";
    case SapParseError::kNoZlib: return "no-zlib";
    case SapParseError::kBadPayloadType: return "bad-payload-type";
  }
  return "unknown";
}

bool sapHasZlib() {
#ifdef AES67_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

namespace {

#ifdef AES67_HAVE_ZLIB
// Inflates a zlib stream (RFC 1950) into at most kSapMaxPayload bytes; bytes after the
// end of the stream are ignored.
bool inflatePayload(const std::uint8_t* in, std::size_t size, std::string& out) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return false;
  std::string buffer(kSapMaxPayload, '\0');
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(&buffer[0]);
  z.avail_out = static_cast<uInt>(buffer.size());
  const int r = inflate(&z, Z_FINISH);
  const std::size_t produced = buffer.size() - z.avail_out;
  inflateEnd(&z);
  if (r != Z_STREAM_END) return false;  // broken, cut short, or larger than the limit
  buffer.resize(produced);
  out = std::move(buffer);
  return true;
}
#endif

bool isMimeChar(unsigned char c) { return c >= 0x21 && c <= 0x7E; }

}  // namespace

SapParseError parseSap(const std::uint8_t* data, std::size_t size, SapPacket& out) {
  if (size < 4) return SapParseError::kTruncated;
  const std::uint8_t b0 = data[0];
  out.version = static_cast<std::uint8_t>(b0 >> 5);
  if (out.version != 1) return SapParseError::kBadVersion;
  out.ipv6 = (b0 & 0x10) != 0;
  out.deletion = (b0 & 0x04) != 0;
  out.encrypted = (b0 & 0x02) != 0;
  out.compressed = (b0 & 0x01) != 0;
  out.authBytes = std::size_t{data[1]} * 4;
  out.msgIdHash = static_cast<std::uint16_t>((data[2] << 8) | data[3]);
  const std::size_t originBytes = out.ipv6 ? 16 : 4;
  const std::size_t payloadStart = 4 + originBytes + out.authBytes;
  if (payloadStart > size) return SapParseError::kTruncated;
  out.origin = 0;
  out.origin6.fill(0);
  if (out.ipv6) {
    std::copy(data + 4, data + 20, out.origin6.begin());
  } else {
    out.origin = (Ipv4Address{data[4]} << 24) | (Ipv4Address{data[5]} << 16) | (Ipv4Address{data[6]} << 8) | data[7];
  }
  out.payloadType = "application/sdp";
  out.payloadTypePresent = false;
  out.sdp.clear();
  if (out.encrypted) {
    out.payloadType.clear();  // unreadable without the key
    return SapParseError::kNone;
  }

  std::string inflated;
  const std::uint8_t* payload = data + payloadStart;
  std::size_t payloadSize = size - payloadStart;
  if (out.compressed) {
#ifdef AES67_HAVE_ZLIB
    if (!inflatePayload(payload, payloadSize, inflated)) return SapParseError::kDecompressFailed;
    payload = reinterpret_cast<const std::uint8_t*>(inflated.data());
    payloadSize = inflated.size();
#else
    return SapParseError::kNoZlib;
#endif
  }
  std::size_t sdpStart = 0;
  // RFC 2974 §5: the payload type is optional; an SDP starting "v=0" means it is absent.
  const bool bareSdp = payloadSize >= 3 && payload[0] == 'v' && payload[1] == '=' && payload[2] == '0';
  if (!bareSdp) {
    const std::uint8_t* nul = std::find(payload, payload + payloadSize, std::uint8_t{0});
    if (nul == payload + payloadSize) return SapParseError::kBadPayloadType;
    const std::string type(reinterpret_cast<const char*>(payload), static_cast<std::size_t>(nul - payload));
    // type "/" subtype, both non-empty (a '/' with something on each side).
    bool slash = false;
    for (std::size_t i = 1; i + 1 < type.size(); ++i) slash = slash || type[i] == '/';
    if (!slash ||
        !std::all_of(type.begin(), type.end(), [](char c) { return isMimeChar(static_cast<unsigned char>(c)); })) {
      return SapParseError::kBadPayloadType;
    }
    out.payloadType = type;
    out.payloadTypePresent = true;
    sdpStart = type.size() + 1;
  }
  out.sdp.assign(reinterpret_cast<const char*>(payload) + sdpStart, payloadSize - sdpStart);
  return SapParseError::kNone;
}

std::string formatSapOrigin(const SapPacket& p) {
  if (!p.ipv6) return formatIpv4(p.origin);
  std::string s;
  for (int i = 0; i < 16; i += 2) {
    char group[8];
    std::snprintf(group, sizeof group, "%x", (p.origin6[i] << 8) | p.origin6[i + 1]);
    if (i) s += ':';
    s += group;
  }
  return s;
}

std::vector<std::uint8_t> buildSap(const SapBuildOptions& o) {
  std::string payload;
  if (!o.omitPayloadType) {
    payload = o.payloadType;
    payload.push_back('\0');
  }
  payload += o.sdp;
  std::vector<std::uint8_t> out;
  out.reserve(8 + payload.size());
  out.push_back(static_cast<std::uint8_t>(0x20 | (o.deletion ? 0x04 : 0) | (o.compressed ? 0x01 : 0)));
  out.push_back(0);  // no authentication data
  out.push_back(static_cast<std::uint8_t>(o.msgIdHash >> 8));
  out.push_back(static_cast<std::uint8_t>(o.msgIdHash));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(o.origin >> (24 - 8 * i)));
  if (!o.compressed) {
    for (char c : payload) out.push_back(static_cast<std::uint8_t>(c));
    return out;
  }
#ifdef AES67_HAVE_ZLIB
  uLongf bound = compressBound(static_cast<uLong>(payload.size()));
  std::vector<std::uint8_t> z(bound);
  if (compress2(z.data(), &bound, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uLong>(payload.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK) {
    throw std::runtime_error("SAP: zlib compress failed");
  }
  for (uLongf i = 0; i < bound; ++i) out.push_back(z[i]);
  return out;
#else
  throw std::runtime_error("SAP: compression requested but the engine was built without zlib");
#endif
}

std::uint16_t sapMessageHash(const std::string& sdp) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : sdp) {
    h ^= c;
    h *= 16777619u;
  }
  const std::uint16_t folded = static_cast<std::uint16_t>((h >> 16) ^ (h & 0xFFFF));
  return folded == 0 ? 1 : folded;
}

}  // namespace aes67
