// The device's streams: RX streams from SDP (text or a SAP session) and TX streams with
// the SDP that announces them, each with a channel map onto the device's channels
// (1-128). Two RX streams on one device channel is an error naming both.
//
// IO follows the device: while IO is stopped no socket is open and no network thread runs
// (the reference driver's TX thread woke every packet while idle, FIELD-NOTES); startIo()
// opens receivers and transmitters (and, if asked, one network thread), stopIo() closes
// them. Per stream the driver plugs in the PlayoutBuffer (RX), the FrameRingBuffer (TX),
// the frames per packet and the channel map; those live as long as the stream, across
// IO starts and stops.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/media_clock.hpp"
#include "engine/base/ring_buffer.hpp"
#include "engine/base/transport.hpp"
#include "engine/jitter/playout_buffer.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"
#include "engine/sap/sap_listener.hpp"
#include "engine/sdp/sdp_attributes.hpp"
#include "engine/sdp/sdp_stream.hpp"
#include "engine/stream/stream_config.hpp"

namespace aes67 {

struct StreamManagerConfig {
  std::uint32_t deviceInputChannels = kMaxMappedDeviceChannels;
  std::uint32_t deviceOutputChannels = kMaxMappedDeviceChannels;
  Ipv4Address sourceAddress = 0;  // o= and source-filter of TX SDPs; 0: the transport's address
  SdpTsRefclk ptpReference;       // the current grandmaster; traceable until one is known
  std::uint32_t txRingFrames = 8192;
};

class StreamManager {
 public:
  StreamManager(Transport& transport, const MediaClock& mediaClock, StreamManagerConfig config = {});
  ~StreamManager();
  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  // Adds an RX stream; throws std::invalid_argument naming the stream and what is wrong
  // (SDP line and reason, channel map, a device channel already taken by another stream).
  void addRx(const RxStreamConfig& config);
  // An RX stream from a session a SapListener found.
  void addRxFromSap(const std::string& id, const SapSession& session, std::vector<std::uint32_t> channelMap = {});
  void addTx(const TxStreamConfig& config);
  // What addRx / addTx would refuse, refused the same way, without adding anything (so a
  // device can say no before it stops IO for the change).
  void checkRx(const RxStreamConfig& config) const;
  void checkTx(const TxStreamConfig& config) const;
  void remove(const std::string& id);
  // Removes a TX stream and hands over its ring: a device whose IO thread still writes into
  // it keeps it until IO stops (so removing one stream need not stop IO for the others).
  std::unique_ptr<FrameRingBuffer> removeTx(const std::string& id);
  // Removes an RX stream and hands over its playout buffer, for the same reason (a device's
  // IO thread may still read it until it is past the binding that named it).
  std::unique_ptr<PlayoutBuffer> removeRx(const std::string& id);
  // Replaces every stream (all-or-nothing: on error nothing changes).
  void apply(const StreamConfig& config);
  StreamConfig config() const;

  // The SDP announcing a TX stream (AES67: ptime, ts-refclk, mediaclk:direct=, media-level
  // source-filter, c= with TTL, no recvonly).
  std::string txSdp(const std::string& id) const;
  // A new grandmaster: TX SDPs name it and their session version goes up (FIELD-NOTES).
  void setPtpReference(const SdpTsRefclk& reference);
  SdpTsRefclk ptpReference() const;

  // What the driver plugs in.
  PlayoutBuffer& playout(const std::string& rxId);
  FrameRingBuffer& txRing(const std::string& txId);
  std::uint32_t framesPerPacket(const std::string& id) const;
  const std::vector<std::uint32_t>& channelMap(const std::string& id) const;
  const SdpStream& rxDescription(const std::string& id) const;
  // Whether an RX stream's timestamps follow its sender's clock (describeRxStream).
  bool rxSenderClocked(const std::string& id) const;
  std::vector<std::string> rxIds() const;
  std::vector<std::string> txIds() const;

  // Opens sockets for every stream; with `networkThread` a thread polls them until
  // stopIo(). Without it the caller polls (virtual time).
  void startIo(bool networkThread = false);
  void stopIo();
  bool ioRunning() const { return ioRunning_; }
  bool networkThreadRunning() const { return thread_.joinable(); }
  // Receives and sends what is due; returns the next TX due time (INT64_MAX if none).
  Nanoseconds poll();
  const RtpReceiverStats* rxStats(const std::string& id) const;
  const RtpTransmitterStats* txStats(const std::string& id) const;

 private:
  struct Rx {
    RxStreamConfig config;
    SdpStream description;
    bool senderClocked = false;
    std::unique_ptr<PlayoutBuffer> playout;
    std::unique_ptr<RtpReceiver> receiver;
  };
  struct Tx {
    TxStreamConfig config;
    std::unique_ptr<FrameRingBuffer> ring;
    std::unique_ptr<RtpTransmitter> transmitter;
  };
  // `allocate` false: checked as if made, without its buffers (checkRx, checkTx).
  Rx makeRx(const RxStreamConfig& config, bool allocate = true) const;
  Tx makeTx(const TxStreamConfig& config, bool allocate = true) const;
  void checkId(const std::string& id) const;
  void checkRxMap(const std::string& id, const std::vector<std::uint32_t>& map, const std::map<std::string, Rx>& others) const;
  void openRx(Rx& rx);
  void openTx(Tx& tx);
  void threadLoop();

  Transport& transport_;
  const MediaClock& mediaClock_;
  StreamManagerConfig config_;
  std::map<std::string, Rx> rx_;
  std::map<std::string, Tx> tx_;
  mutable std::mutex mutex_;  // control thread vs network thread (never the IO thread)
  bool ioRunning_ = false;
  std::atomic<bool> stopThread_{false};
  std::thread thread_;
};

}  // namespace aes67
