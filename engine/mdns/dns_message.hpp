// DNS messages (RFC 1035 §4) as multicast DNS uses them (RFC 6762 §18): header,
// questions (with the unicast-response bit) and resource records (with the cache-flush
// bit), the record types DNS-SD needs read into fields (A, PTR, SRV, TXT) and any other
// kept as raw bytes. Names are lists of labels, so an instance label may hold dots,
// spaces and UTF-8 (RFC 6763 §4.3). Reading follows compression pointers (RFC 1035
// §4.1.4) only backwards and a bounded number of times, so a packet cannot loop the
// reader, and bounds names (255 bytes), labels and records; every refusal has a reason.
// Writing does not compress (a valid choice; mDNS packets here stay small).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/endpoint.hpp"

namespace aes67 {

using DnsName = std::vector<std::string>;  // labels, without the root

// "label.label.local" -> labels; a '\.' inside a label is a dot, '\\' a backslash.
DnsName dnsName(const std::string& dotted);
// The reverse: dots and backslashes inside labels escaped.
std::string formatDnsName(const DnsName& name);
// DNS names compare without regard to ASCII case (RFC 1035 §2.3.3, RFC 6762 §16).
bool sameDnsName(const DnsName& a, const DnsName& b);

namespace dns {
constexpr std::uint16_t kA = 1;
constexpr std::uint16_t kPtr = 12;
constexpr std::uint16_t kTxt = 16;
constexpr std::uint16_t kAaaa = 28;
constexpr std::uint16_t kSrv = 33;
constexpr std::uint16_t kAny = 255;
constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kFlagResponse = 0x8000;
constexpr std::uint16_t kFlagAuthoritative = 0x0400;
constexpr std::size_t kMaxNameBytes = 255;      // RFC 1035 §2.3.4, on the wire
constexpr std::size_t kMaxRecords = 256;        // questions + records one message may carry here
constexpr int kMaxPointerJumps = 32;
}  // namespace dns

struct DnsQuestion {
  DnsName name;
  std::uint16_t type = dns::kPtr;
  std::uint16_t klass = dns::kClassIn;
  bool unicastResponse = false;  // RFC 6762 §5.4: the top bit of the class
};

struct DnsRecord {
  DnsName name;
  std::uint16_t type = dns::kA;
  std::uint16_t klass = dns::kClassIn;
  bool cacheFlush = false;  // RFC 6762 §10.2: the top bit of the class
  std::uint32_t ttl = 0;
  Ipv4Address address = 0;                 // A
  DnsName target;                          // PTR; SRV's target host
  std::uint16_t priority = 0, weight = 0, port = 0;  // SRV
  std::vector<std::string> txt;            // TXT strings
  std::vector<std::uint8_t> rdata;         // any other type, as received
};

struct DnsMessage {
  std::uint16_t id = 0;  // 0 in mDNS (RFC 6762 §18.1)
  std::uint16_t flags = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authorities;
  std::vector<DnsRecord> additionals;
  bool isResponse() const { return (flags & dns::kFlagResponse) != 0; }
};

enum class DnsParseError : std::uint8_t {
  kNone,
  kTruncated,       // shorter than its header or its counts say
  kBadName,         // a label type other than 0 or pointer, or a name over 255 bytes
  kBadPointer,      // a compression pointer forwards, to itself, or too many in a row
  kBadRdata,        // a record's data does not fit its type (A not 4 bytes, SRV short...)
  kTooManyRecords,  // more than dns::kMaxRecords
  kCount
};
const char* toString(DnsParseError e);

DnsParseError parseDns(const std::uint8_t* data, std::size_t size, DnsMessage& out);
// Throws std::invalid_argument for what cannot be written (a label over 63 bytes, a
// name over 255, a TXT string over 255).
std::vector<std::uint8_t> writeDns(const DnsMessage& message);

}  // namespace aes67
