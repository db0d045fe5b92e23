// A TX stream removed while the real-time IO thread runs (issue 9): this thread (the network
// thread's role) drops the transmitter and unbinds the sink while the IO thread may still be
// writing into it; the sink and its ring are freed once the IO thread has entered a later
// binding table. Run under ThreadSanitizer (ci/sanitizers tsan) this is the proof that the
// hand-over has no race; here it checks the other stream is sent without a hole. Real clock, UDP on the loopback
// interface to this test's own socket (an ephemeral port), nothing else.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "driver/host/emulated_dut.hpp"
#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/rtp/rtp_packet.hpp"

namespace aes67 {
namespace {

DutTransmitStream out(const std::string& id, Ipv4Endpoint to, std::uint32_t ssrc) {
  DutTransmitStream t;
  t.id = id;
  t.stream.name = "DUT " + id;
  t.stream.destination = to;
  t.stream.format.channels = 2;
  t.stream.format.payloadType = 96;
  t.stream.framesPerPacket = 48;
  t.deviceChannels = {0, 1};
  t.ssrc = ssrc;
  return t;
}

TEST(EmulatedDutRealTime, ATxStreamRemovedWhileIoRunsLeavesTheOtherWithoutAHole) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  SocketOptions ro;
  ro.bindAddress = 0x7F000001;
  auto lab = transport.open(ro);
  const Ipv4Endpoint to = lab->localEndpoint();
  EmulatedDutConfig c;
  c.device.inputChannels = c.device.outputChannels = 2;
  c.ioBufferFrames = 64;
  c.realTimePriority = false;
  c.transmit.push_back(out("a", to, 0xA));
  c.transmit.push_back(out("b", to, 0xB));
  EmulatedDut dut(transport, c);
  dut.startRealTime();

  // Both streams go to this socket: told apart by SSRC.
  std::vector<std::uint8_t> buf(9216);
  std::vector<std::uint32_t> a, b;
  auto runFor = [&](std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      dut.poll();
      while (auto info = lab->receive(buf.data(), buf.size())) {
        RtpPacketView p;
        if (parseRtp(buf.data(), info->size, p) != RtpParseError::kNone) continue;
        if (p.ssrc == 0xA) a.push_back(p.timestamp);
        if (p.ssrc == 0xB) b.push_back(p.timestamp);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  };
  runFor(std::chrono::milliseconds(300));
  dut.removeStream("a");
  const std::size_t aSent = a.size();
  runFor(std::chrono::milliseconds(300));
  EXPECT_LE(a.size(), aSent + 1) << "'a' went on after it was removed";  // one may have been in flight
  // Another stream added (while IO goes on, since the bindings are swapped live).
  dut.addTransmit(out("c", to, 0xC));
  runFor(std::chrono::milliseconds(100));
  dut.stop();
  ASSERT_GT(aSent, 100u);
  ASSERT_GT(b.size(), 250u);
  // 'b' through the removal and the addition: one packet after another.
  std::size_t steps = 0;
  for (std::size_t k = 1; k < b.size() && b[k] - b[k - 1] == 48u; ++k) ++steps;
  EXPECT_EQ(steps + 1, b.size()) << "'b' stepped " << (steps + 1 < b.size() ? b[steps + 1] - b[steps] : 0) << " at packet " << steps + 1;
  EXPECT_EQ(dut.retiredPorts(), 0u) << "the removed stream's sink was never freed";
}

}  // namespace
}  // namespace aes67
