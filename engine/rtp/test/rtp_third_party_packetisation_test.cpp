// Streams as ffmpeg 5.1 and VLC 3.0 actually send them (measured in the lab's live
// crossings, lab/dut/dut-ffmpeg-sender.live.test.ts and dut-vlc-sap.live.test.ts): packet
// sizes that vary inside one stream and match no a=ptime. ffmpeg cuts each 1024-frame
// encoded block into packets as big as max_packet_size allows (243 frames of L24 stereo, then
// the remainder, 52), and the SDP it writes has no ptime (the engine assumes 1 ms). An AES67
// receiver must place every packet by its RTP timestamp whatever its size: nothing dropped,
// nothing lost, every sample where it belongs.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/base/endpoint.hpp"
#include "engine/jitter/playout_buffer.hpp"
#include "engine/rtp/pcm_codec.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/sdp/sdp_stream.hpp"

namespace aes67 {
namespace {

// Channel 0: frame index / 2^20 (exact in L24), channel 1: its negative.
float value(std::int64_t frame) { return static_cast<float>(frame % 4'000'000) / 1048576.0f / 8.0f; }

TEST(ThirdPartyPacketisation, FfmpegVariablePacketSizesArePlacedByTimestamp) {
  // ffmpeg's own SDP for `-c:a pcm_s24be -ac 2 -f rtp rtp://239.69.150.1:5004`.
  const SdpStream d = describeStream(
      "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 239.69.150.1\r\nt=0 0\r\n"
      "a=tool:libavformat LIBAVFORMAT_VERSION\r\nm=audio 5004 RTP/AVP 97\r\nb=AS:2304\r\na=rtpmap:97 L24/48000/2\r\n");
  EXPECT_EQ(d.framesPerPacket, 48u);  // no ptime: 1 ms assumed, and said so
  EXPECT_FALSE(d.notes.empty());
  EXPECT_FALSE(d.ttl.has_value());

  PlayoutConfig pc;
  pc.channels = 2;
  pc.capacityFrames = 1 << 14;
  PlayoutBuffer playout(pc);
  RtpReceiverConfig rc;
  rc.destination = d.destination;
  rc.format = d.format;
  RtpReceiver rx(rc, playout);

  const std::uint32_t base = 0x12345678;  // ffmpeg's timestamps start anywhere
  const std::vector<std::uint32_t> cut = {243, 243, 243, 243, 52};  // one 1024-frame block
  std::int64_t frame = 0;
  std::uint16_t seq = 40000;
  std::vector<std::uint8_t> packet;
  std::vector<float> samples;
  std::size_t sent = 0;
  for (int block = 0; block < 8; ++block) {
    for (std::uint32_t n : cut) {
      samples.resize(2 * n);
      for (std::uint32_t i = 0; i < n; ++i) {
        samples[2 * i] = value(frame + i);
        samples[2 * i + 1] = -value(frame + i);
      }
      packet.assign(kRtpHeaderSize + 6 * n, 0);
      writeRtpHeader({false, 97, seq++, base + static_cast<std::uint32_t>(frame), 0xABCDEF01}, packet.data());
      encodePcm(PcmEncoding::kL24, samples.data(), 2 * n, packet.data() + kRtpHeaderSize);
      DatagramInfo info;
      info.size = packet.size();
      info.receivedAt = frame * 20'833;
      rx.handle(packet.data(), packet.size(), info);
      frame += n;
      ++sent;
    }
  }
  EXPECT_EQ(rx.stats().accepted, sent);
  EXPECT_EQ(rx.stats().droppedTotal(), 0u);
  EXPECT_EQ(rx.stats().lost, 0u);
  EXPECT_EQ(rx.stats().payloadFrames, 52u);  // the last packet's size, not the SDP's

  // Every frame where its timestamp puts it: media time = timestamp (no mediaclk offset).
  std::vector<float> out(2 * static_cast<std::size_t>(frame));
  playout.read(static_cast<SampleTime>(base), out.data(), static_cast<std::size_t>(frame));
  for (std::int64_t i = 0; i < frame; ++i) {
    ASSERT_EQ(out[2 * i], value(i)) << "frame " << i;
    ASSERT_EQ(out[2 * i + 1], -value(i)) << "frame " << i;
  }
}

TEST(ThirdPartyPacketisation, FfmpegStaticPayloadTypeWithoutRtpmapAndVlcOrigin) {
  // ffmpeg, pcm_s16be at 44.1 kHz stereo: the static PT 10 and no rtpmap (RFC 3551 table 4).
  const SdpStream f = describeStream(
      "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 239.69.150.1\r\nt=0 0\r\n"
      "a=tool:libavformat LIBAVFORMAT_VERSION\r\nm=audio 5004 RTP/AVP 10\r\nb=AS:1411\r\n");
  EXPECT_EQ(f.format.encoding, PcmEncoding::kL16);
  EXPECT_EQ(f.format.sampleRate, 44100u);
  EXPECT_EQ(f.format.channels, 2u);
  EXPECT_EQ(f.format.payloadType, 10);
  // VLC 3.0's SAP SDP: a session id above INT64_MAX and the host NAME as o= address.
  const SdpStream v = describeStream(
      "v=0\r\no=- 17199608780827708898 17199608780827708898 IN IP4 vm\r\ns=VLC tone\r\ni=N/A\r\n"
      "c=IN IP4 239.255.151.1/255\r\nt=0 0\r\na=tool:vlc 3.0.24\r\na=recvonly\r\na=type:broadcast\r\na=charset:UTF-8\r\n"
      "m=audio 5004 RTP/AVP 96\r\nb=AS:1536\r\nb=RR:0\r\na=rtpmap:96 L16/48000/2\r\n");
  EXPECT_EQ(v.origin.sessionId, "17199608780827708898");
  EXPECT_EQ(v.origin.address, "vm");
  EXPECT_EQ(v.name, "VLC tone");
  EXPECT_EQ(v.ttl, 255u);
  EXPECT_EQ(formatEndpoint(v.destination), "239.255.151.1:5004");
}

}  // namespace
}  // namespace aes67
