// libFuzzer: the SDP parser, writer, stream description and lint on arbitrary text. Only
// SdpError may come out, and what parses must write to text that parses to the same
// writing (round-trip stable).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/sdp/sdp_lint.hpp"
#include "engine/sdp/sdp_session.hpp"
#include "engine/sdp/sdp_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  aes67::lintSdp(text);
  aes67::SdpSession session;
  try {
    session = aes67::parseSdp(text);
  } catch (const aes67::SdpError&) {
    return 0;
  }
  const std::string once = aes67::writeSdp(session);
  std::string twice;
  try {
    twice = aes67::writeSdp(aes67::parseSdp(once));
  } catch (const aes67::SdpError&) {
    std::abort();  // what the engine wrote must parse
  }
  if (once != twice) std::abort();
  try {
    aes67::describeStream(session);
  } catch (const aes67::SdpError&) {
  }
  return 0;
}
