#include "driver/core/device_config.hpp"

#include <algorithm>
#include <stdexcept>

namespace aes67 {

bool isSupportedSampleRate(std::uint32_t rate) {
  return std::find(kSupportedSampleRates.begin(), kSupportedSampleRates.end(), rate) != kSupportedSampleRates.end();
}

void validateIoBufferFrames(std::uint32_t frames) {
  if (frames < kMinIoBufferFrames || frames > kMaxIoBufferFrames) {
    throw std::invalid_argument("ioBufferFrames " + std::to_string(frames) + " is out of range: use 16-4096");
  }
}

void validate(const DeviceConfig& c) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (c.name.empty()) fail("device name must not be empty");
  if (c.uid.empty()) fail("device UID must not be empty");
  if (c.inputChannels < 1 || c.inputChannels > kMaxDeviceChannels) {
    fail("inputChannels " + std::to_string(c.inputChannels) + " is out of range: use 1-128");
  }
  if (c.outputChannels < 1 || c.outputChannels > kMaxDeviceChannels) {
    fail("outputChannels " + std::to_string(c.outputChannels) + " is out of range: use 1-128");
  }
  if (!isSupportedSampleRate(c.sampleRate)) {
    fail("sampleRate " + std::to_string(c.sampleRate) +
         " is not supported: use 44100, 48000, 88200, 96000, 176400, 192000, 352800 or 384000");
  }
  if (c.zeroTimeStampPeriod < kMaxIoBufferFrames) {
    fail("zeroTimeStampPeriod " + std::to_string(c.zeroTimeStampPeriod) +
         " is too short: use at least 4096 frames (the largest IO buffer)");
  }
}

}  // namespace aes67
