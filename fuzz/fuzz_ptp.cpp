// libFuzzer: the PTP codec and the slave's state machine on arbitrary datagrams. The input
// is cut into datagrams ([length][time step][bytes]...); each goes through the parser
// (whatever it accepts must lie inside the datagram and rewrite to the same length) and
// then through a PtpPort and PtpSynchronizer, with time moving on, so announce time-outs,
// two-step pairing, Delay_Req scheduling and the servo all meet hostile input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "engine/ptp/ptp_message.hpp"
#include "engine/ptp/ptp_port.hpp"
#include "engine/ptp/ptp_synchronizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aes67::PtpPortConfig config;
  config.clockIdentity = aes67::ClockIdentity::fromValue(0x0200000afffe0002ull);
  aes67::PtpPort port(config);
  aes67::PtpSynchronizer sync;
  aes67::Nanoseconds now = 1'000'000;
  std::uint8_t rewritten[70000];
  std::size_t at = 0;
  while (at + 3 <= size) {
    const std::size_t length = data[at];
    const aes67::Nanoseconds step = static_cast<aes67::Nanoseconds>((data[at + 1] << 8) | data[at + 2]) * 100'000;
    at += 3;
    const std::size_t n = length < size - at ? length : size - at;
    // An exact-size copy: AddressSanitizer sees any read past the datagram.
    std::vector<std::uint8_t> datagram(data + at, data + at + n);
    at += n;
    now += step;

    aes67::PtpMessage m;
    if (aes67::parsePtp(datagram.data(), datagram.size(), m) == aes67::PtpParseError::kNone) {
      if (m.header.messageLength > datagram.size()) std::abort();
      if (m.tlvs < datagram.data() || m.tlvs + m.tlvLength > datagram.data() + datagram.size()) std::abort();
      if (aes67::writePtp(m, rewritten, sizeof rewritten) != m.header.messageLength) std::abort();
    }
    port.handle(datagram.data(), datagram.size(), now);
    port.poll(now);
    aes67::PtpOutgoing out;
    while (port.nextOutgoing(out)) port.transmitted(out.type, out.sequenceId, now);
    aes67::PtpPortEvent e;
    while (port.nextEvent(e)) sync.handle(e, now);
    sync.poll(now);
    aes67::PtpOffsetRecord r;
    while (sync.nextRecord(r)) {
    }
  }
  if (port.counters().datagrams == 0 && size >= 3) std::abort();
  return 0;
}
