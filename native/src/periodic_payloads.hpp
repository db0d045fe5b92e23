// What a native sender (virtual_actors_binding.cc NativeAes67Sender) sends: per channel one
// period of its signal, encoded (lab/net/pcm.ts encodePcm), and the packet payloads those
// periods make, interleaved. Shared: a scenario's senders play the same tables (8 senders x
// 8 channels of the same 8 sines are 8 tables, not 64 copies), and senders with the same
// tables and packet shape send the same payloads (the 7 sine senders of
// bench/virtual-speed.ts render one cache, not 7). Tables are kept once per thread by
// content; payload caches once per thread by (tables, sample width, frames per packet).
// Nothing here is shared across threads (each worker thread has its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace aes67::native {

// One period of one channel, encoded: `period` samples of `width` bytes, plus slack bytes so
// a renderer may read a whole 32-bit word at any sample.
struct EncodedTable {
  std::vector<std::uint8_t> bytes;
  std::int64_t period = 0;
  int width = 0;
};

// The table with these bytes (this thread's copy if it has one). Throws std::invalid_argument
// unless size is a positive multiple of width (2, 3 or 4).
std::shared_ptr<const EncodedTable> internTable(const std::uint8_t* data, std::size_t size, int width);

class PeriodicPayloads {
 public:
  // This thread's payloads of `tables` (one per channel, all of `width`) in packets of
  // `frames` frames: cached whole when the channels' common period makes at most 32 MB of
  // distinct payloads, else rendered per packet.
  static std::shared_ptr<PeriodicPayloads> of(const std::vector<std::shared_ptr<const EncodedTable>>& tables, int width, std::int64_t frames);

  // Bytes of one payload.
  std::size_t bytes() const { return bytes_; }
  // Whether payloads come whole from the cache (else `payload` renders into its scratch,
  // over a copy of the cached channels when some are: partlyCached).
  bool cached() const { return cachePeriod_ > 0 && renderedChannels_.empty(); }
  bool partlyCached() const { return cachePeriod_ > 0 && !renderedChannels_.empty(); }
  // The payload of the packet whose first frame is media sample `first` (>= 0): from the
  // cache, or rendered into `scratch` (which needs bytes() + 1 writable bytes). Valid until
  // the next call.
  const std::uint8_t* payload(std::int64_t first, std::uint8_t* scratch);

  PeriodicPayloads(std::vector<std::shared_ptr<const EncodedTable>> tables, int width, std::int64_t frames);
  PeriodicPayloads(const PeriodicPayloads&) = delete;
  PeriodicPayloads& operator=(const PeriodicPayloads&) = delete;

 private:
  // Interleaves frames [first, first + frames_) of the channels `which` (in order) into
  // `out` (bytes_ + 1 writable). `exact`: write only their bytes (the others are final).
  void render(std::int64_t first, std::uint8_t* out, const std::vector<std::size_t>& which, bool exact) const;
  const std::vector<std::size_t>& allChannels();

  std::vector<std::shared_ptr<const EncodedTable>> tables_;
  int width_;
  std::int64_t frames_;
  std::size_t bytes_;
  std::int64_t cachePeriod_ = 0;  // frames after which the payloads repeat (0: not cached)
  std::int64_t cacheStep_ = 1;    // frames between cached payload starts
  std::size_t slotBytes_ = 0;
  std::unique_ptr<std::uint8_t[]> cache_;  // slots of slotBytes_, rendered on first use
  std::vector<std::uint8_t> rendered_;     // per slot
  std::vector<std::size_t> cachedChannels_;    // in the cache's slots
  std::vector<std::size_t> renderedChannels_;  // rendered per packet (over a copy of a slot)
  std::vector<std::size_t> all_;
};

}  // namespace aes67::native
