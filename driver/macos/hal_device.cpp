#include "driver/macos/hal_device.hpp"

#include <cmath>

#include "driver/macos/mach_host_time.hpp"

namespace aes67::macos {

namespace {

aspl::DeviceParameters parameters(const aes67::Device& core) {
  aspl::DeviceParameters p;
  p.Name = core.name();
  p.Manufacturer = core.config().manufacturer;
  p.DeviceUID = core.uid();
  p.ModelUID = "org.aes67-lab.device.model";
  p.SampleRate = core.sampleRate();
  p.ChannelCount = 2;  // the preferred stereo pair; the streams carry every channel
  p.ZeroTimeStampPeriod = core.zeroTimeStampPeriod();
  p.ClockIsStable = false;  // the rate follows the network's clock, drift included
  p.EnableMixing = true;    // unused: WillDoIOOperation below is the core's
  return p;
}

bool toOperation(UInt32 id, IoOperation& op) {
  switch (id) {
    case kAudioServerPlugInIOOperationThread: op = IoOperation::kThread; return true;
    case kAudioServerPlugInIOOperationCycle: op = IoOperation::kCycle; return true;
    case kAudioServerPlugInIOOperationReadInput: op = IoOperation::kReadInput; return true;
    case kAudioServerPlugInIOOperationConvertInput: op = IoOperation::kConvertInput; return true;
    case kAudioServerPlugInIOOperationProcessInput: op = IoOperation::kProcessInput; return true;
    case kAudioServerPlugInIOOperationProcessOutput: op = IoOperation::kProcessOutput; return true;
    case kAudioServerPlugInIOOperationMixOutput: op = IoOperation::kMixOutput; return true;
    case kAudioServerPlugInIOOperationProcessMix: op = IoOperation::kProcessMix; return true;
    case kAudioServerPlugInIOOperationConvertMix: op = IoOperation::kConvertMix; return true;
    case kAudioServerPlugInIOOperationWriteMix: op = IoOperation::kWriteMix; return true;
    default: return false;
  }
}

IoCycleInfo toCycle(const AudioServerPlugInIOCycleInfo& i) {
  IoCycleInfo c;
  c.cycleCounter = i.mIOCycleCounter;
  c.nominalBufferFrames = i.mNominalIOBufferFrameSize;
  c.currentHostTime = MachHostTime::toNanos(i.mCurrentTime.mHostTime);
  c.currentTime = std::llround(i.mCurrentTime.mSampleTime);
  c.inputTime = std::llround(i.mInputTime.mSampleTime);
  c.outputTime = std::llround(i.mOutputTime.mSampleTime);
  c.deviceHostTicksPerFrame = i.mDeviceHostTicksPerFrame * MachHostTime::nanosPerTick();
  return c;
}

OSStatus toStatus(IoResult r) {
  switch (r) {
    case IoResult::kOk: return kAudioHardwareNoError;
    case IoResult::kNotRunning: return kAudioHardwareNotRunningError;
    case IoResult::kUnsupportedOperation: return kAudioHardwareUnsupportedOperationError;
    case IoResult::kOversize: return kAudioHardwareIllegalOperationError;
  }
  return kAudioHardwareUnspecifiedError;
}

bool isInputOrOutput(AudioObjectPropertyScope scope) {
  return scope == kAudioObjectPropertyScopeInput || scope == kAudioObjectPropertyScopeOutput;
}

}  // namespace

HalDevice::HalDevice(std::shared_ptr<const aspl::Context> context, DriverModel& model)
    : aspl::Device(context, parameters(model.core())), model_(model) {}

Float64 HalDevice::GetNominalSampleRate() const { return model_.core().sampleRate(); }

std::vector<AudioValueRange> HalDevice::GetAvailableSampleRates() const {
  std::vector<AudioValueRange> v;
  for (std::uint32_t rate : kSupportedSampleRates) v.push_back(AudioValueRange{static_cast<Float64>(rate), static_cast<Float64>(rate)});
  return v;
}

UInt32 HalDevice::GetZeroTimeStampPeriod() const { return model_.core().zeroTimeStampPeriod(); }

OSStatus HalDevice::SetNominalSampleRateImpl(Float64 rate) {
  // Inside the HAL's configuration change: IO is stopped, as the core requires.
  try {
    model_.setSampleRate(static_cast<std::uint32_t>(std::llround(rate)));
  } catch (const std::exception&) {
    return kAudioHardwareIllegalOperationError;
  }
  return aspl::Device::SetNominalSampleRateImpl(rate);
}

bool HalDevice::isChannelName(const AudioObjectPropertyAddress* a) const {
  if (a->mSelector != kAudioObjectPropertyElementName || !isInputOrOutput(a->mScope) || a->mElement == 0) return false;
  const std::uint32_t channels =
      a->mScope == kAudioObjectPropertyScopeInput ? model_.core().inputChannels() : model_.core().outputChannels();
  return a->mElement <= channels;
}

Boolean HalDevice::HasProperty(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address) const {
  if (isChannelName(address)) return true;
  return aspl::Device::HasProperty(objectID, clientPID, address);
}

OSStatus HalDevice::IsPropertySettable(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address,
                                       Boolean* outIsSettable) const {
  if (isChannelName(address)) {
    *outIsSettable = false;
    return kAudioHardwareNoError;
  }
  return aspl::Device::IsPropertySettable(objectID, clientPID, address, outIsSettable);
}

OSStatus HalDevice::GetPropertyDataSize(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address,
                                        UInt32 qualifierDataSize, const void* qualifierData, UInt32* outDataSize) const {
  if (isChannelName(address)) {
    *outDataSize = sizeof(CFStringRef);
    return kAudioHardwareNoError;
  }
  return aspl::Device::GetPropertyDataSize(objectID, clientPID, address, qualifierDataSize, qualifierData, outDataSize);
}

OSStatus HalDevice::GetPropertyData(AudioObjectID objectID, pid_t clientPID, const AudioObjectPropertyAddress* address,
                                    UInt32 qualifierDataSize, const void* qualifierData, UInt32 inDataSize,
                                    UInt32* outDataSize, void* outData) const {
  const aes67::Device& core = model_.core();
  const bool input = address->mScope == kAudioObjectPropertyScopeInput;
  if (isChannelName(address)) {
    if (inDataSize < sizeof(CFStringRef)) return kAudioHardwareBadPropertySizeError;
    const std::string name = input ? core.inputChannelName(address->mElement - 1) : core.outputChannelName(address->mElement - 1);
    *static_cast<CFStringRef*>(outData) = CFStringCreateWithCString(kCFAllocatorDefault, name.c_str(), kCFStringEncodingUTF8);
    *outDataSize = sizeof(CFStringRef);
    return kAudioHardwareNoError;
  }
  // Latency and safety offset differ per direction; libASPL keeps one value for both.
  if ((address->mSelector == kAudioDevicePropertyLatency || address->mSelector == kAudioDevicePropertySafetyOffset) &&
      isInputOrOutput(address->mScope)) {
    if (inDataSize < sizeof(UInt32)) return kAudioHardwareBadPropertySizeError;
    const bool latency = address->mSelector == kAudioDevicePropertyLatency;
    *static_cast<UInt32*>(outData) = latency ? (input ? core.inputLatencyFrames() : core.outputLatencyFrames())
                                             : (input ? core.inputSafetyOffsetFrames() : core.outputSafetyOffsetFrames());
    *outDataSize = sizeof(UInt32);
    return kAudioHardwareNoError;
  }
  return aspl::Device::GetPropertyData(objectID, clientPID, address, qualifierDataSize, qualifierData, inDataSize,
                                       outDataSize, outData);
}

OSStatus HalDevice::StartIO(AudioObjectID objectID, UInt32 clientID) {
  model_.core().startIO(model_.hostClock().now());
  return aspl::Device::StartIO(objectID, clientID);
}

OSStatus HalDevice::StopIO(AudioObjectID objectID, UInt32 clientID) {
  model_.core().stopIO();
  return aspl::Device::StopIO(objectID, clientID);
}

OSStatus HalDevice::GetZeroTimeStamp(AudioObjectID, UInt32, Float64* outSampleTime, UInt64* outHostTime, UInt64* outSeed) {
  const ZeroTimeStamp z = model_.core().getZeroTimeStamp(model_.hostClock().now());
  *outSampleTime = static_cast<Float64>(z.sampleTime);
  *outHostTime = MachHostTime::fromNanos(z.hostTime);
  *outSeed = z.seed;
  return kAudioHardwareNoError;
}

OSStatus HalDevice::WillDoIOOperation(AudioObjectID, UInt32, UInt32 operationID, Boolean* outWillDo,
                                      Boolean* outWillDoInPlace) {
  IoOperation op;
  IoOperationPlan plan;
  if (toOperation(operationID, op)) plan = model_.core().willDoIOOperation(op);
  *outWillDo = plan.willDo;
  *outWillDoInPlace = plan.inPlace;
  return kAudioHardwareNoError;
}

OSStatus HalDevice::BeginIOOperation(AudioObjectID, UInt32, UInt32 operationID, UInt32 ioBufferFrameSize,
                                     const AudioServerPlugInIOCycleInfo* ioCycleInfo) {
  IoOperation op;
  if (!toOperation(operationID, op)) return kAudioHardwareUnsupportedOperationError;
  return toStatus(model_.core().beginIOOperation(op, ioBufferFrameSize, toCycle(*ioCycleInfo)));
}

OSStatus HalDevice::DoIOOperation(AudioObjectID, AudioObjectID, UInt32, UInt32 operationID, UInt32 ioBufferFrameSize,
                                  const AudioServerPlugInIOCycleInfo* ioCycleInfo, void* ioMainBuffer, void*) {
  IoOperation op;
  if (!toOperation(operationID, op)) return kAudioHardwareUnsupportedOperationError;
  // One input and one output stream: the main buffer holds every channel, float32 interleaved.
  return toStatus(model_.core().doIOOperation(op, ioBufferFrameSize, toCycle(*ioCycleInfo), static_cast<float*>(ioMainBuffer)));
}

OSStatus HalDevice::EndIOOperation(AudioObjectID, UInt32, UInt32 operationID, UInt32 ioBufferFrameSize,
                                   const AudioServerPlugInIOCycleInfo* ioCycleInfo) {
  IoOperation op;
  if (!toOperation(operationID, op)) return kAudioHardwareUnsupportedOperationError;
  return toStatus(model_.core().endIOOperation(op, ioBufferFrameSize, toCycle(*ioCycleInfo)));
}

}  // namespace aes67::macos
