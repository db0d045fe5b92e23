// A transmitter whose sends the kernel refuses counts them and keeps why (the errno), so a
// device's status can say what its network refused, not only how often.
#include <gtest/gtest.h>

#include <errno.h>

#include <vector>

#include "engine/base/media_clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/rtp/rtp_transmitter.hpp"

namespace aes67 {
namespace {

TEST(RtpTransmitterSendError, CountsRefusedSendsAndKeepsTheErrno) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  RtpTransmitterConfig tc;
  // The limited broadcast address without SO_BROADCAST: every send is EACCES on Linux.
  tc.destination = parseEndpoint("255.255.255.255:5004");
  tc.format.encoding = PcmEncoding::kL24;
  tc.format.channels = 2;
  tc.format.sampleRate = 48000;
  tc.framesPerPacket = 48;
  FrameRingBuffer ring(1 << 12, 2);
  const std::vector<float> frames(2 * 480, 0.25f);
  ring.push(frames.data(), 480);
  // A media clock whose sample 0 is now: ten packets' worth are due once 10 ms have passed.
  LocalMediaClock media(48000, clock.now() - 20'000'000);
  RtpTransmitter tx(transport, tc, ring, media);
  tx.start(0);
  tx.poll();
  EXPECT_EQ(tx.stats().packetsSent, 0u);
  EXPECT_EQ(tx.stats().sendErrors, 10u);
  EXPECT_EQ(tx.stats().lastSendError, EACCES);
}

}  // namespace
}  // namespace aes67
