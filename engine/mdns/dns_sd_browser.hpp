// A DNS-SD browser over multicast DNS (RFC 6763 §4, RFC 6762 §5.2) for one service type
// or subtype — by default RAVENNA sessions, `_ravenna_session._sub._rtsp._tcp.local`
// (FIELD-NOTES "RAVENNA": instance name = session name). It asks for the PTR records,
// repeating the question at intervals that double from 1 s up to a limit, with the
// answers it already holds listed so responders stay quiet (§7.1); keeps every PTR, SRV,
// TXT and A record it hears (answers, additionals, unsolicited announcements) until its
// TTL runs out — a goodbye (TTL 0) leaves one second (§10.1), a record with the
// cache-flush bit replaces older ones of its name and type (§10.2); asks for the SRV/TXT
// or A records an instance still lacks; and lists the instances it can resolve to an
// address and port. Bounded: at most `maxRecords` cached (more are dropped and counted);
// every datagram it cannot read is counted by reason.
//
// handle()/update() are sans-IO (datagrams in, queries out through takeQueries());
// poll() drives them from a socket on a Transport (port 5353, group 224.0.0.251, IP TTL 255).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/transport.hpp"
#include "engine/mdns/dns_message.hpp"

namespace aes67 {

constexpr Ipv4Address kMdnsGroup = 0xE00000FB;  // 224.0.0.251
constexpr std::uint16_t kMdnsPort = 5353;

struct DnsSdBrowserConfig {
  std::string service = "_rtsp._tcp";
  std::string subtype = "_ravenna_session";  // "" browses the plain service type
  std::string domain = "local";
  std::string interfaceName;                 // multicast join and sends ("" = default)
  Nanoseconds firstInterval = 1 * kNanosPerSecond;
  Nanoseconds maxInterval = 60 * kNanosPerSecond;
  Nanoseconds resolveInterval = 1 * kNanosPerSecond;  // between SRV/TXT/A questions
  std::size_t maxRecords = 4096;
};

struct DnsSdInstance {
  std::string name;  // the instance label (RAVENNA: the session name)
  DnsName fqdn;      // <name>.<service>.<domain>
  DnsName host;      // SRV target (empty until known)
  Ipv4Address address = 0;  // 0 until the host's A record is known
  std::uint16_t port = 0;
  std::vector<std::string> txt;
  bool resolved() const { return address != 0 && port != 0; }
};

struct DnsSdBrowserStats {
  std::uint64_t received = 0;
  std::uint64_t responses = 0;
  std::uint64_t queriesSent = 0;
  std::uint64_t recordsCached = 0;
  std::uint64_t cacheFull = 0;      // records dropped: the cache was at maxRecords
  std::uint64_t goodbyes = 0;
  std::uint64_t sendErrors = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(DnsParseError::kCount)> dropped{};
};

class DnsSdBrowser {
 public:
  DnsSdBrowser(Transport& transport, DnsSdBrowserConfig config = {});
  explicit DnsSdBrowser(DnsSdBrowserConfig config);

  // Receives every waiting datagram, sends what is due; returns when it next wants to run.
  Nanoseconds poll();
  // Sans-IO: one received datagram.
  void handle(const std::uint8_t* data, std::size_t size, Nanoseconds now);
  // Sans-IO: expiry and the questions due (taken by takeQueries()); returns the next time.
  Nanoseconds update(Nanoseconds now);
  std::vector<std::vector<std::uint8_t>> takeQueries();

  // The instances whose PTR is held, resolved or not, in the order first heard.
  std::vector<DnsSdInstance> instances() const;
  std::optional<DnsSdInstance> find(const std::string& name) const;
  const DnsName& browseName() const { return browseName_; }
  const DnsSdBrowserStats& stats() const { return stats_; }
  std::size_t cachedRecords() const { return cache_.size(); }

 private:
  struct Cached {
    DnsRecord record;
    Nanoseconds receivedAt = 0;
    Nanoseconds expiresAt = 0;
  };
  void take(const DnsRecord& r, Nanoseconds now);
  std::vector<const Cached*> live(const DnsName& name, std::uint16_t type) const;
  void query(std::vector<DnsQuestion> questions, std::vector<DnsRecord> known);

  DnsSdBrowserConfig config_;
  DnsName serviceName_;
  DnsName browseName_;
  Transport* transport_ = nullptr;
  std::unique_ptr<DatagramSocket> socket_;
  std::vector<std::uint8_t> buffer_;
  std::vector<Cached> cache_;
  std::vector<std::vector<std::uint8_t>> queries_;
  Nanoseconds now_ = 0;
  Nanoseconds nextQueryAt_ = std::numeric_limits<Nanoseconds>::min();
  Nanoseconds interval_;
  Nanoseconds lastResolveAt_ = std::numeric_limits<Nanoseconds>::min() / 2;
  DnsSdBrowserStats stats_;
};

}  // namespace aes67
