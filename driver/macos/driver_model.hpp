// What the plug-in owns besides libASPL's objects: the host clock, one free-running media
// clock per supported rate (the PTP-derived one replaces it in a configuration change once
// engine/ptp provides it), and the driver/core Device every HAL call is delegated to.
#pragma once

#include <array>
#include <memory>

#include "driver/core/device.hpp"
#include "engine/base/clock.hpp"
#include "engine/base/media_clock.hpp"

namespace aes67::macos {

class DriverModel {
 public:
  explicit DriverModel(const DeviceConfig& config);

  Device& core() { return *core_; }
  const Device& core() const { return *core_; }
  const Clock& hostClock() const { return hostClock_; }
  // A new nominal rate: switches the core to that rate's media clock. Throws (core's
  // message) if streams are attached or the rate is not supported. Call inside a
  // configuration change.
  void setSampleRate(std::uint32_t rate);

 private:
  RealClock hostClock_;
  std::array<std::unique_ptr<LocalMediaClock>, kSupportedSampleRates.size()> clocks_;
  std::unique_ptr<Device> core_;
};

}  // namespace aes67::macos
