// The libASPL device: every HAL call coreaudiod makes is converted to driver/core's types
// and delegated; nothing is decided here.
//
// libASPL pitfalls handled (FIELD-NOTES): the zero-time-stamp hook is overridden (the core's
// time stamps follow the media clock, not libASPL's host-clock ticker); WillDoIOOperation
// is the core's (ReadInput and WriteMix of the HAL's mix), so libASPL's "mixing on by
// default" path is not used; the nominal rate and the zero-time-stamp period are the
// core's (no 44.1 kHz default, no period left stale by a rate change, libASPL PR #13);
// latency and safety offset are reported per scope (libASPL keeps one value for both).
#pragma once

#include <aspl/Device.hpp>

#include "driver/macos/driver_model.hpp"

namespace aes67::macos {

class HalDevice final : public aspl::Device {
 public:
  HalDevice(std::shared_ptr<const aspl::Context> context, DriverModel& model);

  // Properties.
  Float64 GetNominalSampleRate() const override;
  std::vector<AudioValueRange> GetAvailableSampleRates() const override;
  UInt32 GetZeroTimeStampPeriod() const override;
  Boolean HasProperty(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address) const override;
  OSStatus IsPropertySettable(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address,
                              Boolean* outIsSettable) const override;
  OSStatus GetPropertyDataSize(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address,
                               UInt32 qualifierDataSize, const void* qualifierData, UInt32* outDataSize) const override;
  OSStatus GetPropertyData(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address,
                           UInt32 qualifierDataSize, const void* qualifierData, UInt32 inDataSize, UInt32* outDataSize,
                           void* outData) const override;

  // IO.
  OSStatus StartIO(AudioObjectID objectID, UInt32 clientID) override;
  OSStatus StopIO(AudioObjectID objectID, UInt32 clientID) override;
  OSStatus GetZeroTimeStamp(AudioObjectID objectID, UInt32 clientID, Float64* outSampleTime, UInt64* outHostTime,
                            UInt64* outSeed) override;
  OSStatus WillDoIOOperation(AudioObjectID objectID, UInt32 clientID, UInt32 operationID, Boolean* outWillDo,
                             Boolean* outWillDoInPlace) override;
  OSStatus BeginIOOperation(AudioObjectID objectID, UInt32 clientID, UInt32 operationID, UInt32 ioBufferFrameSize,
                            const AudioServerPlugInIOCycleInfo* ioCycleInfo) override;
  OSStatus DoIOOperation(AudioObjectID objectID, AudioObjectID streamID, UInt32 clientID, UInt32 operationID,
                         UInt32 ioBufferFrameSize, const AudioServerPlugInIOCycleInfo* ioCycleInfo, void* ioMainBuffer,
                         void* ioSecondaryBuffer) override;
  OSStatus EndIOOperation(AudioObjectID objectID, UInt32 clientID, UInt32 operationID, UInt32 ioBufferFrameSize,
                          const AudioServerPlugInIOCycleInfo* ioCycleInfo) override;

 protected:
  OSStatus SetNominalSampleRateImpl(Float64 rate) override;

 private:
  bool isChannelName(const AudioObjectPropertyAddress* address) const;
  DriverModel& model_;
};

}  // namespace aes67::macos
