// The emulated device under test: what a Mac running the driver is to the network, built
// from the same parts on any Transport (VirtualNetwork in virtual time, UdpTransport live):
//
//   RtpReceiver -> PlayoutBuffer -> Device inputs
//                                      | HalHost + loopback client (the "Core Audio" side)
//   RtpTransmitter <- FrameRingBuffer <- Device outputs
//
// with the device on AES67's clock when asked (DutClock: the engine's PtpSlave and its
// media clock), streams from SDP text or followed by SAP session name, and TX streams
// announced by SAP with an SDP whose ts-refclk names the current grandmaster. The
// aes67-dut executable (software_dut.hpp) runs one on real sockets in real time.
//
// Who owns what: the engine's StreamManager owns the streams — their configuration (RX
// by SDP, TX by format and group), its validation, the SDP each one has (a stream given
// field by field is written as SDP first, so every stream has one), the TX SDPs with
// their version and ts-refclk, and the audio buffers (playout buffer per RX, ring per
// TX). The DUT owns the IO around them: sockets, receivers and transmitters, the device
// bindings, sender-clock anchoring, packet stamps, SAP, PTP, and the time line. (The
// manager's own IO path, startIo(), is not used here: its transmitters start on the media
// clock's now, while a device's TX ring starts where the HAL first writes.)
//
// Every stage is stamped so the lab can attribute latency: each IO cycle (HalHost's cycle
// log) and each packet received or sent (packetLog()) carry host time, media time and
// device sample time.
//
// Time: everything reads the transport's clock. poll() does what is due at that clock's
// now (PTP, SAP, drain the RX sockets, run due IO cycles unless a real-time IO thread
// does, send due packets) and returns when it next wants to run, so a virtual scheduler
// (lab/net/lab-transport.ts runVirtual) or a network thread can drive it.
//
// Streams come and go while IO runs (adding or removing a stream, a SAP session appearing,
// changing or going, an RTSP description arriving or withdrawn): the device's bindings are
// swapped between two IO operations (Device: a binding table published by atomic pointer)
// and every other stream goes on without a step, as an engineer patching one more stream
// in Dante Controller or a RAVENNA web UI expects (issue 9). A new TX stream starts on the
// media clock's packet grid at the next packet boundary; a new RX stream is anchored alone;
// a removed RX stream's channels read silence from the next cycle. What the IO thread may
// still touch of a removed stream (its port and buffer) is kept until the device says the
// IO thread is past it. The HAL's configuration change (IO stops, the device changes, IO
// restarts on a new time line and the TX streams realign to it) remains for a clock step
// (and would for an RX stream later than the input presentation this IO run started with;
// the device's input latency is the link offset from the start, so none is). Streams are kept
// in slots: receiverStats(i) and friends index them in the order they were added
// (removing one shifts the later ones down).
//
// Threads: poll() and every control call on one thread (the network thread); the
// real-time IO thread (startRealTime) only runs IO cycles.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/core/device.hpp"
#include "driver/core/stream_ports.hpp"
#include "driver/host/dut_clock.hpp"
#include "driver/host/hal_host.hpp"
#include "driver/host/loopback_client.hpp"
#include "driver/host/memo_media_clock.hpp"
#include "driver/host/rtp_stream_description.hpp"
#include "driver/host/sender_clock_aligner.hpp"
#include "driver/host/stamp_ring.hpp"
#include "engine/base/transport.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"
#include "engine/sap/sap_announcer.hpp"
#include "engine/sap/sap_listener.hpp"
#include "engine/stream/stream_manager.hpp"

namespace aes67 {

// Where an RX stream comes from: exactly one of `sdp`, `sapSessionName`, `rtspUrl`, or
// (all empty) the fields of `stream`. An RTSP stream waits until its owner hands the DUT
// the description (provideSdp), because the DUT's Transport carries UDP only: the software
// DUT runs the engine's RtspTcpClient and passes on its DESCRIBE and ANNOUNCE.
struct DutReceiveStream {
  RtpStreamDescription stream;
  // Stream channel i -> device input channel (0-based). With `sdp` or `sapSessionName` it
  // may be empty: the first device channels, one per stream channel.
  std::vector<std::uint32_t> deviceChannels;
  std::string id{};            // "" = "rx<n>"
  std::string sdp{};           // RFC 8866 text: the stream it describes (first m=audio)
  std::string sapSessionName{};  // follow the SAP session whose s= is this
  std::string rtspUrl{};         // a RAVENNA session's RTSP URL (its SDP comes through provideSdp)
  std::string timing{};        // "", "media-clock" or "sender" (see describeRxStream)
};

struct DutTransmitStream {
  RtpStreamDescription stream;
  std::vector<std::uint32_t> deviceChannels;  // stream channel i <- device output channel (0-based)
  std::uint32_t ssrc = 0x41455336;
  int dscp = 34;  // AF41, AES67 media (FIELD-NOTES: DSCP)
  std::string id{};      // "" = "tx<n>"
  bool announce = false; // announce its SDP by SAP
  std::string direction = "recvonly";  // the SDP's direction attribute (Dante expects recvonly)
  std::uint64_t sessionVersion = 1;    // o= version to start from (a restored stream continues its own)
  // Added to every packet's send time (RtpTransmitterConfig::sendOffset): the lab uses it to
  // make a device that sends late on purpose (issue 11: late packets into Dante's 2 ms window).
  Nanoseconds sendOffsetNs = 0;
};

struct DutSapConfig {
  // The listener runs when any RX stream follows a SAP session, or when this is set (to
  // see what is announced).
  bool listen = false;
  SapListenerConfig listener;
  SapAnnouncerConfig announcer;  // for TX streams with announce
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
  // AES67 media clock from the engine's PTP slave (only with the constructor that takes
  // no MediaClock).
  DutPtpConfig ptp;
  DutSapConfig sap;
  bool realTimePriority = true;  // SCHED_FIFO for the real-time IO thread, when permitted
  // Host load, virtual-time IO only: each IO cycle wakes up to this much after its predicted
  // time (uniform, from `ioWakeSeed`), as an IO thread on a busy host does; 0 = on time.
  Nanoseconds ioWakeDelayMaxNs = 0;
  std::uint64_t ioWakeSeed = 1;
  // On its own PTP clock, poll keeps each TX stream's next due time while the stream's next
  // media time and the PTP mapping stay the same (false: recomputed at every poll, the
  // straightforward way the lab checks it against).
  bool reuseTransmitDue = true;
};

// A packet the DUT received or sent, with its place on every time line.
struct PacketStamp {
  enum class Direction : std::uint8_t { kReceived, kSent };
  Direction direction = Direction::kReceived;
  bool accepted = false;        // received: placed in the playout buffer; sent: handed to the network
  std::uint32_t stream = 0;     // index in receive[] or transmit[]
  std::uint16_t sequence = 0;
  std::uint32_t rtpTimestamp = 0;  // received from a sender-clocked stream: as anchored on the media clock
  std::uint32_t frames = 0;
  SampleTime mediaTime = 0;     // media time of the first frame
  Nanoseconds hostTime = 0;     // arrival (received) or departure (sent)
  // Received: the device input sample time the first frame is presented at;
  // sent: the device output sample time of the first frame.
  SampleTime deviceTime = 0;
};

// Why the device's time line restarted, and how often.
struct DutResyncCounters {
  std::uint64_t clockSteps = 0;        // the media clock stepped beyond the threshold: new time line
  std::uint64_t absorbedSteps = 0;     // smaller steps, left to the HAL's predictor
  std::uint64_t reconfigurations = 0;  // streams added, removed, changed (SAP)
  Nanoseconds largestStepNs = 0;
};

// One RX stream as the DUT holds it.
struct DutReceiveState {
  std::string id;
  std::string sapSessionName;
  std::string rtspUrl;
  bool active = false;          // receiving (a SAP stream: its session is announced)
  bool senderClocked = false;
  std::string problem;          // why an inactive stream is not receiving
  std::uint64_t activations = 0;
  RtpStreamDescription stream;  // valid while active
  std::vector<std::uint32_t> deviceChannels;
};

// A TX stream's ring counters over every time line (RingOutputSink's, summed across realigns).
struct TransmitRingCounters {
  std::uint64_t overflowFrames = 0;
  std::uint64_t gaps = 0;
  std::uint64_t gapFrames = 0;
  std::uint64_t repeatedFrames = 0;
};

struct DutTransmitState {
  std::string id;
  bool announced = false;
  std::uint16_t sapHash = 0;
  std::uint64_t sapUpdates = 0;  // re-announcements with a new SDP
};

class EmulatedDut {
 public:
  // On a media clock the caller owns (free running or a locked stand-in); no PTP.
  // Throws std::invalid_argument naming the stream and the problem.
  EmulatedDut(Transport& transport, const MediaClock& mediaClock, const EmulatedDutConfig& config);
  // With config.ptp.enabled: on the engine's PTP slave (opened on `transport`); otherwise
  // on a free-running local media clock. Throws std::runtime_error when sockets cannot open.
  EmulatedDut(Transport& transport, const EmulatedDutConfig& config);
  ~EmulatedDut();
  EmulatedDut(const EmulatedDut&) = delete;
  EmulatedDut& operator=(const EmulatedDut&) = delete;

  // Starts IO once (stop() ends it for good).
  void start();
  // start() plus a real-time IO thread; poll() then leaves the IO cycles to it.
  void startRealTime();
  void stop();
  // stop(), and SAP deletions for every announced stream.
  void shutdown();
  bool running() const { return host_->running(); }
  bool realTime() const { return host_->realTimeRunning(); }

  // Does what is due at the transport clock's now; returns the next time it wants to run
  // (INT64_MAX when stopped and nothing else is due). Packets arriving earlier are the
  // network's to announce.
  Nanoseconds poll();
  // Whether the last poll left a TX packet due but waiting for its audio (virtual-time IO:
  // until the next IO cycle brings it, each poll counts it in waitingForAudio).
  bool transmitWaiting() const { return transmitWaiting_; }

  // Streams at run time, while IO goes on (see above; a configuration change restarted
  // every other stream's time line: a hole of ~260 frames in each other TX stream, the RX
  // streams anchored again, issue 9). add* return the slot index; they throw
  // std::invalid_argument naming the stream and the problem (nothing changes then).
  std::size_t addReceive(const DutReceiveStream& stream);
  std::size_t addTransmit(const DutTransmitStream& stream);
  // Throws std::invalid_argument if there is no such stream. A TX stream removed stops
  // sending at once (its last packet whole, as every packet); an RX stream removed leaves
  // its device channels silent from the next IO cycle.
  void removeStream(const std::string& id);
  // An RTSP stream's description arrived (DESCRIBE) or changed (ANNOUNCE): receive it (a
  // configuration change; nothing when it is what is received already). Throws
  // std::invalid_argument naming the problem (the stream then waits, saying why).
  void provideSdp(const std::string& id, const std::string& sdp);
  // Its description is gone (the session was removed): stop receiving, saying why.
  void withdrawSdp(const std::string& id, const std::string& why);
  std::optional<std::size_t> receiverIndex(const std::string& id) const;
  std::optional<std::size_t> transmitterIndex(const std::string& id) const;
  // The SDP of TX stream i (its version goes up when the grandmaster changes).
  std::string transmitSdp(std::size_t i) const;
  // The stream configuration as saved (SAP streams by name, not by their last SDP).
  StreamConfig streamConfig() const;

  Device& device() { return *device_; }
  const Device& device() const { return *device_; }
  HalHost& host() { return *host_; }
  const EmulatedDutConfig& config() const { return config_; }
  DutClock& clock() { return *clock_; }
  const DutClock& clock() const { return *clock_; }
  const MediaClock& mediaClock() const { return clock_->mediaClock(); }
  // The media clock the packet path (receivers, transmitters, stamps) asks.
  const MediaClock& packetClock() const { return packetClock_ ? *packetClock_ : clock_->mediaClock(); }
  const StreamManager& streams() const { return *streams_; }
  const SapListener* sapListener() const { return listener_.get(); }
  const SapAnnouncer* sapAnnouncer() const { return announcer_.get(); }
  const DutResyncCounters& resyncCounters() const { return resync_; }

  std::size_t receiverCount() const { return rx_.size(); }
  std::size_t transmitterCount() const { return tx_.size(); }
  const DutReceiveState& receiveState(std::size_t i) const { return rx_.at(i)->state; }
  const DutTransmitState& transmitState(std::size_t i) const { return tx_.at(i)->state; }
  // An inactive stream reports what it had when it was last active.
  const RtpReceiverStats& receiverStats(std::size_t i) const;
  PlayoutStats playoutStats(std::size_t i) const;
  std::int64_t playoutFill(std::size_t i) const;
  const RtpTransmitterStats& transmitterStats(std::size_t i) const { return tx_.at(i)->transmitter->stats(); }
  const RingOutputSink& transmitSink(std::size_t i) const { return *tx_.at(i)->sink; }
  TransmitRingCounters transmitRingCounters(std::size_t i) const;
  std::uint64_t socketOverflows(std::size_t rxIndex) const;
  // Datagrams larger than the receive buffer (9216 bytes), dropped before the receiver.
  std::uint64_t oversizeDatagrams(std::size_t rxIndex) const { return rx_.at(rxIndex)->oversize; }
  // Sender-clocked streams: the anchoring's counters (nothing for media-clock streams).
  const SenderClockAlignerStats* alignerStats(std::size_t rxIndex) const;
  // Ports of removed streams not yet freed (the IO thread was not past them at the last poll).
  std::size_t retiredPorts() const { return retired_.size(); }
  StampRing<PacketStamp>& packetLog() { return packetLog_; }

  // Told of what happens (a stream activated, a clock step, a grandmaster change...), for
  // logs; called on the polling thread.
  void setEventCallback(std::function<void(const std::string&)> callback) { onEvent_ = std::move(callback); }

 private:
  struct Rx {
    DutReceiveStream spec;
    DutReceiveState state;
    std::string followedSession;  // SAP: the o= key of the session followed
    std::string currentSdp;       // what it receives now
    std::unique_ptr<PlayoutInputSource> source;
    std::unique_ptr<RtpReceiver> receiver;
    std::unique_ptr<DatagramSocket> socket;
    std::unique_ptr<SenderClockAligner> aligner;
    RtpReceiverStats lastStats;   // of the previous activation
    PlayoutStats lastPlayout;
    std::uint64_t oversize = 0;
    std::uint64_t overflowsBefore = 0;
  };
  struct Tx {
    DutTransmitStream spec;
    DutTransmitState state;
    std::unique_ptr<RingOutputSink> sink;
    std::unique_ptr<RtpTransmitter> transmitter;
    bool started = false;
    // The transmitter's next due time as last computed, and what it depends on (its next
    // media time, the PTP mapping's version): poll reuses it while both stay the same.
    bool dueKnown = false;
    Nanoseconds due = 0;
    SampleTime dueMedia = 0;
    std::uint32_t dueMapping = 0;
    SapAnnouncer::Handle sapHandle = 0;
    std::string announcedSdp;
    TransmitRingCounters sinkCounters;  // of the sinks before the current one
  };
  struct SapNotice {
    SapEvent event;
    SapSession session;
  };

  void build();
  std::uint32_t playoutCapacity(std::uint32_t framesPerPacket) const;
  RxStreamConfig rxConfigOf(const Rx& rx, const std::string& sdp) const;
  // An RX stream from `sdp`, checked against the device and the other streams without
  // changing anything; throws std::invalid_argument naming the stream and the problem.
  struct PreparedRx {
    RtpStreamDescription stream;
    bool senderClocked = false;
    std::vector<std::uint32_t> channels;
    RxStreamConfig config;
  };
  PreparedRx prepare(const Rx& rx, const std::string& sdp) const;
  // Makes a prepared stream receive (inside a configuration change); leaves it inactive
  // and rethrows if a socket cannot open.
  void activate(Rx& rx, const PreparedRx& prepared);
  void deactivate(Rx& rx, const std::string& why);
  void openSocket(Rx& rx);
  std::unique_ptr<Tx> makeTx(const DutTransmitStream& spec);
  void attachTx(Tx& tx);
  // Whether a binding change can be made while IO goes on: IO runs (liveChange), and for
  // an input added, its link offset fits the presentation this IO run started with.
  bool liveChange() const;
  bool liveInputAdd() const;
  // `change` while IO goes on when `live`, else as the HAL's configuration change.
  void change(bool live, const std::function<void()>& what);
  // Unbinds a stream's port and keeps what the IO thread may still touch (port, buffer)
  // until it is past it (releaseRetired).
  void retireInput(Rx& rx);
  void retireOutput(Tx& tx);
  void releaseRetired();
  // Runs `change` as the HAL's configuration change (IO stopped around it when running),
  // then realigns the TX streams to the new time line. Rethrows what `change` threw.
  void reconfigure(const std::function<void()>& change);
  void realignTransmitters();
  void handleStep(Nanoseconds stepNs);
  void updateReference();
  void announce(Tx& tx);
  void ensureListener();
  void processSap();
  void tryResolve(Rx& rx);
  void receive(std::size_t index);
  // Sends what is due on stream `index`; returns its next due time (its poll's), or the
  // largest time while it has not started. `known`: its kept due time (Tx::due) still holds.
  Nanoseconds transmit(std::size_t index, bool known);
  // Virtual-time IO: when the next cycle wakes (its predicted time, later under host load).
  Nanoseconds nextIoWake();
  void emit(const std::string& what) {
    if (onEvent_) onEvent_(what);
  }

  Transport& transport_;
  EmulatedDutConfig config_;
  std::unique_ptr<LocalMediaClock> ownClock_;
  std::unique_ptr<DutClock> clock_;
  // What the receivers and transmitters ask the PTP media clock, the repeats answered from
  // the last answer (absent without PTP: they ask the clock itself). Outlives them.
  std::unique_ptr<MemoMediaClock> packetClock_;
  Nanoseconds wakeFor_ = -1;  // the predicted cycle time wakeAt_ was drawn for
  Nanoseconds wakeAt_ = 0;
  std::uint64_t wakeRng_ = 1;
  std::unique_ptr<StreamManager> streams_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<HalHost> host_;
  std::unique_ptr<LoopbackClient> loopback_;
  std::vector<std::unique_ptr<Rx>> rx_;
  std::vector<std::unique_ptr<Tx>> tx_;
  // Streams unbound while IO ran: their port and buffer, kept until the IO thread has
  // entered the binding table `generation` (Device::ioPast); poll frees them, usually one
  // IO cycle later. Never more than the streams removed within a cycle or two.
  struct Retired {
    std::uint64_t generation = 0;
    std::unique_ptr<PlayoutBuffer> playout;  // buffers first: the ports on them go first
    std::unique_ptr<FrameRingBuffer> ring;
    std::unique_ptr<PlayoutInputSource> source;
    std::unique_ptr<RingOutputSink> sink;
  };
  std::vector<Retired> retired_;
  std::unique_ptr<SapListener> listener_;
  std::unique_ptr<SapAnnouncer> announcer_;
  std::vector<SapNotice> sapNotices_;
  std::vector<std::uint8_t> datagram_;
  StampRing<PacketStamp> packetLog_;
  DutResyncCounters resync_;
  std::function<void(const std::string&)> onEvent_;
  std::uint64_t nextRxId_ = 0;
  std::uint64_t nextTxId_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  bool transmitWaiting_ = false;
};

}  // namespace aes67
