// The vocabulary of one IO cycle as coreaudiod speaks it to an AudioServerPlugIn: which
// operations exist (AudioServerPlugIn.h kAudioServerPlugInIOOperation*), what the HAL
// tells the device about the cycle (AudioServerPlugInIOCycleInfo), and what the device
// answers. The macOS glue converts the HAL's structs to these 1:1; the host emulator
// fills them the way coreaudiod does.
#pragma once

#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67 {

enum class IoOperation : std::uint8_t {
  kThread,         // once when the IO thread starts / stops
  kCycle,          // once per IO cycle
  kReadInput,      // device -> HAL input buffer (sample time = the cycle's input time)
  kConvertInput,
  kProcessInput,
  kProcessOutput,  // once per client
  kMixOutput,
  kProcessMix,
  kConvertMix,
  kWriteMix,       // the mix of every client -> device (sample time = the cycle's output time)
};
const char* toString(IoOperation op);

// AudioServerPlugInIOCycleInfo, with the sample times the HAL derived from its predictor.
struct IoCycleInfo {
  std::uint64_t cycleCounter = 0;         // mIOCycleCounter
  std::uint32_t nominalBufferFrames = 0;  // mNominalIOBufferFrameSize
  Nanoseconds currentHostTime = 0;        // mCurrentTime.mHostTime: when the cycle woke
  SampleTime currentTime = 0;             // mCurrentTime.mSampleTime
  SampleTime inputTime = 0;               // mInputTime.mSampleTime: first frame ReadInput delivers
  SampleTime outputTime = 0;              // mOutputTime.mSampleTime: first frame WriteMix takes
  double deviceHostTicksPerFrame = 0.0;   // mDeviceHostTicksPerFrame (host ns per frame)
};

// WillDoIOOperation's answer.
struct IoOperationPlan {
  bool willDo = false;
  bool inPlace = true;  // the device works on the main buffer (no secondary buffer)
};

enum class IoResult : std::uint8_t {
  kOk,
  kNotRunning,           // IO was not started: the HAL's kAudioHardwareNotRunningError
  kUnsupportedOperation, // an operation WillDoIOOperation declined: kAudioHardwareUnsupportedOperationError
  kOversize,             // more frames than the largest IO buffer: kAudioHardwareBadObjectError-class misuse
};
const char* toString(IoResult result);

}  // namespace aes67
