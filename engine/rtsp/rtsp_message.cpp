#include "engine/rtsp/rtsp_message.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aes67 {

const char* toString(RtspParseError e) {
  switch (e) {
    case RtspParseError::kNone: return "none";
    case RtspParseError::kLineTooLong: return "line-too-long";
    case RtspParseError::kHeaderTooLong: return "header-too-long";
    case RtspParseError::kTooManyHeaders: return "too-many-headers";
    case RtspParseError::kBadStartLine: return "bad-start-line";
    case RtspParseError::kBadHeader: return "bad-header";
    case RtspParseError::kBadContentLength: return "bad-content-length";
    case RtspParseError::kBodyTooLong: return "body-too-long";
    case RtspParseError::kCount: break;
  }
  return "unknown";
}

std::uint64_t RtspParserStats::refusedTotal() const {
  std::uint64_t n = 0;
  for (auto r : refused) n += r;
  return n;
}

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ASCII whitespace, as the lab's reader trims it (SP, HT, VT, FF, CR).
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Shortened and made printable for an error detail.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < 60; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 60) out += "...";
  return out + "\"";
}

// "RTSP/" DIGIT "." DIGIT (RFC 2326 §3.1).
bool isVersion(std::string_view s) {
  return s.size() == 8 && s.substr(0, 5) == "RTSP/" && isDigit(s[5]) && s[6] == '.' && isDigit(s[7]);
}

// RFC 2326 §6.1: the methods are upper-case words with '_' (GET_PARAMETER).
bool isMethod(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

// A Request-URI: visible US-ASCII only (RFC 3986 §2; no spaces or controls).
bool isUrl(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Reason-Phrase: TEXT without CR or LF (RFC 2326 §7.1); HT is allowed, other controls are not.
bool isReason(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

void checkToken(const std::string& s, const char* what) {
  if (s.empty()) throw std::invalid_argument(std::string("RTSP ") + what + " is empty");
  for (char c : s) {
    if (c == '\r' || c == '\n') throw std::invalid_argument(std::string("RTSP ") + what + " " + quote(s) + " contains a line break");
  }
}

std::string writeHeaders(const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (equalsIgnoreCase(name, "Content-Length")) continue;
    checkToken(name, "header name");
    if (name.find(':') != std::string::npos) throw std::invalid_argument("RTSP header name " + quote(name) + " contains ':'");
    for (char c : value) {
      if (c == '\r' || c == '\n') throw std::invalid_argument("RTSP header " + name + " value " + quote(value) + " contains a line break");
    }
    out += name + ": " + value + "\r\n";
  }
  if (!body.empty()) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  return out + body;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const std::string* RtspMessage::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (equalsIgnoreCase(it->name, name)) return &it->value;
  }
  return nullptr;
}

void RtspParser::reset() {
  state_ = State::kStartLine;
  message_ = RtspMessage{};
  line_.clear();
  blockBytes_ = 0;
  lastLineEnd_ = 0;
  bodyLength_ = 0;
  ready_ = false;
  error_ = RtspParseError::kNone;
  detail_.clear();
}

void RtspParser::refuse(RtspParseError e, std::string detail) {
  error_ = e;
  detail_ = std::string(toString(e)) + ": " + detail;
  ++stats_.refused[static_cast<std::size_t>(e)];
  line_.clear();
  line_.shrink_to_fit();
  message_ = RtspMessage{};
}

// Bytes of the line being read that are certainly content: a trailing CR may still turn
// out to be the first half of CRLF.
std::size_t RtspParser::partialLineBytes() const {
  return !line_.empty() && line_.back() == '\r' ? line_.size() - 1 : line_.size();
}

std::size_t RtspParser::feed(const std::uint8_t* data, std::size_t size) {
  if (ready_ || failed()) return 0;
  std::size_t i = 0;
  while (i < size && !ready_ && !failed()) {
    if (state_ == State::kBody) {
      const std::size_t n = std::min(size - i, bodyLength_ - message_.body.size());
      message_.body.append(reinterpret_cast<const char*>(data + i), n);
      i += n;
      if (message_.body.size() == bodyLength_) complete();
      continue;
    }
    const void* lf = std::memchr(data + i, '\n', size - i);
    const std::size_t end = lf ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(lf) - data) : size;
    // Bound what a line may hold before appending it (a peer may never send LF).
    const std::size_t room = kRtspMaxLineBytes + 1 - line_.size();  // +1: a CR before the LF
    const std::size_t take = std::min(end - i, room + 1);
    line_.append(reinterpret_cast<const char*>(data + i), take);
    i += take;
    const std::size_t content = partialLineBytes();
    if (content > kRtspMaxLineBytes) {
      refuse(RtspParseError::kLineTooLong, "a line over " + std::to_string(kRtspMaxLineBytes) + " bytes: " + quote(line_));
      break;
    }
    if (state_ == State::kHeaders) {
      // What the block will at least measure: this line if it has content, else (it may
      // be the blank line that ends the block) the block without its last line end.
      const std::size_t least = content > 0 ? blockBytes_ + content : blockBytes_ - lastLineEnd_;
      if (least > kRtspMaxHeaderBlockBytes) {
        refuse(RtspParseError::kHeaderTooLong, "header block over " + std::to_string(kRtspMaxHeaderBlockBytes) + " bytes");
        break;
      }
    }
    if (i < size && data[i] == '\n') {
      ++i;
      endOfLine();
    }
  }
  stats_.bytes += i;
  return i;
}

void RtspParser::endOfLine() {
  std::size_t ending = 1;
  if (!line_.empty() && line_.back() == '\r') {
    line_.pop_back();
    ending = 2;
  }
  if (state_ == State::kStartLine) {
    if (line_.empty()) {
      // Blank lines between messages are allowed (RFC 2326 §4 via RFC 2616 §4.1).
      ++stats_.blankLines;
      return;
    }
    blockBytes_ = line_.size() + ending;
    lastLineEnd_ = ending;
    startLine(line_);
  } else if (line_.empty()) {
    endOfHeaders();
  } else {
    blockBytes_ += line_.size() + ending;
    lastLineEnd_ = ending;
    headerLine(line_);
  }
  line_.clear();
}

void RtspParser::startLine(std::string_view line) {
  message_ = RtspMessage{};
  if (line.substr(0, 5) == "RTSP/") {
    // Status-Line = RTSP-Version SP Status-Code SP Reason-Phrase (RFC 2326 §7.1); a
    // missing reason is tolerated.
    const bool ok = line.size() >= 12 && isVersion(line.substr(0, 8)) && line[8] == ' ' && isDigit(line[9]) &&
                    isDigit(line[10]) && isDigit(line[11]) && (line.size() == 12 || line[12] == ' ') &&
                    isReason(line.size() > 13 ? line.substr(13) : std::string_view{});
    if (!ok) return refuse(RtspParseError::kBadStartLine, quote(line) + " is not \"RTSP/1.0 <code> <reason>\"");
    message_.isRequest = false;
    message_.version = std::string(line.substr(0, 8));
    message_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (line.size() > 13) message_.reason = std::string(line.substr(13));
  } else {
    // Request-Line = Method SP Request-URI SP RTSP-Version (RFC 2326 §6.1).
    const std::size_t a = line.find(' ');
    const std::size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    const bool ok = b != std::string_view::npos && line.find(' ', b + 1) == std::string_view::npos &&
                    isMethod(line.substr(0, a)) && isUrl(line.substr(a + 1, b - a - 1)) && isVersion(line.substr(b + 1));
    if (!ok) return refuse(RtspParseError::kBadStartLine, quote(line) + " is not \"METHOD url RTSP/1.0\"");
    message_.isRequest = true;
    message_.method = std::string(line.substr(0, a));
    message_.url = std::string(line.substr(a + 1, b - a - 1));
    message_.version = std::string(line.substr(b + 1));
  }
  state_ = State::kHeaders;
}

void RtspParser::headerLine(std::string_view line) {
  if (message_.headers.size() >= kRtspMaxHeaders) {
    return refuse(RtspParseError::kTooManyHeaders, "over " + std::to_string(kRtspMaxHeaders) + " headers");
  }
  // A line starting with white space would be an obsolete folded continuation (RFC 7230
  // §3.2.4 has a recipient reject it); RTSP gear does not fold.
  if (isSpace(line.front())) return refuse(RtspParseError::kBadHeader, quote(line) + " starts with white space (folded header)");
  const std::size_t colon = line.find(':');
  const std::string_view name = colon == std::string_view::npos ? std::string_view{} : trim(line.substr(0, colon));
  if (name.empty()) return refuse(RtspParseError::kBadHeader, quote(line) + " is not \"name: value\"");
  message_.headers.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
}

void RtspParser::endOfHeaders() {
  // The lab's reader measures the block without the line end of its last line.
  if (blockBytes_ - lastLineEnd_ > kRtspMaxHeaderBlockBytes) {
    return refuse(RtspParseError::kHeaderTooLong, std::to_string(blockBytes_ - lastLineEnd_) + " bytes of header block");
  }
  std::optional<std::uint64_t> length;
  for (const auto& h : message_.headers) {
    if (!equalsIgnoreCase(h.name, "Content-Length")) continue;
    const std::string& v = h.value;
    if (v.empty() || !std::all_of(v.begin(), v.end(), isDigit)) {
      return refuse(RtspParseError::kBadContentLength, "Content-Length " + quote(v) + " is not a number");
    }
    std::uint64_t n = 0;
    for (char c : v) n = std::min<std::uint64_t>(n * 10 + static_cast<std::uint64_t>(c - '0'), UINT64_MAX / 20);
    // Two lengths that disagree make the framing ambiguous (RFC 7230 §3.3.3 item 4).
    if (length && *length != n) return refuse(RtspParseError::kBadContentLength, "two Content-Length headers that disagree");
    length = n;
  }
  if (length && *length > kRtspMaxBodyBytes) {
    return refuse(RtspParseError::kBodyTooLong, "Content-Length " + std::to_string(*length) + " over " + std::to_string(kRtspMaxBodyBytes));
  }
  bodyLength_ = length ? static_cast<std::size_t>(*length) : 0;
  if (bodyLength_ == 0) return complete();
  message_.body.reserve(bodyLength_);
  state_ = State::kBody;
}

void RtspParser::complete() {
  ready_ = true;
  ++stats_.messages;
  ++(message_.isRequest ? stats_.requests : stats_.responses);
}

RtspMessage RtspParser::take() {
  if (!ready_) throw std::logic_error("RtspParser::take() without a complete message");
  RtspMessage m = std::move(message_);
  message_ = RtspMessage{};
  ready_ = false;
  state_ = State::kStartLine;
  blockBytes_ = 0;
  lastLineEnd_ = 0;
  bodyLength_ = 0;
  return m;
}

RtspParseResult parseRtspMessages(RtspParser& parser, const std::uint8_t* data, std::size_t size) {
  RtspParseResult r;
  std::size_t at = 0;
  for (;;) {
    at += parser.feed(data + at, size - at);
    if (parser.hasMessage()) {
      r.messages.push_back(parser.take());
      continue;
    }
    break;
  }
  r.error = parser.error();
  return r;
}

namespace {

std::string requestText(const std::string& method, const std::string& url, const std::string& version,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  if (!isMethod(method)) throw std::invalid_argument("RTSP method " + quote(method) + " is not an upper-case word");
  if (!isUrl(url)) throw std::invalid_argument("RTSP request URL " + quote(url) + " has spaces, controls or non-ASCII bytes (percent-encode them)");
  if (!isVersion(version)) throw std::invalid_argument("RTSP version " + quote(version) + " is not RTSP/<d>.<d>");
  return method + " " + url + " " + version + "\r\n" + writeHeaders(headers, body);
}

std::string responseText(int status, const std::string& reason, const std::string& version,
                         const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  if (status < 100 || status > 999) throw std::invalid_argument("RTSP status " + std::to_string(status) + " is not 100-999");
  if (!isReason(reason)) throw std::invalid_argument("RTSP reason " + quote(reason) + " contains control characters");
  if (!isVersion(version)) throw std::invalid_argument("RTSP version " + quote(version) + " is not RTSP/<d>.<d>");
  return version + " " + std::to_string(status) + (reason.empty() ? "" : " " + reason) + "\r\n" + writeHeaders(headers, body);
}

}  // namespace

std::string writeRtspRequest(const std::string& method, const std::string& url,
                             const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  return requestText(method, url, "RTSP/1.0", headers, body);
}

std::string writeRtspResponse(int status, const std::string& reason,
                              const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  return responseText(status, reason, "RTSP/1.0", headers, body);
}

std::string writeRtspMessage(const RtspMessage& m) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(m.headers.size());
  for (const auto& h : m.headers) headers.emplace_back(h.name, h.value);
  return m.isRequest ? requestText(m.method, m.url, m.version, headers, m.body)
                     : responseText(m.status, m.reason, m.version, headers, m.body);
}

}  // namespace aes67
