// Plays a sender-clocked stream (RFC 7273 §5.3 "a=mediaclk:sender": GStreamer's rtpL24pay,
// ffmpeg, VLC; their RTP timestamps count the sender's own clock from a random start) on
// the device's media clock. The playout buffer places audio by media time, so the receiver
// anchors the stream: the first packet (and the first after a re-anchor) is taken as
// arriving the moment its last frame was due (zero transit), which fixes a 32-bit offset
// between the sender's timestamps and media time; every packet's timestamp is rewritten by
// it before the RtpReceiver sees the packet. The link offset then covers the sender's
// jitter, as it covers the network's for a PTP stream.
//
// No resampling: a sender whose clock runs at another rate than ours drifts through the
// playout window. When packets keep arriving later than the link offset allows (or
// earlier than the buffer holds) — drift, a sender restart, a jump in its timestamps — the
// aligner re-anchors and counts it: one audible discontinuity, never a stuck stream. What
// "keep" means depends on how far out they are: a run of `patience` packets more than a
// second (or the buffer) away is a jump, re-anchored at once; packets just outside the
// window must stay there for a second of media time first, because a software sender that
// stalls (measured: GStreamer on a busy 2-core host, up to ~50 ms) delivers a burst of
// late packets and then is on time again: those are the receiver's to drop and count, a
// re-anchor would only move the stream for good. A new SSRC re-anchors at once; so does
// reset() (the device's time line restarted under us).
//
// A packet that follows the previous one in sequence and whose timestamp is off where that
// one ended by at most `kContinuationFrames` continues it: played from that end. VLC 3.0
// splits each 50 ms block into packets whose time it advances in truncated microseconds and
// then truncates to the RTP clock (modules/stream_out/rtpfmt.c, rtp_packetize_pcm and
// rtp_compute_ts), so for ~5 % of start times one packet per block is stamped a frame early
// and the next block starts a frame late: the playout buffer dropped the early one whole as
// a duplicate of its first frame (a 7 ms hole per block) and left a one-frame hole after it.
// Comparing the packet's own timestamp with the continuation keeps the rewrite within that
// many frames of what the sender said: a real jump or drift still shows.
#pragma once

#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67 {

struct SenderClockAlignerStats {
  std::uint64_t anchors = 0;         // times an offset was chosen (the first included)
  std::uint64_t driftRealigns = 0;   // re-anchored because packets left the window
  std::uint64_t ssrcRealigns = 0;
  std::uint64_t continued = 0;       // packets played from the previous one's end, not their timestamp
  std::int64_t transitMinFrames = 0; // since the last anchor: arrival - due, in frames
  std::int64_t transitMaxFrames = 0;
};

class SenderClockAligner {
 public:
  // `lateFrames`: a packet arriving this many frames after its last frame was due is late
  // (the link offset); `earlyFrames`: this many before is beyond the buffer (its capacity
  // less the link offset). `patience`: consecutive packets far out of the window before a
  // re-anchor; `patienceFrames`: media time packets just out of it must span first (one
  // second at the stream's rate is a good choice).
  SenderClockAligner(std::int64_t lateFrames, std::int64_t earlyFrames, std::uint32_t mediaclkOffset,
                     std::int64_t patienceFrames, int patience = 8);

  // Timestamps this close to the previous packet's end continue it.
  static constexpr std::int32_t kContinuationFrames = 2;

  // The RTP timestamp the packet should carry on the media clock: `rtp` from `ssrc` with
  // sequence number `sequence`, `frames` long, arriving when the media clock reads
  // `mediaNow` (the sample containing the arrival). Real-time safe.
  std::uint32_t align(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t rtp, std::uint32_t frames, SampleTime mediaNow);
  // The next packet anchors afresh.
  void reset() { anchored_ = false; }
  bool anchored() const { return anchored_; }
  const SenderClockAlignerStats& stats() const { return stats_; }

 private:
  void anchor(std::uint32_t rtp, std::uint32_t frames, SampleTime mediaNow);
  std::uint32_t placed(std::uint16_t sequence, std::uint32_t aligned, std::uint32_t frames);

  std::int64_t lateFrames_;
  std::int64_t earlyFrames_;
  std::uint32_t mediaclkOffset_;
  std::int64_t patienceFrames_;
  int patience_;
  bool anchored_ = false;
  SampleTime outsideSince_ = 0;  // media time the current run of out-of-window packets began
  std::uint32_t ssrc_ = 0;
  std::uint32_t delta_ = 0;  // aligned = rtp + delta (mod 2^32)
  bool haveEnd_ = false;     // the previous packet's sequence and where it ended (aligned)
  std::uint16_t lastSequence_ = 0;
  std::uint32_t end_ = 0;
  int outside_ = 0;
  SenderClockAlignerStats stats_;
};

}  // namespace aes67
