// The AudioServerPlugIn's factory (named in Info.plist): builds the core device, wraps it in
// libASPL's object tree (plug-in -> device -> one input and one output stream) and hands
// coreaudiod the driver interface.
#include <aspl/Driver.hpp>
#include <aspl/Plugin.hpp>

#include <CoreAudio/AudioServerPlugIn.h>

#include "driver/macos/driver_model.hpp"
#include "driver/macos/hal_device.hpp"
#include "driver/macos/hal_stream.hpp"

namespace {

std::shared_ptr<aspl::Driver> createDriver() {
  static aes67::macos::DriverModel model{aes67::DeviceConfig{}};
  auto context = std::make_shared<aspl::Context>();
  auto device = std::make_shared<aes67::macos::HalDevice>(context, model);
  device->AddStreamAsync(std::make_shared<aes67::macos::HalStream>(context, device, model.core(), aspl::Direction::Input));
  device->AddStreamAsync(std::make_shared<aes67::macos::HalStream>(context, device, model.core(), aspl::Direction::Output));
  auto plugin = std::make_shared<aspl::Plugin>(context);
  plugin->AddDevice(device);
  return std::make_shared<aspl::Driver>(context, plugin);
}

}  // namespace

extern "C" void* AES67DeviceEntryPoint(CFAllocatorRef, CFUUIDRef typeUUID) {
  if (!CFEqual(typeUUID, kAudioServerPlugInTypeUUID)) return nullptr;
  static std::shared_ptr<aspl::Driver> driver = createDriver();
  return driver->GetReference();
}
