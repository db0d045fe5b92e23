#include "driver/host/sender_clock_aligner.hpp"

#include <stdexcept>

#include "engine/base/media_clock.hpp"

namespace aes67 {

SenderClockAligner::SenderClockAligner(std::int64_t lateFrames, std::int64_t earlyFrames, std::uint32_t mediaclkOffset,
                                       std::int64_t patienceFrames, int patience)
    : lateFrames_(lateFrames),
      earlyFrames_(earlyFrames),
      mediaclkOffset_(mediaclkOffset),
      patienceFrames_(patienceFrames),
      patience_(patience) {
  if (lateFrames <= 0 || earlyFrames <= 0) throw std::invalid_argument("SenderClockAligner: the window must be positive");
  if (patience < 1 || patienceFrames < 0) throw std::invalid_argument("SenderClockAligner: patience must be at least 1 packet");
}

void SenderClockAligner::anchor(std::uint32_t rtp, std::uint32_t frames, SampleTime mediaNow) {
  // Zero transit: the packet's last frame was due at this very sample.
  const SampleTime first = mediaNow - static_cast<SampleTime>(frames);
  delta_ = rtpTimestampOf(first, mediaclkOffset_) - rtp;
  anchored_ = true;
  haveEnd_ = false;
  outside_ = 0;
  ++stats_.anchors;
  stats_.transitMinFrames = stats_.transitMaxFrames = 0;
}

std::uint32_t SenderClockAligner::placed(std::uint16_t sequence, std::uint32_t aligned, std::uint32_t frames) {
  haveEnd_ = true;
  lastSequence_ = sequence;
  end_ = aligned + frames;
  return aligned;
}

std::uint32_t SenderClockAligner::align(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t rtp, std::uint32_t frames,
                                        SampleTime mediaNow) {
  if (!anchored_) {
    ssrc_ = ssrc;
    anchor(rtp, frames, mediaNow);
  } else if (ssrc != ssrc_) {
    ssrc_ = ssrc;
    ++stats_.ssrcRealigns;
    anchor(rtp, frames, mediaNow);
  }
  std::uint32_t aligned = rtp + delta_;
  if (haveEnd_ && sequence == static_cast<std::uint16_t>(lastSequence_ + 1)) {
    const auto off = static_cast<std::int32_t>(aligned - end_);
    if (off != 0 && off >= -kContinuationFrames && off <= kContinuationFrames) {
      aligned = end_;
      ++stats_.continued;
    }
  }
  const SampleTime first = mediaTimeOf(aligned, mediaclkOffset_, mediaNow);
  const std::int64_t transit = mediaNow - (first + static_cast<SampleTime>(frames));
  if (transit > lateFrames_ || transit < -earlyFrames_) {
    if (outside_++ == 0) outsideSince_ = mediaNow;
    const bool far = transit > lateFrames_ + patienceFrames_ || transit < -(earlyFrames_ + patienceFrames_);
    if ((far && outside_ >= patience_) || (outside_ >= patience_ && mediaNow - outsideSince_ >= patienceFrames_)) {
      ++stats_.driftRealigns;
      anchor(rtp, frames, mediaNow);
      return placed(sequence, rtp + delta_, frames);
    }
  } else {
    outside_ = 0;
    if (transit < stats_.transitMinFrames) stats_.transitMinFrames = transit;
    if (transit > stats_.transitMaxFrames) stats_.transitMaxFrames = transit;
  }
  return placed(sequence, aligned, frames);
}

}  // namespace aes67
