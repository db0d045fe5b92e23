// libFuzzer: the RTSP message parser and the RTSP client's state machine on arbitrary
// bytes. The parser must give the same messages and verdict whether the bytes come whole
// or cut at points the input chooses, hold no more than its limits, and read back what
// the writer makes of each message. The client, fed the bytes as the server's side of a
// connection with time moving, must keep its output and its event queue bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/rtsp/rtsp_client.hpp"
#include "engine/rtsp/rtsp_message.hpp"

namespace {

bool same(const aes67::RtspMessage& a, const aes67::RtspMessage& b, bool ignoreLength) {
  auto headers = [&](const aes67::RtspMessage& m) {
    std::vector<aes67::RtspHeader> out;
    for (const auto& h : m.headers) {
      if (!ignoreLength || !aes67::equalsIgnoreCase(h.name, "Content-Length")) out.push_back(h);
    }
    return out;
  };
  const auto ha = headers(a);
  const auto hb = headers(b);
  if (ha.size() != hb.size()) return false;
  for (std::size_t i = 0; i < ha.size(); ++i) {
    if (ha[i].name != hb[i].name || ha[i].value != hb[i].value) return false;
  }
  return a.isRequest == b.isRequest && a.method == b.method && a.url == b.url && a.status == b.status && a.reason == b.reason &&
         a.version == b.version && a.body == b.body;
}

void checkParser(const std::uint8_t* data, std::size_t size) {
  aes67::RtspParser whole;
  const auto w = aes67::parseRtspMessages(whole, data, size);
  // Cut where the input has a byte below 8 (arbitrary but input-chosen, so the fuzzer steers it).
  aes67::RtspParser split;
  std::vector<aes67::RtspMessage> s;
  std::size_t prev = 0;
  for (std::size_t i = 0; i <= size; ++i) {
    if (i < size && data[i] >= 8) continue;
    const auto r = aes67::parseRtspMessages(split, data + prev, i - prev);
    s.insert(s.end(), r.messages.begin(), r.messages.end());
    prev = i;
  }
  if (s.size() != w.messages.size() || split.error() != whole.error()) std::abort();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!same(s[i], w.messages[i], false)) std::abort();
  }
  for (const auto& m : w.messages) {
    if (m.body.size() > aes67::kRtspMaxBodyBytes || m.headers.size() > aes67::kRtspMaxHeaders) std::abort();
    std::string text;
    try {
      text = aes67::writeRtspMessage(m);
    } catch (const std::invalid_argument&) {
      continue;  // a value with a bare CR, say: taken in, but the writer will not emit it
    }
    aes67::RtspParser again;
    const auto r = aes67::parseRtspMessages(again, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    if (r.error != aes67::RtspParseError::kNone || r.messages.size() != 1 || !same(r.messages[0], m, true)) std::abort();
  }
}

void checkClient(const std::uint8_t* data, std::size_t size) {
  aes67::RtspClientConfig c;
  c.url = "rtsp://10.67.180.1:554/by-name/fuzz";
  c.sendOptions = size > 0 && (data[0] & 1);
  c.keepaliveInterval = size > 0 && (data[0] & 2) ? 1'000'000'000 : 0;
  c.maxOutgoingBytes = 4096;
  c.maxQueuedEvents = 16;
  aes67::RtspClient client(c);
  aes67::Nanoseconds now = 0;
  std::size_t at = 0;
  // Chunks of up to 64 bytes; between them time moves by the byte after the chunk (in
  // 100 ms units), and the owner takes what the client wrote only every other time.
  for (int step = 0; at < size && step < 10'000; ++step) {
    client.poll(now);
    switch (client.takeLinkCommand()) {
      case aes67::RtspClient::LinkCommand::kConnect: client.connected(now); break;
      case aes67::RtspClient::LinkCommand::kClose:
      case aes67::RtspClient::LinkCommand::kNone: break;
    }
    const std::size_t n = std::min<std::size_t>(64, size - at);
    client.receive(data + at, n, now);
    at += n;
    if (step % 2 == 0) client.takeOutgoing();
    if (at < size && data[at] == 0xff) client.closed(now, "fuzz");
    now += (at < size ? data[at] : 1) * 100'000'000LL;
    if (client.takeEvents().size() > c.maxQueuedEvents) std::abort();
  }
  if (client.takeOutgoing().size() > c.maxOutgoingBytes) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  checkParser(data, size);
  checkClient(data, size);
  return 0;
}
