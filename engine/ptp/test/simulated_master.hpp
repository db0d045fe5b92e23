// Test fixture: a PTP grandmaster on the VirtualNetwork, written with the codec's writer.
// Its time is its own: epoch + local time x (1 + ppm), plus any steps, so a slave's error
// against it is known exactly. Scripted faults: time steps, Follow_Up that stops, Sync
// times that jump, going silent (Announce and all), priority changes.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/base/transport.hpp"
#include "engine/ptp/ptp_message.hpp"

namespace aes67::test {

struct SimulatedMasterConfig {
  ClockIdentity identity = ClockIdentity::fromValue(0x001d7ffffe80024aull);
  std::uint8_t domain = 0;
  std::uint8_t priority1 = 128;
  std::uint8_t priority2 = 128;
  ClockQuality quality{6, 0x21, 0x4E5D};  // GPS-locked, within 100 ns
  std::uint16_t stepsRemoved = 0;
  std::int8_t logSyncInterval = -3;
  std::int8_t logAnnounceInterval = 1;
  std::int8_t logMinDelayReqInterval = -3;
  bool twoStep = true;
  double ppm = 0.0;                                        // its rate against virtual (true) time
  Nanoseconds epoch = 1'767'225'600'000'000'000;           // PTP time at local 0
  Nanoseconds phase = 3'000'000;                           // first Sync at this local time
  // Where it listens and sends: the PTP group and ports, or unicast on loopback for tests
  // on real sockets (which may use only their own ports).
  Ipv4Address destination = kPtpPrimaryGroup;
  Ipv4Address bindAddress = 0;
  std::uint16_t eventPort = kPtpEventPort;
  std::uint16_t generalPort = kPtpGeneralPort;
};

class SimulatedMaster {
 public:
  SimulatedMaster(Transport& host, const SimulatedMasterConfig& config) : host_(host), config_(config) {
    SocketOptions o;
    o.bindAddress = config.bindAddress;
    o.localPort = config.eventPort;
    o.dscp = 46;
    o.transmitTimestamps = true;  // real sockets: two-step t1 is the kernel's transmit stamp, as ptp4l's
    event_ = host.open(o);
    o.transmitTimestamps = false;
    o.localPort = config.generalPort;
    o.dscp = 34;
    general_ = host.open(o);
    if (isMulticast(config.destination)) event_->joinMulticast(config.destination);
    nextSync_ = config.phase;
    nextAnnounce_ = config.phase / 2;
  }

  // The master's PTP time at local (virtual) time t.
  Nanoseconds ptpTime(Nanoseconds t) const {
    return config_.epoch + t + static_cast<Nanoseconds>(std::llround(static_cast<double>(t) * config_.ppm * 1e-6)) + stepped_;
  }

  Nanoseconds poll(Nanoseconds now) {
    std::uint8_t buffer[1500];
    while (auto info = event_->receive(buffer, sizeof buffer)) {
      PtpMessage m;
      if (parsePtp(buffer, info->size, m) != PtpParseError::kNone || m.header.messageType != PtpMessageType::kDelayReq) continue;
      if (silent_) continue;
      ++delayReqs_;
      PtpMessage r = header(PtpMessageType::kDelayResp, m.header.sequenceId, 3, config_.logMinDelayReqInterval);
      r.timestamp = PtpTimestamp::fromNanos(ptpTime(info->receivedAt));
      r.header.correctionField = m.header.correctionField;
      r.portIdentity = m.header.sourcePortIdentity;
      send(*general_, config_.generalPort, r);
    }
    while (general_->receive(buffer, sizeof buffer)) {
    }
    if (!silent_ && now >= nextAnnounce_) {
      PtpMessage a = header(PtpMessageType::kAnnounce, announceSeq_++, 5, config_.logAnnounceInterval);
      a.header.flags = ptp_flags::kPtpTimescale | ptp_flags::kCurrentUtcOffsetValid;
      a.timestamp = PtpTimestamp::fromNanos(ptpTime(now));
      a.announce.currentUtcOffset = 37;
      a.announce.grandmasterPriority1 = config_.priority1;
      a.announce.grandmasterPriority2 = config_.priority2;
      a.announce.grandmasterClockQuality = config_.quality;
      a.announce.grandmasterIdentity = config_.identity;
      a.announce.stepsRemoved = config_.stepsRemoved;
      a.announce.timeSource = 0x20;  // GPS
      send(*general_, config_.generalPort, a);
    }
    while (now >= nextAnnounce_) nextAnnounce_ += logToNanos(config_.logAnnounceInterval);
    if (!silent_ && now >= nextSync_) {
      const std::uint16_t seq = syncSeq_++;
      Nanoseconds t1 = ptpTime(now);
      if (syncJump_) t1 += syncJump_(seq);
      PtpMessage s = header(PtpMessageType::kSync, seq, 0, config_.logSyncInterval);
      if (config_.twoStep) {
        s.header.flags |= ptp_flags::kTwoStep;
        send(*event_, config_.eventPort, s);
        // On real sockets the Sync's true departure; the virtual network has none (and
        // sending there takes no time).
        if (auto sent = event_->lastTransmitTime(2'000'000)) t1 = ptpTime(*sent) + (syncJump_ ? syncJump_(seq) : 0);
        if (followUp_) {
          PtpMessage f = header(PtpMessageType::kFollowUp, seq, 2, config_.logSyncInterval);
          f.timestamp = PtpTimestamp::fromNanos(t1);
          send(*general_, config_.generalPort, f);
        }
      } else {
        s.timestamp = PtpTimestamp::fromNanos(t1);
        send(*event_, config_.eventPort, s);
      }
    }
    while (now >= nextSync_) nextSync_ += logToNanos(config_.logSyncInterval);
    return std::min(nextSync_, nextAnnounce_);
  }

  void stepTime(Nanoseconds delta) { stepped_ += delta; }
  void setFollowUp(bool on) { followUp_ = on; }
  void setSilent(bool silent) { silent_ = silent; }
  // A function of the sequence id giving how far each Sync's time is off (0: honest).
  void setSyncJump(std::function<Nanoseconds(std::uint16_t)> f) { syncJump_ = std::move(f); }
  void setPriority1(std::uint8_t p) { config_.priority1 = p; }
  const SimulatedMasterConfig& config() const { return config_; }
  std::uint64_t delayRequests() const { return delayReqs_; }

 private:
  static Nanoseconds logToNanos(int log2) { return log2 >= 0 ? kNanosPerSecond << log2 : kNanosPerSecond >> (-log2); }
  PtpMessage header(PtpMessageType type, std::uint16_t seq, std::uint8_t control, std::int8_t logInterval) const {
    PtpMessage m;
    m.header.messageType = type;
    m.header.domainNumber = config_.domain;
    m.header.sourcePortIdentity = {config_.identity, 1};
    m.header.sequenceId = seq;
    m.header.controlField = control;
    m.header.logMessageInterval = logInterval;
    return m;
  }
  void send(DatagramSocket& socket, std::uint16_t port, const PtpMessage& m) {
    std::uint8_t out[128];
    const std::size_t n = writePtp(m, out, sizeof out);
    socket.send({config_.destination, port}, out, n);
  }

  Transport& host_;
  SimulatedMasterConfig config_;
  std::unique_ptr<DatagramSocket> event_, general_;
  Nanoseconds nextSync_ = 0, nextAnnounce_ = 0;
  std::uint16_t syncSeq_ = 0, announceSeq_ = 0;
  Nanoseconds stepped_ = 0;
  bool followUp_ = true;
  bool silent_ = false;
  std::function<Nanoseconds(std::uint16_t)> syncJump_;
  std::uint64_t delayReqs_ = 0;
};

}  // namespace aes67::test
