// RTSP/1.0 messages (RFC 2326 §4-§7): requests and responses, each a start line, header
// lines and an optional Content-Length body. RtspParser reads them incrementally from a
// byte stream — split anywhere, pipelined, CRLF or bare-LF line ends (RFC 2326 §4 via
// RFC 2616 §19.3: a tolerant reader takes LF and ignores the CR before it) — and holds at
// most one message: hard limits on line length, header count, header block and body size
// keep a bad peer from growing memory, and every refusal is counted by reason. After a
// refusal the parser stays failed: framing is lost, so the connection must be closed.
// The writer produces CRLF lines and adds Content-Length for a body.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aes67 {

// The limits. Header block and body match the lab's reader (lab/net/rtsp-message.ts) so the
// two can be crossed; the line and header-count limits are the engine's own.
constexpr std::size_t kRtspMaxLineBytes = 8 * 1024;
constexpr std::size_t kRtspMaxHeaderBlockBytes = 16 * 1024;  // start line + headers, without the last line end
constexpr std::size_t kRtspMaxHeaders = 64;
constexpr std::size_t kRtspMaxBodyBytes = 64 * 1024;

// Why a byte stream was refused. Names shared with lab/net/rtsp-message.ts where they overlap.
enum class RtspParseError : std::uint8_t {
  kNone,
  kLineTooLong,       // one line over kRtspMaxLineBytes
  kHeaderTooLong,     // the header block over kRtspMaxHeaderBlockBytes
  kTooManyHeaders,    // over kRtspMaxHeaders header lines
  kBadStartLine,      // neither "METHOD url RTSP/x.y" nor "RTSP/x.y nnn reason"
  kBadHeader,         // not "name: value" (no colon, empty name, or a folded line)
  kBadContentLength,  // not digits, or two Content-Length headers that disagree
  kBodyTooLong,       // Content-Length over kRtspMaxBodyBytes
  kCount
};
const char* toString(RtspParseError e);

struct RtspHeader {
  std::string name;   // as written
  std::string value;  // without surrounding whitespace
};

struct RtspMessage {
  bool isRequest = true;
  std::string method;  // request: "DESCRIBE", "ANNOUNCE", ...
  std::string url;     // request
  int status = 0;      // response: 100-999
  std::string reason;  // response
  std::string version = "RTSP/1.0";
  std::vector<RtspHeader> headers;  // in the order written; duplicates kept
  std::string body;                 // bytes, exactly Content-Length of them

  // The last header of that name, compared without regard to case (RFC 2326 §4.2).
  const std::string* header(std::string_view name) const;
};

struct RtspParserStats {
  std::uint64_t messages = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses = 0;
  std::uint64_t bytes = 0;         // taken by feed()
  std::uint64_t blankLines = 0;    // skipped between messages
  std::array<std::uint64_t, static_cast<std::size_t>(RtspParseError::kCount)> refused{};
  std::uint64_t refusedTotal() const;
};

class RtspParser {
 public:
  // Takes bytes until one message is complete or the stream is refused; returns how many
  // it took (call again with the rest after take()). Takes nothing while a message waits.
  std::size_t feed(const std::uint8_t* data, std::size_t size);
  std::size_t feed(std::string_view bytes) { return feed(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()); }
  bool hasMessage() const { return ready_; }
  // The complete message; only when hasMessage().
  RtspMessage take();
  bool failed() const { return error_ != RtspParseError::kNone; }
  RtspParseError error() const { return error_; }
  // What was wrong, for a log line: the reason and the offending text (shortened).
  const std::string& errorDetail() const { return detail_; }
  // True between messages (nothing of a next message read yet).
  bool idle() const { return state_ == State::kStartLine && line_.empty() && !ready_; }
  const RtspParserStats& stats() const { return stats_; }
  // Forgets the stream (a new connection); keeps the statistics.
  void reset();

 private:
  enum class State : std::uint8_t { kStartLine, kHeaders, kBody };
  void refuse(RtspParseError e, std::string detail);
  void endOfLine();
  void startLine(std::string_view line);
  void headerLine(std::string_view line);
  void endOfHeaders();
  void complete();
  std::size_t partialLineBytes() const;

  State state_ = State::kStartLine;
  RtspMessage message_;
  std::string line_;            // the line being read, without its LF
  std::size_t blockBytes_ = 0;  // header block so far: completed lines with their line ends
  std::size_t lastLineEnd_ = 0; // 1 (LF) or 2 (CRLF): the line end of the last completed line
  std::size_t bodyLength_ = 0;
  bool ready_ = false;
  RtspParseError error_ = RtspParseError::kNone;
  std::string detail_;
  RtspParserStats stats_;
};

// Feeds a whole buffer: every message in it, in order, and the refusal if there was one.
struct RtspParseResult {
  std::vector<RtspMessage> messages;
  RtspParseError error = RtspParseError::kNone;
};
RtspParseResult parseRtspMessages(RtspParser& parser, const std::uint8_t* data, std::size_t size);

// The writer: "METHOD url RTSP/1.0" or "RTSP/1.0 status reason", the headers, a
// Content-Length when there is a body (any Content-Length in `headers` is replaced), CRLF.
std::string writeRtspRequest(const std::string& method, const std::string& url,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body = "");
std::string writeRtspResponse(int status, const std::string& reason,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body = "");
std::string writeRtspMessage(const RtspMessage& message);

// Case-insensitive ASCII comparison (header names, media types).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace aes67
