// The decimal numbers SDP lines carry (RFC 8866 ABNF: digits only, no sign or spaces),
// read without overflow.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

namespace aes67 {

inline bool allDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal digits into a value no larger than `max`; false for anything else.
inline bool parseUnsigned(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (!allDigits(s) || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace aes67
