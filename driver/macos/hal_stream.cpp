#include "driver/macos/hal_stream.hpp"

namespace aes67::macos {

namespace {
aspl::StreamParameters parameters(const Device& core, aspl::Direction direction) {
  aspl::StreamParameters p;
  p.Direction = direction;
  p.StartingChannel = 1;
  const std::uint32_t channels = direction == aspl::Direction::Input ? core.inputChannels() : core.outputChannels();
  p.Format = HalStream::format(channels, core.sampleRate());
  p.Latency = 0;  // the device reports latency per scope (HalDevice)
  return p;
}
}  // namespace

HalStream::HalStream(std::shared_ptr<const aspl::Context> context, std::shared_ptr<aspl::Device> owner, const Device& core,
                     aspl::Direction direction)
    : aspl::Stream(context, owner, parameters(core, direction)), core_(core), direction_(direction) {}

AudioStreamBasicDescription HalStream::format(std::uint32_t channels, double rate) {
  AudioStreamBasicDescription f{};
  f.mSampleRate = rate;
  f.mFormatID = kAudioFormatLinearPCM;
  f.mFormatFlags = kAudioFormatFlagIsFloat | kAudioFormatFlagsNativeEndian | kAudioFormatFlagIsPacked;
  f.mBitsPerChannel = 32;
  f.mChannelsPerFrame = channels;
  f.mBytesPerFrame = 4 * channels;
  f.mFramesPerPacket = 1;
  f.mBytesPerPacket = 4 * channels;
  return f;
}

std::uint32_t HalStream::channels() const {
  return direction_ == aspl::Direction::Input ? core_.inputChannels() : core_.outputChannels();
}

AudioStreamBasicDescription HalStream::GetPhysicalFormat() const { return format(channels(), core_.sampleRate()); }

AudioStreamBasicDescription HalStream::GetVirtualFormat() const { return GetPhysicalFormat(); }

std::vector<AudioStreamRangedDescription> HalStream::GetAvailablePhysicalFormats() const {
  std::vector<AudioStreamRangedDescription> v;
  for (std::uint32_t rate : kSupportedSampleRates) {
    AudioStreamRangedDescription d{};
    d.mFormat = format(channels(), rate);
    d.mSampleRateRange.mMinimum = rate;
    d.mSampleRateRange.mMaximum = rate;
    v.push_back(d);
  }
  return v;
}

std::vector<AudioStreamRangedDescription> HalStream::GetAvailableVirtualFormats() const {
  return GetAvailablePhysicalFormats();
}

}  // namespace aes67::macos
