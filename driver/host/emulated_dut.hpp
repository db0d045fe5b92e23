// The emulated device under test: what a Mac running the driver is to the network, built
// from the same parts on any Transport (VirtualNetwork in virtual time, UdpTransport live):
//
//   RtpReceiver -> PlayoutBuffer -> Device inputs
//                                      | HalHost + loopback client (the "Core Audio" side)
//   RtpTransmitter <- FrameRingBuffer <- Device outputs
//
// It is meant to become the core of the aes67-dut executable: that adds SDP/SAP/PTP
// (filling RtpStreamDescription and the MediaClock) and a control endpoint around it.
//
// Every stage is stamped so the lab can attribute latency: each IO cycle (HalHost's cycle
// log) and each packet received or sent (packetLog()) carry host time, media time and
// device sample time.
//
// Time: everything reads the transport's clock. poll() does what is due at that clock's
// now (drain the RX sockets, run due IO cycles, send due packets) and returns when it next
// wants to run, so a virtual scheduler (lab/net/lab-transport.ts runVirtual) can drive it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "driver/core/device.hpp"
#include "driver/core/stream_ports.hpp"
#include "driver/host/hal_host.hpp"
#include "driver/host/loopback_client.hpp"
#include "driver/host/rtp_stream_description.hpp"
#include "driver/host/stamp_ring.hpp"
#include "engine/base/transport.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"

namespace aes67 {

struct DutReceiveStream {
  RtpStreamDescription stream;
  std::vector<std::uint32_t> deviceChannels;  // stream channel i -> device input channel (0-based)
};

struct DutTransmitStream {
  RtpStreamDescription stream;
  std::vector<std::uint32_t> deviceChannels;  // stream channel i <- device output channel (0-based)
  std::uint32_t ssrc = 0x41455336;
  int dscp = 34;  // AF41, AES67 media (FIELD-NOTES: DSCP)
};

struct EmulatedDutConfig {
  DeviceConfig device;
  std::uint32_t ioBufferFrames = 256;
  // Frames between a received sample's media time and its presentation at the device
  // input (AES67's link offset; 1 ms at 48 kHz by default). Must cover the senders'
  // packet time plus the network's delay and jitter.
  std::uint32_t linkOffsetFrames = 48;
  std::vector<DutReceiveStream> receive;
  std::vector<DutTransmitStream> transmit;
  // The loopback client: output o takes input loopbackMap[o] (-1: silent); empty: identity.
  std::vector<std::int32_t> loopbackMap;
  std::size_t packetLogCapacity = 65536;
  std::size_t cycleLogCapacity = 65536;
};

// A packet the DUT received or sent, with its place on every time line.
struct PacketStamp {
  enum class Direction : std::uint8_t { kReceived, kSent };
  Direction direction = Direction::kReceived;
  bool accepted = false;        // received: placed in the playout buffer; sent: handed to the network
  std::uint32_t stream = 0;     // index in receive[] or transmit[]
  std::uint16_t sequence = 0;
  std::uint32_t rtpTimestamp = 0;
  std::uint32_t frames = 0;
  SampleTime mediaTime = 0;     // media time of the first frame
  Nanoseconds hostTime = 0;     // arrival (received) or departure (sent)
  // Received: the device input sample time the first frame is presented at;
  // sent: the device output sample time of the first frame.
  SampleTime deviceTime = 0;
};

class EmulatedDut {
 public:
  // Throws std::invalid_argument naming the stream and the problem.
  EmulatedDut(Transport& transport, const MediaClock& mediaClock, const EmulatedDutConfig& config);
  ~EmulatedDut();
  EmulatedDut(const EmulatedDut&) = delete;
  EmulatedDut& operator=(const EmulatedDut&) = delete;

  // Starts IO once (a new configuration is a new EmulatedDut).
  void start();
  void stop();
  bool running() const { return host_->running(); }

  // Does what is due at the transport clock's now; returns the next time it wants to run
  // (INT64_MAX when stopped). Packets arriving earlier are the network's to announce.
  Nanoseconds poll();

  Device& device() { return *device_; }
  HalHost& host() { return *host_; }
  const EmulatedDutConfig& config() const { return config_; }
  std::size_t receiverCount() const { return rx_.size(); }
  std::size_t transmitterCount() const { return tx_.size(); }
  const RtpReceiverStats& receiverStats(std::size_t i) const { return rx_.at(i)->receiver->stats(); }
  PlayoutStats playoutStats(std::size_t i) const { return rx_.at(i)->playout->stats(); }
  std::int64_t playoutFill(std::size_t i) const { return rx_.at(i)->playout->fillFrames(); }
  const RtpTransmitterStats& transmitterStats(std::size_t i) const { return tx_.at(i)->transmitter->stats(); }
  const RingOutputSink& transmitSink(std::size_t i) const { return *tx_.at(i)->sink; }
  std::uint64_t socketOverflows(std::size_t rxIndex) const { return rx_.at(rxIndex)->socket->receiveOverflows(); }
  // Datagrams larger than the receive buffer (9216 bytes), dropped before the receiver.
  std::uint64_t oversizeDatagrams(std::size_t rxIndex) const { return rx_.at(rxIndex)->oversize; }
  StampRing<PacketStamp>& packetLog() { return packetLog_; }

 private:
  struct Rx {
    std::unique_ptr<PlayoutBuffer> playout;
    std::unique_ptr<PlayoutInputSource> source;
    std::unique_ptr<RtpReceiver> receiver;
    std::unique_ptr<DatagramSocket> socket;
    std::uint64_t oversize = 0;
  };
  struct Tx {
    std::unique_ptr<FrameRingBuffer> ring;
    std::unique_ptr<RingOutputSink> sink;
    std::unique_ptr<RtpTransmitter> transmitter;
    bool started = false;
  };
  void receive(std::size_t index);
  void transmit(std::size_t index);

  Transport& transport_;
  const MediaClock& mediaClock_;
  EmulatedDutConfig config_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<HalHost> host_;
  std::unique_ptr<LoopbackClient> loopback_;
  std::vector<std::unique_ptr<Rx>> rx_;
  std::vector<std::unique_ptr<Tx>> tx_;
  std::vector<std::uint8_t> datagram_;
  StampRing<PacketStamp> packetLog_;
  bool started_ = false;
};

}  // namespace aes67
