#include "engine/mdns/dns_message.hpp"

#include <stdexcept>

namespace aes67 {

const char* toString(DnsParseError e) {
  switch (e) {
    case DnsParseError::kNone: return "none";
    case DnsParseError::kTruncated: return "truncated";
    case DnsParseError::kBadName: return "bad-name";
    case DnsParseError::kBadPointer: return "bad-pointer";
    case DnsParseError::kBadRdata: return "bad-rdata";
    case DnsParseError::kTooManyRecords: return "too-many-records";
    case DnsParseError::kCount: break;
  }
  return "unknown";
}

DnsName dnsName(const std::string& dotted) {
  DnsName out;
  std::string label;
  bool any = false;
  for (std::size_t i = 0; i < dotted.size(); ++i) {
    const char c = dotted[i];
    if (c == '\\' && i + 1 < dotted.size()) {
      label += dotted[++i];
      any = true;
    } else if (c == '.') {
      if (any) out.push_back(label);
      label.clear();
      any = false;
    } else {
      label += c;
      any = true;
    }
  }
  if (any) out.push_back(label);
  return out;
}

std::string formatDnsName(const DnsName& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i) out += '.';
    for (char c : name[i]) {
      if (c == '.' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

bool sameDnsName(const DnsName& a, const DnsName& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (std::size_t j = 0; j < a[i].size(); ++j) {
      char x = a[i][j], y = b[i][j];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
  }
  return true;
}

namespace {

class Reader {
 public:
  Reader(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool u8(std::uint8_t& v) {
    if (at_ + 1 > n_) return false;
    v = d_[at_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (at_ + 2 > n_) return false;
    v = static_cast<std::uint16_t>(d_[at_] << 8 | d_[at_ + 1]);
    at_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (at_ + 4 > n_) return false;
    v = static_cast<std::uint32_t>(d_[at_]) << 24 | static_cast<std::uint32_t>(d_[at_ + 1]) << 16 |
        static_cast<std::uint32_t>(d_[at_ + 2]) << 8 | d_[at_ + 3];
    at_ += 4;
    return true;
  }
  // A name at the current position (following pointers); leaves the position after it.
  DnsParseError name(DnsName& out) {
    out.clear();
    std::size_t pos = at_;
    std::size_t wire = 1;  // the root
    int jumps = 0;
    bool jumped = false;
    std::size_t limit = pos;  // a pointer must point before where this part of the name starts
    for (;;) {
      if (pos >= n_) return DnsParseError::kTruncated;
      const std::uint8_t len = d_[pos];
      if ((len & 0xC0) == 0xC0) {
        if (pos + 1 >= n_) return DnsParseError::kTruncated;
        const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | d_[pos + 1];
        if (target >= limit || ++jumps > dns::kMaxPointerJumps) return DnsParseError::kBadPointer;
        if (!jumped) at_ = pos + 2;
        jumped = true;
        pos = target;
        limit = target;
        continue;
      }
      if ((len & 0xC0) != 0) return DnsParseError::kBadName;  // RFC 6891 extended label types
      if (len == 0) {
        if (!jumped) at_ = pos + 1;
        return DnsParseError::kNone;
      }
      if (pos + 1 + len > n_) return DnsParseError::kTruncated;
      wire += 1 + len;
      if (wire > dns::kMaxNameBytes) return DnsParseError::kBadName;
      out.emplace_back(reinterpret_cast<const char*>(d_ + pos + 1), len);
      pos += 1 + len;
    }
  }
  std::size_t at() const { return at_; }
  void seek(std::size_t p) { at_ = p; }
  const std::uint8_t* data() const { return d_; }
  std::size_t size() const { return n_; }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t at_ = 0;
};

DnsParseError readRecord(Reader& r, DnsRecord& rec) {
  if (const DnsParseError e = r.name(rec.name); e != DnsParseError::kNone) return e;
  std::uint16_t cls = 0, rdlength = 0;
  if (!r.u16(rec.type) || !r.u16(cls) || !r.u32(rec.ttl) || !r.u16(rdlength)) return DnsParseError::kTruncated;
  rec.cacheFlush = (cls & 0x8000) != 0;
  rec.klass = cls & 0x7FFF;
  const std::size_t start = r.at();
  const std::size_t end = start + rdlength;
  if (end > r.size()) return DnsParseError::kTruncated;
  switch (rec.type) {
    case dns::kA: {
      if (rdlength != 4) return DnsParseError::kBadRdata;
      std::uint32_t a = 0;
      r.u32(a);
      rec.address = a;
      break;
    }
    case dns::kPtr: {
      if (const DnsParseError e = r.name(rec.target); e != DnsParseError::kNone) return e == DnsParseError::kTruncated ? DnsParseError::kBadRdata : e;
      if (r.at() != end) return DnsParseError::kBadRdata;
      break;
    }
    case dns::kSrv: {
      if (rdlength < 7 || !r.u16(rec.priority) || !r.u16(rec.weight) || !r.u16(rec.port)) return DnsParseError::kBadRdata;
      if (const DnsParseError e = r.name(rec.target); e != DnsParseError::kNone) return e == DnsParseError::kTruncated ? DnsParseError::kBadRdata : e;
      if (r.at() != end) return DnsParseError::kBadRdata;
      break;
    }
    case dns::kTxt: {
      std::size_t p = start;
      while (p < end) {
        const std::size_t len = r.data()[p];
        if (p + 1 + len > end) return DnsParseError::kBadRdata;
        rec.txt.emplace_back(reinterpret_cast<const char*>(r.data() + p + 1), len);
        p += 1 + len;
      }
      r.seek(end);
      break;
    }
    default:
      rec.rdata.assign(r.data() + start, r.data() + end);
      r.seek(end);
  }
  return DnsParseError::kNone;
}

void putU16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void putName(std::vector<std::uint8_t>& out, const DnsName& name) {
  std::size_t wire = 1;
  for (const auto& label : name) {
    if (label.empty() || label.size() > 63) throw std::invalid_argument("DNS label \"" + label + "\" must be 1-63 bytes");
    wire += 1 + label.size();
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  if (wire > dns::kMaxNameBytes) throw std::invalid_argument("DNS name " + formatDnsName(name) + " is over 255 bytes");
  out.push_back(0);
}

void putRecord(std::vector<std::uint8_t>& out, const DnsRecord& r) {
  putName(out, r.name);
  putU16(out, r.type);
  putU16(out, static_cast<std::uint16_t>(r.klass | (r.cacheFlush ? 0x8000 : 0)));
  putU16(out, static_cast<std::uint16_t>(r.ttl >> 16));
  putU16(out, static_cast<std::uint16_t>(r.ttl));
  const std::size_t lengthAt = out.size();
  putU16(out, 0);
  switch (r.type) {
    case dns::kA:
      putU16(out, static_cast<std::uint16_t>(r.address >> 16));
      putU16(out, static_cast<std::uint16_t>(r.address));
      break;
    case dns::kPtr:
      putName(out, r.target);
      break;
    case dns::kSrv:
      putU16(out, r.priority);
      putU16(out, r.weight);
      putU16(out, r.port);
      putName(out, r.target);
      break;
    case dns::kTxt:
      if (r.txt.empty()) out.push_back(0);  // RFC 6763 §6.1: an empty TXT is one empty string
      for (const auto& s : r.txt) {
        if (s.size() > 255) throw std::invalid_argument("DNS TXT string over 255 bytes");
        out.push_back(static_cast<std::uint8_t>(s.size()));
        out.insert(out.end(), s.begin(), s.end());
      }
      break;
    default:
      out.insert(out.end(), r.rdata.begin(), r.rdata.end());
  }
  const std::size_t length = out.size() - lengthAt - 2;
  if (length > 0xFFFF) throw std::invalid_argument("DNS record data over 65535 bytes");
  out[lengthAt] = static_cast<std::uint8_t>(length >> 8);
  out[lengthAt + 1] = static_cast<std::uint8_t>(length);
}

}  // namespace

DnsParseError parseDns(const std::uint8_t* data, std::size_t size, DnsMessage& out) {
  out = DnsMessage{};
  Reader r(data, size);
  std::uint16_t counts[4] = {};
  if (!r.u16(out.id) || !r.u16(out.flags)) return DnsParseError::kTruncated;
  for (auto& c : counts) {
    if (!r.u16(c)) return DnsParseError::kTruncated;
  }
  if (static_cast<std::size_t>(counts[0]) + counts[1] + counts[2] + counts[3] > dns::kMaxRecords) return DnsParseError::kTooManyRecords;
  for (std::uint16_t i = 0; i < counts[0]; ++i) {
    DnsQuestion q;
    if (const DnsParseError e = r.name(q.name); e != DnsParseError::kNone) return e;
    std::uint16_t cls = 0;
    if (!r.u16(q.type) || !r.u16(cls)) return DnsParseError::kTruncated;
    q.unicastResponse = (cls & 0x8000) != 0;
    q.klass = cls & 0x7FFF;
    out.questions.push_back(std::move(q));
  }
  std::vector<DnsRecord>* sections[3] = {&out.answers, &out.authorities, &out.additionals};
  for (int s = 0; s < 3; ++s) {
    for (std::uint16_t i = 0; i < counts[s + 1]; ++i) {
      DnsRecord rec;
      if (const DnsParseError e = readRecord(r, rec); e != DnsParseError::kNone) return e;
      sections[s]->push_back(std::move(rec));
    }
  }
  return DnsParseError::kNone;
}

std::vector<std::uint8_t> writeDns(const DnsMessage& m) {
  std::vector<std::uint8_t> out;
  putU16(out, m.id);
  putU16(out, m.flags);
  putU16(out, static_cast<std::uint16_t>(m.questions.size()));
  putU16(out, static_cast<std::uint16_t>(m.answers.size()));
  putU16(out, static_cast<std::uint16_t>(m.authorities.size()));
  putU16(out, static_cast<std::uint16_t>(m.additionals.size()));
  for (const auto& q : m.questions) {
    putName(out, q.name);
    putU16(out, q.type);
    putU16(out, static_cast<std::uint16_t>(q.klass | (q.unicastResponse ? 0x8000 : 0)));
  }
  for (const auto* section : {&m.answers, &m.authorities, &m.additionals}) {
    for (const auto& rec : *section) putRecord(out, rec);
  }
  return out;
}

}  // namespace aes67
