// An SDP session description (RFC 8866, which obsoletes RFC 4566) as the lines it was
// written with: every field and attribute is kept, in order, with the line it came from,
// so unknown and `x-` attributes survive and writing what was parsed gives the same text
// (CRLF line ends, RFC 8866 §5 field order). Typed readings of the AES67 attributes live
// in sdp_attributes.hpp; the engine's view of a stream in sdp_stream.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace aes67 {

// Why an SDP text was refused. The names are the ones the lab's TypeScript codec
// (lab/net/sdp.ts) uses where the two overlap, so their verdicts can be compared.
enum class SdpErrorReason : std::uint8_t {
  kEmpty,
  kBadLine,            // not "<letter>=<value>"
  kUnknownType,        // a type letter RFC 8866 does not define (§5: reject the description)
  kBadVersion,         // first line is not "v=0"
  kBadOrigin,
  kNoSessionName,
  kBadConnection,
  kBadTiming,
  kBadMediaLine,
  kBadAttribute,       // "a=" with an empty name
  kNoAudioMedia,
  kNoConnection,
  kNoRtpmap,
  kBadRtpmap,
  kUnsupportedEncoding,
  kNoPtime,
  kBadPtime,
  kBadMaxptime,
  kBadTsRefclk,
  kBadMediaclk,
  kBadSourceFilter,
  kCount
};
const char* toString(SdpErrorReason reason);

// A refused SDP: the 1-based line (0 when the problem is the whole text) and the reason.
class SdpError : public std::runtime_error {
 public:
  SdpError(SdpErrorReason reason, int line, const std::string& detail);
  SdpErrorReason reason() const { return reason_; }
  int line() const { return line_; }
  const std::string& detail() const { return detail_; }

 private:
  SdpErrorReason reason_;
  int line_;
  std::string detail_;
};

struct SdpAttribute {
  std::string name;
  std::string value;        // after the first ':'; empty for a property attribute
  bool hasValue = false;    // "a=name:" vs "a=name"
  int line = 0;             // where it was parsed (0: built in code)
};

// "c=IN IP4 239.69.1.2/32/2": address, TTL (IPv4 multicast) and count as written.
struct SdpConnection {
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address;
  std::optional<std::uint32_t> ttl;
  std::optional<std::uint32_t> count;
  int line = 0;
};

struct SdpOrigin {
  std::string username = "-";
  std::string sessionId = "0";       // digits, may exceed 64 bits (kept as text)
  std::string sessionVersion = "0";
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address;               // an IP address or, as VLC writes, a host name
  int line = 0;
};

// A line kept as written: b=, u=, e=, p=, k=, z=, r= (and t=, whose values are checked).
struct SdpField {
  char type = 0;
  std::string value;
  int line = 0;
};

struct SdpMedia {
  std::string media = "audio";
  std::uint16_t port = 0;
  std::optional<std::uint32_t> portCount;
  std::string proto = "RTP/AVP";
  std::vector<std::string> formats;
  std::optional<std::string> information;  // i=
  int informationLine = 0;
  std::vector<SdpConnection> connections;
  std::vector<SdpField> fields;            // b=, k=
  std::vector<SdpAttribute> attributes;
  int line = 0;

  const SdpAttribute* attribute(const std::string& name) const;
  std::vector<const SdpAttribute*> attributesNamed(const std::string& name) const;
};

struct SdpTiming {
  std::uint64_t start = 0;
  std::uint64_t stop = 0;
  std::vector<SdpField> repeats;  // r=
  int line = 0;
};

struct SdpSession {
  SdpOrigin origin;
  std::string name = " ";                  // s= (RFC 8866 §5.3: a single space when unnamed)
  int nameLine = 0;
  std::optional<std::string> information;  // i=
  int informationLine = 0;
  std::vector<SdpField> preConnection;     // u=, e=, p= in order
  std::optional<SdpConnection> connection;
  std::vector<SdpField> bandwidths;        // b=
  std::vector<SdpTiming> timings;          // t= (+ r=)
  std::vector<SdpField> postTiming;        // z=, k=
  std::vector<SdpAttribute> attributes;
  std::vector<SdpMedia> media;

  const SdpAttribute* attribute(const std::string& name) const;
  std::vector<const SdpAttribute*> attributesNamed(const std::string& name) const;
};

// Parses RFC 8866 text (CRLF or LF line ends). Line order within a section is not
// enforced (some gear writes `c=` after `t=`); writing restores the RFC order. Throws
// SdpError naming the line and the reason.
SdpSession parseSdp(const std::string& text);

// RFC 8866 text with CRLF line ends, fields in the RFC's order, attributes in the order kept.
std::string writeSdp(const SdpSession& session);

// "239.69.1.2/32" style connection address text, parsed into `out`; false if malformed.
bool parseConnectionAddress(const std::string& addrType, const std::string& text, SdpConnection& out);

}  // namespace aes67
