// A sender that follows a grandmaster's step forward (scenarios/impairments/ptp-step-plus-1s):
// it sends the second its clock skipped in one burst, then runs a second ahead of the
// receiver's media clock. The burst's first packets land early but inside the playout
// buffer, so the stream's least transit goes negative; when the base is a whole buffer
// away the receiver re-anchors to the arrival time less that transit. A negative transit
// would place the stream ahead of the playout depth, where every packet is dropped as too
// early and the stream never re-anchors again (found by the impairment matrix). The
// re-anchor never counts on a packet arriving before its own media time.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/base/media_clock.hpp"
#include "engine/jitter/playout_buffer.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_receiver.hpp"

namespace aes67 {
namespace {

TEST(RtpReanchor, AfterABurstOfEarlyPacketsAReanchorLandsWhereTheStreamPlays) {
  LocalMediaClock media(48000);
  PlayoutConfig pc;
  pc.channels = 2;
  pc.capacityFrames = 8192;
  pc.linkOffset = 96;
  PlayoutBuffer playout(pc);
  RtpReceiverConfig rc;
  rc.destination = parseEndpoint("239.69.1.1:5004");
  rc.format.encoding = PcmEncoding::kL24;
  rc.format.channels = 2;
  rc.format.sampleRate = 48000;
  RtpReceiver rx(rc, playout, &media);

  std::vector<std::uint8_t> packet(kRtpHeaderSize + 48 * 6);
  std::uint16_t seq = 0;
  auto send = [&](SampleTime m, Nanoseconds at) {
    RtpHeaderFields h;
    h.payloadType = 96;
    h.sequenceNumber = seq++;
    h.timestamp = static_cast<std::uint32_t>(m);
    h.ssrc = 0x5EA1;
    writeRtpHeader(h, packet.data());
    for (std::size_t i = 0; i < 48 * 6; ++i) packet[kRtpHeaderSize + i] = 0x11;
    DatagramInfo info;
    info.source = parseEndpoint("10.67.0.1:5004");
    info.receivedAt = at;
    rx.handle(packet.data(), packet.size(), info);
  };
  std::vector<float> out(2 * 48);
  SampleTime read = 0;  // media time of the reader (now - link offset): reads up to `to`
  auto readUntil = [&](Nanoseconds now) {
    const SampleTime to = media.sampleAt(now);
    while (read + 48 <= to) {
      playout.readAt(read + 48, out.data(), 48);
      read += 48;
    }
  };
  // 200 ms of a steady stream: packet k leaves when its last frame is due, 30 us on the wire.
  const SampleTime jump = 48000;
  SampleTime k = 0;
  for (; k < 200; ++k) {
    const Nanoseconds at = media.localTimeOf((k + 1) * 48) + 30'000;
    readUntil(at);
    send(k * 48, at);
  }
  // The step: the second the sender's clock skipped, all due at once...
  const Nanoseconds stepAt = media.localTimeOf(k * 48) + 30'000;
  readUntil(stepAt);
  for (SampleTime b = 0; b < jump / 48; ++b) send((k + b) * 48, stepAt);
  // ...then a second ahead of the receiver's clock, for 2 s.
  const std::uint64_t missingBefore = playout.stats().framesMissing;
  SampleTime steadyFrom = 0;
  for (SampleTime j = 0; j < 2000; ++j) {
    const SampleTime m = (k + jump / 48 + j) * 48;
    const Nanoseconds at = media.localTimeOf(m + 48 - jump) + 30'000;
    readUntil(at);
    send(m, at);
    if (j == 1000) steadyFrom = static_cast<SampleTime>(playout.stats().framesMissing);
  }
  readUntil(media.localTimeOf((k + jump / 48 + 2000) * 48 - jump));
  const RtpReceiverStats& s = rx.stats();
  EXPECT_GE(s.timestampResyncs, 1u);
  EXPECT_LT(s.transitMinNs, 0) << "the burst's packets came early: the case this test is about";
  // Playing again well within the first second after the step, and not a frame missing in the second.
  EXPECT_EQ(static_cast<SampleTime>(playout.stats().framesMissing), steadyFrom) << "the stream is wedged: every packet too early";
  EXPECT_LT(playout.stats().framesMissing - missingBefore, 48000u);
}

}  // namespace
}  // namespace aes67
