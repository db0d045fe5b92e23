#include "engine/mdns/dns_sd_browser.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace aes67 {

namespace {

constexpr std::size_t kMaxQueuedQueries = 64;

bool sameData(const DnsRecord& a, const DnsRecord& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case dns::kA: return a.address == b.address;
    case dns::kPtr: return sameDnsName(a.target, b.target);
    case dns::kSrv: return a.priority == b.priority && a.weight == b.weight && a.port == b.port && sameDnsName(a.target, b.target);
    case dns::kTxt: return a.txt == b.txt;
    default: return a.rdata == b.rdata;
  }
}

DnsName join(const std::string& a, const DnsName& rest) {
  DnsName n = dnsName(a);
  n.insert(n.end(), rest.begin(), rest.end());
  return n;
}

}  // namespace

DnsSdBrowser::DnsSdBrowser(DnsSdBrowserConfig config) : config_(std::move(config)), interval_(config_.firstInterval) {
  if (config_.firstInterval <= 0 || config_.maxInterval < config_.firstInterval || config_.resolveInterval <= 0) {
    throw std::invalid_argument("DNS-SD browser intervals: need 0 < firstInterval <= maxInterval and resolveInterval > 0");
  }
  serviceName_ = join(config_.service, dnsName(config_.domain));
  browseName_ = config_.subtype.empty() ? serviceName_ : join(config_.subtype + "._sub", serviceName_);
}

DnsSdBrowser::DnsSdBrowser(Transport& transport, DnsSdBrowserConfig config) : DnsSdBrowser(std::move(config)) {
  transport_ = &transport;
  SocketOptions o;
  o.localPort = kMdnsPort;
  o.multicastTtl = 255;  // RFC 6762 §11
  o.interfaceName = config_.interfaceName;
  o.reuseAddress = true;
  o.receiveQueueLimit = 1024;
  socket_ = transport.open(o);
  socket_->joinMulticast(kMdnsGroup);
  buffer_.resize(9000);  // RFC 6762 §17: an mDNS packet is at most 9000 bytes
}

void DnsSdBrowser::handle(const std::uint8_t* data, std::size_t size, Nanoseconds now) {
  now_ = now;
  ++stats_.received;
  DnsMessage m;
  const DnsParseError e = parseDns(data, size, m);
  if (e != DnsParseError::kNone) {
    ++stats_.dropped[static_cast<std::size_t>(e)];
    return;
  }
  if (!m.isResponse()) return;  // other hosts' questions
  ++stats_.responses;
  for (const auto* section : {&m.answers, &m.additionals}) {
    for (const auto& r : *section) take(r, now);
  }
}

void DnsSdBrowser::take(const DnsRecord& r, Nanoseconds now) {
  if (r.klass != dns::kClassIn) return;
  if (r.type != dns::kPtr && r.type != dns::kSrv && r.type != dns::kTxt && r.type != dns::kA) return;
  if (r.ttl == 0) {
    // A goodbye: the record leaves in one second (RFC 6762 §10.1).
    for (auto& c : cache_) {
      if (c.record.type == r.type && sameDnsName(c.record.name, r.name) && sameData(c.record, r)) {
        c.expiresAt = std::min(c.expiresAt, now + kNanosPerSecond);
        ++stats_.goodbyes;
      }
    }
    return;
  }
  bool refreshed = false;
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->record.type == r.type && sameDnsName(it->record.name, r.name)) {
      if (sameData(it->record, r)) {
        it->record = r;
        it->receivedAt = now;
        it->expiresAt = now + static_cast<Nanoseconds>(r.ttl) * kNanosPerSecond;
        refreshed = true;
      } else if (r.cacheFlush && it->receivedAt < now - kNanosPerSecond) {
        // RFC 6762 §10.2: a unique record replaces what was heard more than a second ago.
        it = cache_.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (refreshed) return;
  if (cache_.size() >= config_.maxRecords) {
    ++stats_.cacheFull;
    return;
  }
  cache_.push_back({r, now, now + static_cast<Nanoseconds>(r.ttl) * kNanosPerSecond});
  ++stats_.recordsCached;
}

std::vector<const DnsSdBrowser::Cached*> DnsSdBrowser::live(const DnsName& name, std::uint16_t type) const {
  std::vector<const Cached*> out;
  for (const auto& c : cache_) {
    if (c.record.type == type && c.expiresAt > now_ && sameDnsName(c.record.name, name)) out.push_back(&c);
  }
  return out;
}

std::vector<DnsSdInstance> DnsSdBrowser::instances() const {
  std::vector<DnsSdInstance> out;
  for (const Cached* ptr : live(browseName_, dns::kPtr)) {
    const DnsName& fqdn = ptr->record.target;
    if (fqdn.size() != serviceName_.size() + 1 || !sameDnsName(DnsName(fqdn.begin() + 1, fqdn.end()), serviceName_)) continue;
    DnsSdInstance i;
    i.name = fqdn[0];
    i.fqdn = fqdn;
    const auto srv = live(fqdn, dns::kSrv);
    if (!srv.empty()) {
      i.host = srv.front()->record.target;
      i.port = srv.front()->record.port;
      const auto a = live(i.host, dns::kA);
      if (!a.empty()) i.address = a.front()->record.address;
    }
    const auto txt = live(fqdn, dns::kTxt);
    if (!txt.empty()) {
      for (const auto& s : txt.front()->record.txt) {
        if (!s.empty()) i.txt.push_back(s);
      }
    }
    out.push_back(std::move(i));
  }
  return out;
}

std::optional<DnsSdInstance> DnsSdBrowser::find(const std::string& name) const {
  for (auto& i : instances()) {
    if (i.name == name) return i;
  }
  return std::nullopt;
}

void DnsSdBrowser::query(std::vector<DnsQuestion> questions, std::vector<DnsRecord> known) {
  DnsMessage m;
  m.questions = std::move(questions);
  m.answers = std::move(known);
  if (queries_.size() >= kMaxQueuedQueries) queries_.erase(queries_.begin());
  queries_.push_back(writeDns(m));
}

Nanoseconds DnsSdBrowser::update(Nanoseconds now) {
  now_ = now;
  cache_.erase(std::remove_if(cache_.begin(), cache_.end(), [&](const Cached& c) { return c.expiresAt <= now; }), cache_.end());
  if (now >= nextQueryAt_) {
    // RFC 6762 §7.1: list the answers held with more than half their TTL left.
    std::vector<DnsRecord> known;
    for (const Cached* c : live(browseName_, dns::kPtr)) {
      const Nanoseconds left = c->expiresAt - now;
      if (left * 2 > static_cast<Nanoseconds>(c->record.ttl) * kNanosPerSecond) {
        DnsRecord k = c->record;
        k.ttl = static_cast<std::uint32_t>(left / kNanosPerSecond);
        k.cacheFlush = false;
        known.push_back(std::move(k));
      }
    }
    DnsQuestion q;
    q.name = browseName_;
    q.type = dns::kPtr;
    query({q}, std::move(known));
    nextQueryAt_ = now + interval_;
    interval_ = std::min(interval_ * 2, config_.maxInterval);
  }
  bool unresolved = false;
  std::vector<DnsQuestion> questions;
  for (const auto& i : instances()) {
    if (i.host.empty()) {
      questions.push_back({i.fqdn, dns::kSrv, dns::kClassIn, false});
      questions.push_back({i.fqdn, dns::kTxt, dns::kClassIn, false});
    } else if (i.address == 0) {
      questions.push_back({i.host, dns::kA, dns::kClassIn, false});
    }
  }
  if (!questions.empty()) {
    unresolved = true;
    if (now - lastResolveAt_ >= config_.resolveInterval) {
      if (questions.size() > 32) questions.resize(32);
      query(std::move(questions), {});
      lastResolveAt_ = now;
    }
  }
  Nanoseconds next = nextQueryAt_;
  for (const auto& c : cache_) next = std::min(next, c.expiresAt);
  if (unresolved) next = std::min(next, lastResolveAt_ + config_.resolveInterval);
  return next;
}

std::vector<std::vector<std::uint8_t>> DnsSdBrowser::takeQueries() {
  std::vector<std::vector<std::uint8_t>> out;
  out.swap(queries_);
  return out;
}

Nanoseconds DnsSdBrowser::poll() {
  if (!socket_) throw std::logic_error("DnsSdBrowser::poll() needs a Transport; use handle()/update()");
  const Nanoseconds now = transport_->clock().now();
  for (int n = 0; n < 1024; ++n) {
    const auto info = socket_->receive(buffer_.data(), buffer_.size());
    if (!info) break;
    if (info->truncated) {
      ++stats_.received;
      ++stats_.dropped[static_cast<std::size_t>(DnsParseError::kTruncated)];
      continue;
    }
    handle(buffer_.data(), info->size, now);
  }
  const Nanoseconds next = update(now);
  for (const auto& q : takeQueries()) {
    if (socket_->send({kMdnsGroup, kMdnsPort}, q.data(), q.size())) {
      ++stats_.queriesSent;
    } else {
      ++stats_.sendErrors;
    }
  }
  return next;
}

}  // namespace aes67
