// A slave-only PTP ordinary clock on a Transport: the PtpPort and PtpSynchronizer fed
// from two sockets (event 319 and general 320, joined to 224.0.1.129 on the chosen
// interface, DSCP 46 / 34 as AES67 asks). Receive time stamps come from the transport
// (the kernel's SO_TIMESTAMPNS on real sockets, delivery time on the virtual network);
// transmit time stamps (t3 of Delay_Req) come from where the configuration says: the
// kernel's software transmit stamp (real sockets: taken where the driver transmits, as
// ptp4l's are, so both directions are stamped alike), the kernel's receive stamp of our
// own multicast looped back to us (taken in ip_mc_output, a little before the driver), or
// the Clock read right before or after the send call (the virtual network, where sending
// takes no time). Measured on veth in the ptp4l crossing: only the kernel stamp is unbiased.
// Datagrams waiting on both sockets are handled in arrival order, so a Follow_Up that
// overtook its Sync between the sockets is still paired. Drive it with poll().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/base/transport.hpp"
#include "engine/ptp/ptp_port.hpp"
#include "engine/ptp/ptp_synchronizer.hpp"

namespace aes67 {

enum class PtpTransmitStamp : std::uint8_t {
  kClockAfterSend,     // exact on the virtual network
  kClockBeforeSend,
  kMulticastLoopback,  // real sockets: the kernel stamp of our looped-back copy (refines the clock reading)
  kKernel,             // real sockets: the kernel's software transmit stamp (falls back to the clock after)
};
const char* toString(PtpTransmitStamp s);

struct PtpSlaveConfig {
  PtpPortConfig port;                  // clockIdentity zero: derived from the interface (or address)
  PtpServoConfig servo;
  Ipv4Address destination = kPtpPrimaryGroup;  // where Delay_Req go; a group is also joined
  Ipv4Address bindAddress = 0;
  std::uint16_t eventPort = kPtpEventPort;
  std::uint16_t generalPort = kPtpGeneralPort;
  int eventDscp = 46;    // EF (AES67; RAVENNA uses 48 / 46)
  int generalDscp = 34;  // AF41
  std::string interfaceName;  // "" = the transport's
  PtpTransmitStamp transmitStamp = PtpTransmitStamp::kClockAfterSend;
};

struct PtpSlaveStatus {
  PtpPortState portState = PtpPortState::kListening;
  PtpServoState servoState = PtpServoState::kUnlocked;
  bool hasParent = false;
  ClockIdentity grandmasterIdentity;
  PortIdentity parentPortIdentity;
  PtpMasterDataset parent;
  bool hasOffset = false;
  Nanoseconds offset = 0;
  Nanoseconds pathDelay = 0;
  double frequencyPpb = 0;
};

class PtpSlave {
 public:
  // Opens and joins both sockets; throws std::runtime_error naming the reason.
  PtpSlave(Transport& transport, const PtpSlaveConfig& config);

  // Handles every datagram waiting, runs timers, sends what is due. Returns the local
  // time it next wants to be polled (packets may come earlier).
  Nanoseconds poll();
  // Real sockets: waits up to `maxWait` for a datagram on either socket, then polls.
  Nanoseconds pollWaiting(Nanoseconds maxWait);
  // False when neither socket can have a datagram waiting (DatagramSocket::mayHaveDatagram):
  // before the time poll() returned, a poll would then do nothing.
  bool mayHaveDatagram() const { return event_->mayHaveDatagram() || general_->mayHaveDatagram(); }

  PtpSlaveStatus status() const;
  const PtpPort& port() const { return port_; }
  const PtpSynchronizer& synchronizer() const { return sync_; }
  PtpSynchronizer& synchronizer() { return sync_; }
  const PtpTimeMapping& mapping() const { return sync_.mapping(); }
  const PtpSlaveConfig& config() const { return config_; }
  const Clock& clock() const { return transport_.clock(); }
  std::uint64_t sendFailures() const { return sendFailures_; }
  // Delay_Req transmit times taken from our own looped-back copy.
  std::uint64_t loopbackTransmitStamps() const { return loopbackStamps_; }
  // Kernel transmit stamps that did not come (kKernel): the clock after the send stood in.
  std::uint64_t transmitStampFallbacks() const { return stampFallbacks_; }

 private:
  void drain(DatagramSocket& socket);
  void transmit();

  Transport& transport_;
  PtpSlaveConfig config_;
  PtpPort port_;
  PtpSynchronizer sync_;
  std::unique_ptr<DatagramSocket> event_;
  std::unique_ptr<DatagramSocket> general_;
  struct Received {
    Nanoseconds at;
    std::size_t size;
    std::array<std::uint8_t, 1500> data;
  };
  bool isOwnDelayReq(const Received& r);
  static constexpr std::size_t kBatch = 32;
  std::array<Received, kBatch> batch_{};
  std::array<std::size_t, kBatch> order_{};
  std::size_t batchCount_ = 0;
  std::uint64_t sendFailures_ = 0;
  std::uint64_t loopbackStamps_ = 0;
  std::uint64_t stampFallbacks_ = 0;
};

// The EUI-64 clock identity of a network interface (MAC with FF FE inserted), as ptp4l
// derives its own; nothing when the interface has no hardware address (lo, tun).
std::optional<ClockIdentity> clockIdentityOfInterface(const std::string& interfaceName);
// A stable identity for a host known only by IPv4 address (virtual hosts, lo):
// 02:00 + the address as a locally administered MAC.
ClockIdentity clockIdentityOfAddress(Ipv4Address address);

}  // namespace aes67
