// The RTP timestamps VLC 3.0 gives PCM it streams (`--sout '#transcode{acodec=s16b}:rtp{...}'`),
// modelled from its source to test receivers against: modules/stream_out/rtpfmt.c
// (rtp_packetize_pcm) splits each block of audio (pts and length in microseconds) into
// packets of at most `maxFrames`; each split advances the pts by length x bytes / remaining
// bytes, truncated, and takes that from the length; modules/stream_out/rtp.c
// (rtp_compute_ts) turns a pts into the RTP clock by truncating division. Blocks are 50 ms
// (2,400 frames at 48 kHz: what a capture of cvlc 3.0.24 shows, 6 x 347 + 318 frames).
// Whether a packet comes out a frame early depends only on where in a microsecond the
// first block's pts falls: `startPtsUs`.
#pragma once

#include <cstdint>
#include <vector>

namespace aes67::test {

struct VlcPacket {
  std::uint32_t timestamp = 0;
  std::uint32_t frames = 0;
  std::uint64_t firstFrame = 0;  // index of its first frame in what the sender played
};

inline std::uint32_t vlcRtpTime(std::int64_t ptsUs, std::uint32_t rate) {
  const std::int64_t quot = ptsUs / 1'000'000, rem = ptsUs % 1'000'000;
  return static_cast<std::uint32_t>(quot * rate + rem * rate / 1'000'000);
}

inline std::vector<VlcPacket> vlcPcmPackets(std::int64_t startPtsUs, std::uint32_t blocks, std::uint32_t rate = 48000,
                                            std::uint32_t blockFrames = 2400, std::uint32_t maxFrames = 347) {
  std::vector<VlcPacket> out;
  std::uint64_t played = 0;
  for (std::uint32_t b = 0; b < blocks; ++b) {
    // Block times as VLC's date_t keeps them: exact, truncated to microseconds.
    std::int64_t pts = startPtsUs + static_cast<std::int64_t>(std::uint64_t{b} * blockFrames * 1'000'000 / rate);
    const std::int64_t next = startPtsUs + static_cast<std::int64_t>(std::uint64_t{b + 1} * blockFrames * 1'000'000 / rate);
    std::int64_t length = next - pts;
    std::uint32_t left = blockFrames;
    while (left > maxFrames) {
      const std::int64_t duration = length * maxFrames / left;  // bytes / bytes: the frame size cancels
      out.push_back({vlcRtpTime(pts, rate), maxFrames, played});
      played += maxFrames;
      left -= maxFrames;
      pts += duration;
      length -= duration;
    }
    out.push_back({vlcRtpTime(pts, rate), left, played});
    played += left;
  }
  return out;
}

}  // namespace aes67::test
