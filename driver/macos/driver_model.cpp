#include "driver/macos/driver_model.hpp"

#include <stdexcept>
#include <string>

namespace aes67::macos {

DriverModel::DriverModel(const DeviceConfig& config) {
  const Nanoseconds now = hostClock_.now();
  for (std::size_t i = 0; i < kSupportedSampleRates.size(); ++i) {
    clocks_[i] = std::make_unique<LocalMediaClock>(kSupportedSampleRates[i], now);
  }
  setSampleRate(config.sampleRate);  // validates the rate before the core exists
  for (std::size_t i = 0; i < kSupportedSampleRates.size(); ++i) {
    if (kSupportedSampleRates[i] == config.sampleRate) core_ = std::make_unique<Device>(config, *clocks_[i]);
  }
}

void DriverModel::setSampleRate(std::uint32_t rate) {
  for (std::size_t i = 0; i < kSupportedSampleRates.size(); ++i) {
    if (kSupportedSampleRates[i] != rate) continue;
    if (core_) core_->setSampleRate(rate, *clocks_[i]);
    return;
  }
  throw std::invalid_argument("sample rate " + std::to_string(rate) + " is not supported");
}

}  // namespace aes67::macos
