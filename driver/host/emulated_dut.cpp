#include "driver/host/emulated_dut.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "engine/rtp/rtp_packet.hpp"
#include "engine/sdp/sdp_session.hpp"
#include "engine/stream/stream_sdp.hpp"

namespace aes67 {

namespace {

constexpr std::size_t kMaxDatagram = 9216;

std::size_t powerOfTwoAtLeast(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

std::string rateMismatch(const std::string& name, std::uint32_t stream, std::uint32_t device) {
  return "stream '" + name + "' runs at " + std::to_string(stream) + " Hz but the device at " + std::to_string(device) + " Hz";
}

// The RTP stream an engine SDP description names, in the device's terms.
RtpStreamDescription descriptionOf(const SdpStream& d) {
  RtpStreamDescription s;
  s.name = d.name;
  s.destination = d.destination;
  s.source = d.sourceFilter;
  s.format = d.format;
  s.framesPerPacket = d.framesPerPacket;
  // Labels are comma-separated and Dante names may hold commas of their own: a list that
  // does not match the channel count is ambiguous, so the stream is received without labels
  // rather than refused (a parser tripping on commas in Dante names: aes67-linux-daemon
  // commit b103504; scenarios/field/03-dante-sdp-quirks.yaml).
  if (d.channelLabels.size() == d.format.channels) s.channelLabels = d.channelLabels;
  s.ttl = d.ttl ? static_cast<int>(*d.ttl) : 32;
  return s;
}

// A stream given field by field, written as the SDP its sender would announce.
std::string sdpOfDescription(const RtpStreamDescription& s) {
  TxStreamConfig c;
  c.id = s.name;
  c.name = s.name;
  c.destination = s.destination;
  c.ttl = static_cast<std::uint32_t>(s.ttl);
  c.format = s.format;
  c.framesPerPacket = s.framesPerPacket;
  c.channelLabels = s.channelLabels;
  c.sessionId = "1";
  c.direction = "";
  return writeTxSdp(c, s.source, traceablePtpReference());
}

std::string sessionNameOf(const std::string& sdp) {
  try {
    return parseSdp(sdp).name;
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

EmulatedDut::EmulatedDut(Transport& transport, const MediaClock& mediaClock, const EmulatedDutConfig& config)
    : transport_(transport), config_(config), datagram_(kMaxDatagram), packetLog_(config.packetLogCapacity) {
  if (config_.ptp.enabled) {
    throw std::invalid_argument("a DUT given its media clock runs without PTP: use the constructor without one for ptp");
  }
  clock_ = std::make_unique<DutClock>(mediaClock);
  build();
}

EmulatedDut::EmulatedDut(Transport& transport, const EmulatedDutConfig& config)
    : transport_(transport), config_(config), datagram_(kMaxDatagram), packetLog_(config.packetLogCapacity) {
  validate(config_.device);
  if (config_.ptp.enabled) {
    DutPtpConfig p = config_.ptp;
    if (p.resyncThresholdNs <= 0) {
      p.resyncThresholdNs = samplesToNanos(config_.linkOffsetFrames, config_.device.sampleRate) / 2;
    }
    config_.ptp = p;
    clock_ = std::make_unique<DutClock>(transport, config_.device.sampleRate, p);
    packetClock_ = std::make_unique<MemoMediaClock>(*clock_->ptpMediaClock(), clock_->slave()->mapping());
  } else {
    ownClock_ = std::make_unique<LocalMediaClock>(config_.device.sampleRate);
    clock_ = std::make_unique<DutClock>(*ownClock_);
  }
  build();
}

void EmulatedDut::build() {
  validate(config_.device);
  validateIoBufferFrames(config_.ioBufferFrames);
  const MediaClock& media = clock_->mediaClock();
  device_ = std::make_unique<Device>(config_.device, media);
  // Every RX stream here has the DUT's link offset: the device's input latency is that from
  // the start, so the first RX stream patched in while IO runs changes nothing (issue 9).
  device_->setMinimumInputLatency(config_.linkOffsetFrames);
  StreamManagerConfig sc;
  // The device checks channels against its own size (its messages name the stream).
  sc.deviceInputChannels = kMaxDeviceChannels;
  sc.deviceOutputChannels = kMaxDeviceChannels;
  sc.sourceAddress = transport_.localAddress();
  streams_ = std::make_unique<StreamManager>(transport_, media, sc);
  if (config_.loopbackMap.empty()) {
    loopback_ = std::make_unique<LoopbackClient>(config_.device.inputChannels, config_.device.outputChannels);
  } else {
    loopback_ = std::make_unique<LoopbackClient>(config_.device.inputChannels, config_.device.outputChannels, config_.loopbackMap);
  }
  if (config_.ioWakeDelayMaxNs < 0) throw std::invalid_argument("ioWakeDelayMaxNs must be >= 0");
  wakeRng_ = config_.ioWakeSeed == 0 ? 0x9e3779b97f4a7c15ULL : config_.ioWakeSeed;
  HalHostConfig hc;
  hc.ioBufferFrames = config_.ioBufferFrames;
  hc.cycleLogCapacity = config_.cycleLogCapacity;
  hc.realTimePriority = config_.realTimePriority;
  host_ = std::make_unique<HalHost>(*device_, transport_.clock(), hc);
  host_->addClient(*loopback_);
  if (config_.sap.listen) ensureListener();
  const std::vector<DutReceiveStream> receive = config_.receive;
  const std::vector<DutTransmitStream> transmit = config_.transmit;
  config_.receive.clear();
  config_.transmit.clear();
  for (const DutReceiveStream& r : receive) addReceive(r);
  for (const DutTransmitStream& t : transmit) addTransmit(t);
  if (clock_->ptp() && clock_->grandmaster()) updateReference();
}

EmulatedDut::~EmulatedDut() { stop(); }

void EmulatedDut::start() {
  if (started_) throw std::logic_error("an EmulatedDut starts once: build a new one to reconfigure");
  started_ = true;
  host_->startIO();
}

void EmulatedDut::startRealTime() {
  start();
  host_->startRealTime();
}

void EmulatedDut::stop() {
  if (host_) host_->stopIO();
  if (started_) stopped_ = true;
}

void EmulatedDut::shutdown() {
  stop();
  if (announcer_) announcer_->stop();
  for (auto& tx : tx_) tx->sapHandle = 0;
}

std::uint32_t EmulatedDut::playoutCapacity(std::uint32_t framesPerPacket) const {
  // Room for the link offset, the HAL's reach behind now, a packet and as much again.
  return static_cast<std::uint32_t>(std::max<std::size_t>(
      8192, powerOfTwoAtLeast(4 * (config_.linkOffsetFrames + 2 * config_.ioBufferFrames + 2 * framesPerPacket))));
}

RxStreamConfig EmulatedDut::rxConfigOf(const Rx& rx, const std::string& sdp) const {
  RxStreamConfig c;
  c.id = rx.state.id;
  c.sdp = sdp;
  for (std::uint32_t ch : rx.spec.deviceChannels) c.channelMap.push_back(ch + 1);
  c.linkOffset = config_.linkOffsetFrames;
  c.sapSessionName = rx.spec.sapSessionName;
  c.rtspUrl = rx.spec.rtspUrl;
  c.timing = rx.spec.timing;
  return c;
}

// The device's own binding checks (Device::addInput/addOutput), made before IO stops for
// the change, in the device's words.
static void checkDeviceChannels(const std::string& label, const std::vector<std::uint32_t>& channels, std::uint32_t streamChannels,
                         std::uint32_t deviceChannels, const char* direction) {
  if (channels.size() != streamChannels) {
    throw std::invalid_argument("stream '" + label + "': " + std::to_string(streamChannels) + " stream channels but " +
                                std::to_string(channels.size()) + " device channels mapped");
  }
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (channels[i] >= deviceChannels) {
      throw std::invalid_argument("stream '" + label + "': " + direction + " channel " + std::to_string(channels[i] + 1) +
                                  " does not exist (the device has " + std::to_string(deviceChannels) + ")");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (channels[j] == channels[i]) {
        throw std::invalid_argument("stream '" + label + "': " + direction + " channel " + std::to_string(channels[i] + 1) +
                                    " is mapped twice");
      }
    }
  }
}

EmulatedDut::PreparedRx EmulatedDut::prepare(const Rx& rx, const std::string& sdp) const {
  const std::string what = "RX stream '" + rx.state.id + "'";
  RxStreamDescription d;
  try {
    d = describeRxStream(sdp, rx.spec.timing);
  } catch (const SdpError& e) {
    throw std::invalid_argument(what + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
  PreparedRx p;
  p.stream = descriptionOf(d.stream);
  RtpStreamDescription& s = p.stream;
  if (s.name.empty() || s.name == " ") s.name = rx.state.id;
  validate(s);
  const std::uint32_t rate = config_.device.sampleRate;
  if (s.format.sampleRate != rate) throw std::invalid_argument(rateMismatch(s.name, s.format.sampleRate, rate));
  if (config_.linkOffsetFrames < s.framesPerPacket) {
    throw std::invalid_argument("link offset " + std::to_string(config_.linkOffsetFrames) + " frames is shorter than stream '" +
                                s.name + "''s packet time (" + std::to_string(s.framesPerPacket) +
                                " frames): every packet would be late");
  }
  p.channels = rx.spec.deviceChannels;
  if (p.channels.empty()) {
    for (std::uint32_t c = 0; c < s.format.channels; ++c) p.channels.push_back(c);
  }
  checkDeviceChannels(s.name, p.channels, s.format.channels, config_.device.inputChannels, "input");
  p.config = rxConfigOf(rx, sdp);
  p.config.channelMap.clear();
  for (std::uint32_t ch : p.channels) p.config.channelMap.push_back(ch + 1);
  p.config.playoutCapacityFrames = playoutCapacity(s.framesPerPacket);
  p.senderClocked = d.senderClocked;
  streams_->checkRx(p.config);
  return p;
}

void EmulatedDut::activate(Rx& rx, const PreparedRx& p) {
  const RtpStreamDescription& s = p.stream;
  const RxStreamConfig& rc = p.config;
  streams_->addRx(rc);
  PlayoutBuffer& playout = streams_->playout(rc.id);
  auto source = std::make_unique<PlayoutInputSource>(playout, s.framesPerPacket);
  try {
    device_->addInput(*source, p.channels, s.name, s.channelLabels);
  } catch (...) {
    streams_->remove(rc.id);
    throw;
  }
  RtpReceiverConfig c;
  c.destination = s.destination;
  c.sourceFilter = s.source;
  c.format = s.format;
  rx.receiver = std::make_unique<RtpReceiver>(c, playout, &packetClock());
  rx.source = std::move(source);
  rx.aligner.reset();
  if (p.senderClocked) {
    const std::int64_t late = config_.linkOffsetFrames;
    const std::int64_t early = static_cast<std::int64_t>(playout.capacityFrames()) - late - 2 * config_.ioBufferFrames;
    rx.aligner = std::make_unique<SenderClockAligner>(late, std::max<std::int64_t>(early, s.framesPerPacket), s.format.mediaclkOffset,
                                                      static_cast<std::int64_t>(config_.device.sampleRate));
  }
  rx.state.stream = s;
  rx.state.deviceChannels = p.channels;
  rx.state.senderClocked = p.senderClocked;
  try {
    openSocket(rx);
  } catch (...) {
    rx.receiver.reset();
    retireInput(rx);
    rx.aligner.reset();
    throw;
  }
  rx.currentSdp = rc.sdp;
  rx.state.active = true;
  rx.state.problem.clear();
  ++rx.state.activations;
}

void EmulatedDut::openSocket(Rx& rx) {
  const RtpStreamDescription& s = rx.state.stream;
  SocketOptions o;
  o.localPort = s.destination.port;
  if (isMulticast(s.destination.address)) o.bindAddress = s.destination.address;
  rx.socket = transport_.open(o);
  if (isMulticast(s.destination.address)) rx.socket->joinMulticast(s.destination.address, s.source);
}

void EmulatedDut::deactivate(Rx& rx, const std::string& why) {
  if (rx.state.active) {
    rx.lastStats = rx.receiver->stats();
    rx.lastPlayout = rx.source->playout().stats();
    rx.overflowsBefore += rx.socket ? rx.socket->receiveOverflows() : 0;
    rx.receiver.reset();
    retireInput(rx);
  }
  rx.socket.reset();
  rx.receiver.reset();
  rx.source.reset();
  rx.aligner.reset();
  rx.followedSession.clear();
  rx.state.active = false;
  rx.state.problem = why;
}

std::size_t EmulatedDut::addReceive(const DutReceiveStream& spec) {
  auto rx = std::make_unique<Rx>();
  rx->spec = spec;
  rx->state.id = spec.id.empty() ? "rx" + std::to_string(nextRxId_) : spec.id;
  rx->state.sapSessionName = spec.sapSessionName;
  rx->state.rtspUrl = spec.rtspUrl;
  if (!spec.sdp.empty() + !spec.sapSessionName.empty() + !spec.rtspUrl.empty() > 1) {
    throw std::invalid_argument("RX stream '" + rx->state.id + "': give its SDP, a SAP session name or an RTSP URL, only one");
  }
  if (receiverIndex(rx->state.id) || transmitterIndex(rx->state.id)) {
    throw std::invalid_argument("stream id '" + rx->state.id + "' is already in use");
  }
  std::string sdp = spec.sdp;
  if (sdp.empty() && spec.sapSessionName.empty() && spec.rtspUrl.empty()) {
    // Field by field: the checks (and messages) the device has always given, then its SDP.
    const RtpStreamDescription& s = spec.stream;
    validate(s);
    if (s.format.sampleRate != config_.device.sampleRate) {
      throw std::invalid_argument(rateMismatch(s.name, s.format.sampleRate, config_.device.sampleRate));
    }
    sdp = sdpOfDescription(s);
  }
  Rx& r = *rx;
  if (!sdp.empty()) {
    const PreparedRx p = prepare(r, sdp);
    change(liveInputAdd(), [&] { activate(r, p); });
  } else if (!spec.rtspUrl.empty()) {
    r.state.problem = "waiting for the RTSP description of " + spec.rtspUrl;
  } else {
    r.state.problem = "waiting for SAP session '" + spec.sapSessionName + "' to be announced";
    ensureListener();
  }
  ++nextRxId_;
  rx_.push_back(std::move(rx));
  config_.receive.push_back(spec);
  if (!spec.sapSessionName.empty()) tryResolve(*rx_.back());
  return rx_.size() - 1;
}

std::unique_ptr<EmulatedDut::Tx> EmulatedDut::makeTx(const DutTransmitStream& spec) {
  auto tx = std::make_unique<Tx>();
  tx->spec = spec;
  tx->state.id = spec.id.empty() ? "tx" + std::to_string(nextTxId_) : spec.id;
  const RtpStreamDescription& s = spec.stream;
  validate(s);
  if (s.format.sampleRate != config_.device.sampleRate) {
    throw std::invalid_argument(rateMismatch(s.name, s.format.sampleRate, config_.device.sampleRate));
  }
  if (receiverIndex(tx->state.id) || transmitterIndex(tx->state.id)) {
    throw std::invalid_argument("stream id '" + tx->state.id + "' is already in use");
  }
  return tx;
}

void EmulatedDut::attachTx(Tx& tx) {
  const RtpStreamDescription& s = tx.spec.stream;
  FrameRingBuffer& ring = streams_->txRing(tx.state.id);
  // On the packet grid from its first packet, like every stream the DUT sends: its RTP
  // timestamps are media times that are whole packets (the first one no exception).
  auto sink = std::make_unique<RingOutputSink>(ring, s.framesPerPacket, true);
  device_->addOutput(*sink, tx.spec.deviceChannels, s.name, s.channelLabels);
  tx.sink = std::move(sink);
  tx.started = false;
  tx.dueKnown = false;
}

std::size_t EmulatedDut::addTransmit(const DutTransmitStream& spec) {
  std::unique_ptr<Tx> tx = makeTx(spec);
  const RtpStreamDescription& s = spec.stream;
  TxStreamConfig c;
  c.id = tx->state.id;
  c.name = s.name;
  c.destination = s.destination;
  c.ttl = static_cast<std::uint32_t>(s.ttl);
  c.format = s.format;
  c.framesPerPacket = s.framesPerPacket;
  for (std::uint32_t ch : spec.deviceChannels) c.channelMap.push_back(ch + 1);
  c.ssrc = spec.ssrc;
  c.dscp = spec.dscp;
  c.direction = spec.direction;
  c.channelLabels = s.channelLabels;
  c.announce = spec.announce;
  c.sessionVersion = spec.sessionVersion;
  c.ringFrames = static_cast<std::uint32_t>(
      std::max<std::size_t>(4096, powerOfTwoAtLeast(4 * (2 * config_.ioBufferFrames + 2 * s.framesPerPacket))));
  checkDeviceChannels(s.name, spec.deviceChannels, s.format.channels, config_.device.outputChannels, "output");
  streams_->checkTx(c);
  Tx& t = *tx;
  change(liveChange(), [&] {
    streams_->addTx(c);
    try {
      attachTx(t);
      RtpTransmitterConfig tc;
      tc.destination = s.destination;
      tc.format = s.format;
      tc.framesPerPacket = s.framesPerPacket;
      tc.ssrc = spec.ssrc;
      tc.dscp = spec.dscp;
      tc.ttl = s.ttl;
      tc.sendOffset = spec.sendOffsetNs;
      t.transmitter = std::make_unique<RtpTransmitter>(transport_, tc, streams_->txRing(t.state.id), packetClock());
    } catch (...) {
      t.transmitter.reset();
      if (t.sink) retireOutput(t);
      else streams_->remove(t.state.id);
      throw;
    }
  });
  ++nextTxId_;
  tx_.push_back(std::move(tx));
  config_.transmit.push_back(spec);
  if (spec.announce) announce(*tx_.back());
  return tx_.size() - 1;
}

void EmulatedDut::removeStream(const std::string& id) {
  if (auto i = receiverIndex(id)) {
    Rx& rx = *rx_[*i];
    // Its channels read silence from the next IO operation; IO goes on for the others.
    if (rx.state.active) deactivate(rx, "removed");
    rx_.erase(rx_.begin() + static_cast<std::ptrdiff_t>(*i));
    config_.receive.erase(config_.receive.begin() + static_cast<std::ptrdiff_t>(*i));
    return;
  }
  if (auto i = transmitterIndex(id)) {
    Tx& tx = *tx_[*i];
    if (tx.sapHandle != 0 && announcer_) announcer_->remove(tx.sapHandle);
    // No configuration change: IO goes on for the other streams. The transmitter (and its
    // socket) goes first, between two sends, so the stream ends on a whole packet; the sink
    // is unbound and kept until the IO thread is past it.
    tx.transmitter.reset();
    if (tx.sink) retireOutput(tx);
    else streams_->remove(id);
    tx_.erase(tx_.begin() + static_cast<std::ptrdiff_t>(*i));
    config_.transmit.erase(config_.transmit.begin() + static_cast<std::ptrdiff_t>(*i));
    return;
  }
  throw std::invalid_argument("no stream '" + id + "'");
}

void EmulatedDut::provideSdp(const std::string& id, const std::string& sdp) {
  const auto i = receiverIndex(id);
  if (!i) throw std::invalid_argument("no RX stream '" + id + "'");
  Rx& rx = *rx_[*i];
  if (rx.state.active && rx.currentSdp == sdp) return;
  try {
    if (rx.state.active) {
      change(liveInputAdd(), [&] {
        deactivate(rx, "");
        activate(rx, prepare(rx, sdp));
      });
    } else {
      const PreparedRx p = prepare(rx, sdp);
      change(liveInputAdd(), [&] { activate(rx, p); });
    }
    emit("RX stream '" + id + "' receives the description of " + (rx.spec.rtspUrl.empty() ? std::string("its owner") : rx.spec.rtspUrl));
  } catch (const std::exception& e) {
    rx.state.problem = std::string("its description cannot be received: ") + e.what();
    emit("RX stream '" + id + "': " + rx.state.problem);
    throw std::invalid_argument(rx.state.problem);
  }
}

void EmulatedDut::withdrawSdp(const std::string& id, const std::string& why) {
  const auto i = receiverIndex(id);
  if (!i) throw std::invalid_argument("no RX stream '" + id + "'");
  Rx& rx = *rx_[*i];
  if (rx.state.active) deactivate(rx, why);
  else rx.state.problem = why;
  emit("RX stream '" + id + "': " + why);
}

std::optional<std::size_t> EmulatedDut::receiverIndex(const std::string& id) const {
  for (std::size_t i = 0; i < rx_.size(); ++i) {
    if (rx_[i]->state.id == id) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> EmulatedDut::transmitterIndex(const std::string& id) const {
  for (std::size_t i = 0; i < tx_.size(); ++i) {
    if (tx_[i]->state.id == id) return i;
  }
  return std::nullopt;
}

std::string EmulatedDut::transmitSdp(std::size_t i) const { return streams_->txSdp(tx_.at(i)->state.id); }

StreamConfig EmulatedDut::streamConfig() const {
  StreamConfig c = streams_->config();
  // SAP streams are saved by name (and their last SDP), inactive ones too; the manager
  // knows only the active ones.
  c.rx.erase(std::remove_if(c.rx.begin(), c.rx.end(),
                            [](const RxStreamConfig& r) { return !r.sapSessionName.empty() || !r.rtspUrl.empty(); }),
             c.rx.end());
  for (const auto& rx : rx_) {
    if (rx->spec.sapSessionName.empty() && rx->spec.rtspUrl.empty()) continue;
    RxStreamConfig r = rxConfigOf(*rx, "");
    c.rx.push_back(r);
  }
  return c;
}

bool EmulatedDut::liveChange() const { return started_ && !stopped_ && host_->running(); }

bool EmulatedDut::liveInputAdd() const {
  // Every RX stream here has the DUT's link offset, the device's minimum input latency:
  // it always fits (checked all the same, as the device would refuse it).
  return liveChange() && config_.linkOffsetFrames <= device_->inputPresentationFrames();
}

void EmulatedDut::change(bool live, const std::function<void()>& what) {
  if (live) {
    what();
  } else {
    reconfigure(what);
  }
}

void EmulatedDut::retireInput(Rx& rx) {
  Retired r;
  r.generation = device_->removeInput(*rx.source);
  r.source = std::move(rx.source);
  r.playout = streams_->removeRx(rx.state.id);
  retired_.push_back(std::move(r));
  releaseRetired();
}

void EmulatedDut::retireOutput(Tx& tx) {
  Retired r;
  r.generation = device_->removeOutput(*tx.sink);
  r.sink = std::move(tx.sink);
  r.ring = streams_->removeTx(tx.state.id);
  retired_.push_back(std::move(r));
  releaseRetired();
}

void EmulatedDut::releaseRetired() {
  device_->reclaim();
  retired_.erase(std::remove_if(retired_.begin(), retired_.end(), [&](const Retired& r) { return device_->ioPast(r.generation); }),
                 retired_.end());
}

void EmulatedDut::reconfigure(const std::function<void()>& change) {
  std::exception_ptr error;
  auto run = [&] {
    // IO is stopped here: whatever removed streams left is freed.
    releaseRetired();
    try {
      change();
    } catch (...) {
      error = std::current_exception();
    }
    // Whatever happened, IO restarts on a consistent device: every sink realigned.
    try {
      if (started_) realignTransmitters();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  };
  if (started_ && host_->running()) {
    host_->performConfigurationChange(run);
  } else {
    run();
  }
  if (error) std::rethrow_exception(error);
}

void EmulatedDut::realignTransmitters() {
  // A new time line: what the rings hold belongs to the old one, and the sinks must learn
  // where the new one starts. Here IO is stopped, so this thread is the rings' only user.
  for (auto& tx : tx_) {
    if (!tx->sink) continue;
    FrameRingBuffer& ring = streams_->txRing(tx->state.id);
    ring.skip(ring.fill());
    device_->removeOutput(*tx->sink);
    tx->sinkCounters.overflowFrames += tx->sink->overflowFrames();
    tx->sinkCounters.gaps += tx->sink->gaps();
    tx->sinkCounters.gapFrames += tx->sink->gapFrames();
    tx->sinkCounters.repeatedFrames += tx->sink->repeatedFrames();
    tx->sink.reset();
    attachTx(*tx);
  }
  for (auto& rx : rx_) {
    if (rx->aligner) rx->aligner->reset();
  }
}

void EmulatedDut::handleStep(Nanoseconds stepNs) {
  const Nanoseconds magnitude = std::llabs(stepNs);
  if (magnitude > resync_.largestStepNs) resync_.largestStepNs = magnitude;
  if (magnitude < clock_->resyncThresholdNs()) {
    ++resync_.absorbedSteps;
    emit("media clock stepped " + std::to_string(stepNs) + " ns: absorbed");
    return;
  }
  ++resync_.clockSteps;
  emit("media clock stepped " + std::to_string(stepNs) + " ns: the device's time line restarts");
  if (started_ && !stopped_) reconfigure([] {});
  for (auto& rx : rx_) {
    if (rx->aligner) rx->aligner->reset();
  }
}

void EmulatedDut::updateReference() {
  const std::optional<ClockIdentity> gm = clock_->grandmaster();
  if (!gm) return;
  streams_->setPtpReference(grandmasterReference(gm->bytes, clock_->domain()));
  for (auto& tx : tx_) {
    if (tx->sapHandle != 0) announce(*tx);
  }
}

void EmulatedDut::announce(Tx& tx) {
  const std::string sdp = streams_->txSdp(tx.state.id);
  if (!announcer_) announcer_ = std::make_unique<SapAnnouncer>(transport_, config_.sap.announcer);
  if (tx.sapHandle == 0) {
    tx.sapHandle = announcer_->add(sdp);
  } else if (sdp != tx.announcedSdp) {
    announcer_->update(tx.sapHandle, sdp);
    ++tx.state.sapUpdates;
  }
  tx.announcedSdp = sdp;
  tx.state.announced = true;
  tx.state.sapHash = announcer_->hashOf(tx.sapHandle);
}

void EmulatedDut::ensureListener() {
  if (listener_) return;
  listener_ = std::make_unique<SapListener>(transport_, config_.sap.listener);
  listener_->setCallback([this](SapEvent e, const SapSession& s) { sapNotices_.push_back({e, s}); });
}

void EmulatedDut::tryResolve(Rx& rx) {
  if (!listener_ || rx.state.active) return;
  for (const SapSession& s : listener_->sessions()) {
    if (sessionNameOf(s.sdp) != rx.spec.sapSessionName) continue;
    try {
      const PreparedRx p = prepare(rx, s.sdp);
      change(liveInputAdd(), [&] { activate(rx, p); });
      rx.followedSession = s.sdpOriginKey;
      emit("RX stream '" + rx.state.id + "' follows SAP session '" + rx.spec.sapSessionName + "'");
    } catch (const std::exception& e) {
      rx.state.problem = std::string("SAP session '") + rx.spec.sapSessionName + "' cannot be received: " + e.what();
      emit(rx.state.problem);
    }
    return;
  }
}

void EmulatedDut::processSap() {
  std::vector<SapNotice> notices;
  notices.swap(sapNotices_);
  for (std::size_t k = 0; k < notices.size(); ++k) {
    const SapNotice& n = notices[k];
    const std::string name = sessionNameOf(n.session.sdp);
    if (n.event == SapEvent::kDeleted) {
      // Announcers replace a description by deleting the old one and announcing the new
      // one back to back (RFC 2974 §5; aes67-linux-daemon#56, the lab's SapAnnouncer): when
      // the new one is in the same batch, it is a change, not a stream going away.
      bool replaced = false;
      for (std::size_t j = k + 1; j < notices.size() && !replaced; ++j) {
        replaced = (notices[j].event == SapEvent::kAdded || notices[j].event == SapEvent::kChanged) &&
                   notices[j].session.sdpOriginKey == n.session.sdpOriginKey;
      }
      if (replaced) continue;
    }
    for (auto& rxp : rx_) {
      Rx& rx = *rxp;
      if (rx.spec.sapSessionName.empty() || rx.spec.sapSessionName != name) continue;
      switch (n.event) {
        case SapEvent::kAdded:
        case SapEvent::kChanged:
          if (!rx.state.active) {
            tryResolve(rx);
          } else if (rx.followedSession == n.session.sdpOriginKey && n.session.sdp != rx.currentSdp) {
            // The sender changed its stream: receive the new description.
            try {
              // Checked against the others first: its own (old) channels are its to reuse.
              change(liveInputAdd(), [&] {
                deactivate(rx, "");
                activate(rx, prepare(rx, n.session.sdp));
              });
              rx.followedSession = n.session.sdpOriginKey;
              emit("RX stream '" + rx.state.id + "' follows the changed SAP session '" + name + "'");
            } catch (const std::exception& e) {
              rx.state.problem = std::string("SAP session '") + name + "' changed and cannot be received: " + e.what();
              emit(rx.state.problem);
            }
          }
          break;
        case SapEvent::kDeleted:
        case SapEvent::kTimedOut:
        case SapEvent::kEvicted:
          if (rx.state.active && rx.followedSession == n.session.sdpOriginKey) {
            const std::string why = "SAP session '" + name + "' " + toString(n.event) + "; waiting for it to be announced again";
            deactivate(rx, why);
            emit("RX stream '" + rx.state.id + "': " + why);
          }
          break;
      }
    }
  }
}

const RtpReceiverStats& EmulatedDut::receiverStats(std::size_t i) const {
  const Rx& rx = *rx_.at(i);
  return rx.receiver ? rx.receiver->stats() : rx.lastStats;
}

PlayoutStats EmulatedDut::playoutStats(std::size_t i) const {
  const Rx& rx = *rx_.at(i);
  return rx.source ? rx.source->playout().stats() : rx.lastPlayout;
}

std::int64_t EmulatedDut::playoutFill(std::size_t i) const {
  const Rx& rx = *rx_.at(i);
  return rx.source ? rx.source->playout().fillFrames() : 0;
}

std::uint64_t EmulatedDut::socketOverflows(std::size_t rxIndex) const {
  const Rx& rx = *rx_.at(rxIndex);
  return rx.overflowsBefore + (rx.socket ? rx.socket->receiveOverflows() : 0);
}

const SenderClockAlignerStats* EmulatedDut::alignerStats(std::size_t rxIndex) const {
  const Rx& rx = *rx_.at(rxIndex);
  return rx.aligner ? &rx.aligner->stats() : nullptr;
}

TransmitRingCounters EmulatedDut::transmitRingCounters(std::size_t i) const {
  const Tx& tx = *tx_.at(i);
  TransmitRingCounters c = tx.sinkCounters;
  if (tx.sink) {
    c.overflowFrames += tx.sink->overflowFrames();
    c.gaps += tx.sink->gaps();
    c.gapFrames += tx.sink->gapFrames();
    c.repeatedFrames += tx.sink->repeatedFrames();
  }
  return c;
}

void EmulatedDut::receive(std::size_t index) {
  Rx& rx = *rx_[index];
  if (!rx.socket) return;
  const MediaClock& media = packetClock();
  const RtpStreamFormat& f = rx.state.stream.format;
  for (;;) {
    // The datagram where the network keeps it (no copy on the virtual network); what
    // receive() into datagram_ would have truncated is truncated the same here.
    const std::uint8_t* data = nullptr;
    std::optional<DatagramInfo> info = rx.socket->receiveView(data);
    if (!info) break;
    if (info->size > datagram_.size()) info->truncated = true;
    const std::uint64_t acceptedBefore = rx.receiver->stats().accepted;
    RtpPacketView p;
    const bool parsed = !info->truncated && parseRtp(data, info->size, p) == RtpParseError::kNone;
    if (parsed && rx.aligner && p.payloadType == f.payloadType && p.payloadSize > 0 && p.payloadSize % f.frameBytes() == 0) {
      // Sender-clocked: the timestamp as the media clock counts (bytes 4-7 of the header),
      // rewritten in a copy.
      const std::uint32_t frames = static_cast<std::uint32_t>(p.payloadSize / f.frameBytes());
      const std::uint32_t aligned = rx.aligner->align(p.ssrc, p.sequenceNumber, p.timestamp, frames, media.sampleAt(info->receivedAt));
      std::memcpy(datagram_.data(), data, info->size);
      data = datagram_.data();
      datagram_[4] = static_cast<std::uint8_t>(aligned >> 24);
      datagram_[5] = static_cast<std::uint8_t>(aligned >> 16);
      datagram_[6] = static_cast<std::uint8_t>(aligned >> 8);
      datagram_[7] = static_cast<std::uint8_t>(aligned);
      p.timestamp = aligned;
    }
    if (info->truncated) {
      ++rx.oversize;  // larger than any AES67 packet: dropped before parsing
    } else {
      rx.receiver->handle(data, info->size, *info);
    }
    PacketStamp stamp;
    stamp.direction = PacketStamp::Direction::kReceived;
    stamp.stream = static_cast<std::uint32_t>(index);
    stamp.hostTime = info->receivedAt;
    stamp.accepted = rx.receiver->stats().accepted > acceptedBefore;
    if (parsed) {
      stamp.sequence = p.sequenceNumber;
      stamp.rtpTimestamp = p.timestamp;
      stamp.frames = static_cast<std::uint32_t>(p.payloadSize / f.frameBytes());
      stamp.mediaTime = mediaTimeOf(p.timestamp, f.mediaclkOffset, media.sampleAt(info->receivedAt));
      stamp.deviceTime = running() ? device_->timeline().deviceTimeOf(stamp.mediaTime) + device_->inputLatencyFrames() : 0;
    }
    packetLog_.push(stamp);
  }
}

Nanoseconds EmulatedDut::transmit(std::size_t index, bool known) {
  Tx& tx = *tx_[index];
  if (!tx.started) {
    if (!tx.sink->started()) return std::numeric_limits<Nanoseconds>::max();
    tx.transmitter->start(tx.sink->firstMediaTime());
    tx.started = true;
    tx.dueKnown = false;
    known = false;
  }
  const std::uint64_t sentBefore = tx.transmitter->stats().packetsSent + tx.transmitter->stats().sendErrors;
  const SampleTime mediaBefore = tx.transmitter->nextMediaTime();
  const std::uint16_t sequenceBefore = tx.transmitter->nextSequence();
  const Nanoseconds due = known ? tx.transmitter->poll(tx.due) : tx.transmitter->poll();
  const std::uint64_t sent = tx.transmitter->stats().packetsSent + tx.transmitter->stats().sendErrors - sentBefore;
  const RtpTransmitterConfig& c = tx.transmitter->config();
  const Nanoseconds now = transport_.clock().now();
  for (std::uint64_t k = 0; k < sent; ++k) {
    PacketStamp stamp;
    stamp.direction = PacketStamp::Direction::kSent;
    stamp.accepted = true;
    stamp.stream = static_cast<std::uint32_t>(index);
    stamp.sequence = static_cast<std::uint16_t>(sequenceBefore + k);
    stamp.frames = c.framesPerPacket;
    stamp.mediaTime = mediaBefore + static_cast<SampleTime>(k) * c.framesPerPacket;
    stamp.rtpTimestamp = rtpTimestampOf(stamp.mediaTime, c.format.mediaclkOffset);
    stamp.hostTime = now;
    stamp.deviceTime = device_->timeline().deviceTimeOf(stamp.mediaTime);
    packetLog_.push(stamp);
  }
  return due;
}

Nanoseconds EmulatedDut::nextIoWake() {
  const Nanoseconds predicted = host_->nextCycleHostTime();
  if (config_.ioWakeDelayMaxNs <= 0 || predicted == std::numeric_limits<Nanoseconds>::max()) return predicted;
  if (predicted != wakeFor_) {
    // xorshift64*: a seeded, repeatable delay per cycle.
    wakeRng_ ^= wakeRng_ >> 12;
    wakeRng_ ^= wakeRng_ << 25;
    wakeRng_ ^= wakeRng_ >> 27;
    const std::uint64_t r = wakeRng_ * 0x2545F4914F6CDD1DULL;
    const long double u = static_cast<long double>(r >> 11) / static_cast<long double>(1ULL << 53);
    wakeFor_ = predicted;
    wakeAt_ = predicted + static_cast<Nanoseconds>(u * static_cast<long double>(config_.ioWakeDelayMaxNs));
  }
  return wakeAt_;
}

Nanoseconds EmulatedDut::poll() {
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  transmitWaiting_ = false;
  const DutClockPoll c = clock_->poll();
  next = std::min(next, c.next);
  if (c.stepped) handleStep(c.stepNs);
  if (c.lockChanged) emit(clock_->locked() ? "PTP locked" : "PTP lock lost");
  if (c.grandmasterChanged) {
    emit("PTP grandmaster " + formatPtp4l(*clock_->grandmaster()));
    updateReference();
  }
  if (listener_) {
    listener_->poll();
    processSap();
    next = std::min(next, listener_->nextExpiry());
  }
  for (std::size_t i = 0; i < rx_.size(); ++i) receive(i);
  if (running()) {
    const bool realTimeIo = host_->realTimeRunning();
    // Host load (virtual-time IO only) holds a cycle back until its late wake; without it the
    // host runs whatever is due, as it always did.
    const bool loaded = !realTimeIo && config_.ioWakeDelayMaxNs > 0;
    if (!realTimeIo && (!loaded || transport_.clock().now() >= nextIoWake())) host_->runDue();
    const Nanoseconds now = transport_.clock().now();
    // Only without the real-time thread: with it, the HAL's schedule is that thread's to
    // write, and reading it here was a data race (ThreadSanitizer, issue 9's real-time test).
    const Nanoseconds nextCycle =
        realTimeIo ? std::numeric_limits<Nanoseconds>::max() : (loaded ? nextIoWake() : host_->nextCycleHostTime());
    if (!realTimeIo) next = std::min(next, nextCycle);
    // On the DUT's own PTP clock a transmitter's next due time changes only with its next
    // media time or the mapping: while neither did and it is still ahead, its poll would send
    // nothing (and nextDue costs a mapping inversion per stream per poll).
    const PtpTimeMapping* mapping = config_.reuseTransmitDue && clock_->slave() ? &clock_->slave()->mapping() : nullptr;
    const std::uint32_t mappingVersion = mapping ? mapping->version() : 0;
    for (std::size_t i = 0; i < tx_.size(); ++i) {
      Tx& tx = *tx_[i];
      const bool known = mapping && tx.started && tx.dueKnown && tx.dueMapping == mappingVersion && tx.dueMedia == tx.transmitter->nextMediaTime();
      if (known && tx.due > now) {
        next = std::min(next, tx.due);
        continue;
      }
      const Nanoseconds due = transmit(i, known);
      if (!tx.started) continue;
      if (mapping) {
        tx.dueKnown = true;
        tx.due = due;
        tx.dueMedia = tx.transmitter->nextMediaTime();
        tx.dueMapping = mappingVersion;
      }
      if (due > now) {
        next = std::min(next, due);
      } else if (realTimeIo) {
        // Due but its audio is not in the ring yet: the IO thread brings it shortly.
        const RtpTransmitterConfig& tc = tx_[i]->transmitter->config();
        next = std::min(next, now + std::min<Nanoseconds>(samplesToNanos(tc.framesPerPacket, tc.format.sampleRate), 250'000));
      } else {
        next = std::min(next, nextCycle);  // the next IO cycle brings it
        transmitWaiting_ = true;
      }
    }
  }
  if (announcer_) next = std::min(next, announcer_->poll());
  // Removed streams' ports, once the IO thread (the cycles above, in virtual time) is past them.
  if (!retired_.empty()) releaseRetired();
  return next;
}

}  // namespace aes67
