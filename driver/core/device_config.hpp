// The device's identity and shape as a user or the stream map sets it, and its validation.
// Everything Core Audio reads from the configuration (channels, rates, the zero-time-stamp
// period, the IO buffer range) is checked here once, so the IO path never has to.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace aes67 {

constexpr std::uint32_t kMaxDeviceChannels = 128;
constexpr std::array<std::uint32_t, 8> kSupportedSampleRates = {44100, 48000, 88200, 96000, 176400, 192000, 352800, 384000};
// The IO buffer sizes the device accepts (kAudioDevicePropertyBufferFrameSizeRange). The
// HAL and its clients choose the size inside it; the device never assumes one.
constexpr std::uint32_t kMinIoBufferFrames = 16;
constexpr std::uint32_t kMaxIoBufferFrames = 4096;
// One stream (one RTP session) carries at most this many channels: the scratch buffer of
// the IO cycle is sized by it.
constexpr std::uint32_t kMaxStreamChannels = 64;

struct DeviceConfig {
  std::string name = "AES67 Device";
  std::string uid = "org.aes67-lab.device";
  std::string manufacturer = "aes67-lab";
  std::uint32_t inputChannels = 128;
  std::uint32_t outputChannels = 128;
  std::uint32_t sampleRate = 48000;
  // Zero time stamps are published once per this many frames (coreaudiod's
  // kAudioDevicePropertyZeroTimeStampPeriod, "the ring-buffer size"). It is a fixed frame
  // count, not "one second at the current rate", so a rate change cannot leave it stale
  // (FIELD-NOTES, libASPL pitfalls: PR #13). Must be >= kMaxIoBufferFrames so one IO
  // buffer never spans more than one period boundary.
  std::uint32_t zeroTimeStampPeriod = 16384;
};

// Throws std::invalid_argument naming the field, the value and what is allowed.
void validate(const DeviceConfig& config);

// Throws std::invalid_argument unless 16 <= frames <= 4096.
void validateIoBufferFrames(std::uint32_t frames);

bool isSupportedSampleRate(std::uint32_t rate);

}  // namespace aes67
