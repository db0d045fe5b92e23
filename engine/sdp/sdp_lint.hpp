// AES67-2018 / SMPTE ST 2110-30 checks of an SDP, each finding with a severity, the clause
// it rests on, a stable code and the line. Unlike describeStream, which stops at the first
// thing the engine cannot use, the lint looks at everything, so a non-AES67 SDP (ffmpeg's)
// gets every missing attribute named at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aes67 {

enum class SdpSeverity : std::uint8_t { kError, kWarning, kInfo };
const char* toString(SdpSeverity s);

struct SdpFinding {
  SdpSeverity severity = SdpSeverity::kError;
  std::string code;     // stable: "missing-ptime", "missing-ts-refclk", "bad-rate", ...
  std::string clause;   // "AES67-2018 §8.1", "RFC 8866 §5.7", "FIELD-NOTES Dante"
  std::string message;
  int line = 0;         // 0: the whole text or a missing line
};

std::vector<SdpFinding> lintSdp(const std::string& text);

// AES67-conformant: no finding of error severity.
bool isAes67(const std::vector<SdpFinding>& findings);

}  // namespace aes67
