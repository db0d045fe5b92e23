// One channel of a lab receiver's recording read where it is held, for the measurement
// (lab/scenario/returned-audio.ts): decoded into floats, or compared with a period of
// expected values, as decodePcm would decode the recording's blocks. Copying every
// one-second block out to JavaScript first, and comparing a few thousand frames per call,
// was about half of bench/virtual-speed.ts's comparison of 64 returned channels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "native/src/chunked_recording.hpp"

namespace aes67::native {

// A recording of `frames` frames of `width`-byte samples (2, 3, 4: L16, L24, L32); no
// chunk is read when `frames` is 0 (nothing recorded: the recording is not configured).
struct RecordedAudio {
  const ChunkedRecording& recording;
  std::int64_t frames;
  int width;
};

// One channel's comparison: frames in `ranges` ([from, to) pairs, sorted and apart) against
// table[(phase + f - origin) mod period]; a frame outside [0, frames) always differs.
struct ChannelComparison {
  int channel = 0;
  const float* table = nullptr;
  std::int64_t period = 0;
  std::int64_t origin = 0;
  std::int64_t phase = 0;
  const std::int64_t* ranges = nullptr;
  std::size_t rangeCount = 0;
  std::int64_t wrong = 0;  // the result
};

// Every comparison's count into its `wrong`, a slice of frames at a time, each channel in
// turn, so the recording is read from memory once, not once per channel.
void countDiffering(const RecordedAudio& a, ChannelComparison* comparisons, std::size_t count);

// Channel `channel`'s frames [from, from + len) into out[0..len), 0 outside [0, frames).
void readChannel(const RecordedAudio& a, int channel, std::int64_t from, std::int64_t len, float* out);

}  // namespace aes67::native
