#include "driver/host/loopback_client.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace aes67 {

namespace {
std::vector<std::int32_t> identity(std::uint32_t in, std::uint32_t out) {
  std::vector<std::int32_t> m(out, LoopbackClient::kSilent);
  for (std::uint32_t o = 0; o < out && o < in; ++o) m[o] = static_cast<std::int32_t>(o);
  return m;
}
}  // namespace

LoopbackClient::LoopbackClient(std::uint32_t inputChannels, std::uint32_t outputChannels)
    : LoopbackClient(inputChannels, outputChannels, identity(inputChannels, outputChannels)) {}

LoopbackClient::LoopbackClient(std::uint32_t inputChannels, std::uint32_t outputChannels,
                               std::vector<std::int32_t> outputFromInput)
    : map_(std::move(outputFromInput)) {
  if (map_.size() != outputChannels) {
    throw std::invalid_argument("loopback map has " + std::to_string(map_.size()) + " entries for " +
                                std::to_string(outputChannels) + " output channels");
  }
  for (std::size_t o = 0; o < map_.size(); ++o) {
    if (map_[o] != kSilent && (map_[o] < 0 || static_cast<std::uint32_t>(map_[o]) >= inputChannels)) {
      throw std::invalid_argument("loopback map: output " + std::to_string(o + 1) + " takes input " +
                                  std::to_string(map_[o] + 1) + ", which does not exist (the device has " +
                                  std::to_string(inputChannels) + " inputs)");
    }
  }
  identity_ = inputChannels == outputChannels && map_ == identity(inputChannels, outputChannels);
}

void LoopbackClient::process(const IoCycleInfo&, const float* input, std::uint32_t inputChannels, float* output,
                             std::uint32_t outputChannels, std::uint32_t frames) {
  if (identity_) {
    std::memcpy(output, input, sizeof(float) * frames * outputChannels);
    return;
  }
  const std::int32_t* map = map_.data();
  for (std::uint32_t f = 0; f < frames; ++f) {
    const float* in = input + static_cast<std::size_t>(f) * inputChannels;
    float* out = output + static_cast<std::size_t>(f) * outputChannels;
    for (std::uint32_t o = 0; o < outputChannels; ++o) out[o] = map[o] == kSilent ? 0.0f : in[map[o]];
  }
}

}  // namespace aes67
