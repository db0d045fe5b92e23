#include "engine/stream/stream_manager.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "engine/sdp/sdp_session.hpp"
#include "engine/stream/stream_sdp.hpp"

namespace aes67 {

namespace {

std::uint32_t fnv1a(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::vector<std::uint32_t> identityMap(std::uint32_t channels) {
  std::vector<std::uint32_t> m(channels);
  for (std::uint32_t i = 0; i < channels; ++i) m[i] = i + 1;
  return m;
}

void checkMapShape(const std::string& what, const std::vector<std::uint32_t>& map, std::uint32_t channels,
                   std::uint32_t deviceChannels) {
  if (map.size() != channels) {
    throw std::invalid_argument(what + ": the channel map has " + std::to_string(map.size()) + " entries but the stream has " +
                                std::to_string(channels) + " channels (give one device channel per stream channel, 0 = not routed)");
  }
  for (std::size_t i = 0; i < map.size(); ++i) {
    if (map[i] > deviceChannels) {
      throw std::invalid_argument(what + ": stream channel " + std::to_string(i + 1) + " maps to device channel " +
                                  std::to_string(map[i]) + ", the device has 1-" + std::to_string(deviceChannels));
    }
  }
}

}  // namespace

StreamManager::StreamManager(Transport& transport, const MediaClock& mediaClock, StreamManagerConfig config)
    : transport_(transport), mediaClock_(mediaClock), config_(std::move(config)) {
  if (config_.sourceAddress == 0) config_.sourceAddress = transport.localAddress();
  if (config_.ptpReference.kind == SdpTsRefclk::Kind::kOther && config_.ptpReference.raw.empty()) {
    config_.ptpReference = traceablePtpReference();
  }
  if (config_.deviceInputChannels == 0 || config_.deviceInputChannels > kMaxMappedDeviceChannels ||
      config_.deviceOutputChannels == 0 || config_.deviceOutputChannels > kMaxMappedDeviceChannels) {
    throw std::invalid_argument("StreamManager: the device has 1-128 input and output channels");
  }
}

StreamManager::~StreamManager() { stopIo(); }

void StreamManager::checkId(const std::string& id) const {
  if (id.empty()) throw std::invalid_argument("a stream needs a non-empty id");
  if (rx_.count(id) || tx_.count(id)) throw std::invalid_argument("stream id '" + id + "' is already in use");
}

void StreamManager::checkRxMap(const std::string& id, const std::vector<std::uint32_t>& map,
                               const std::map<std::string, Rx>& others) const {
  for (std::size_t i = 0; i < map.size(); ++i) {
    if (map[i] == 0) continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (map[j] == map[i]) {
        throw std::invalid_argument("RX stream '" + id + "': channels " + std::to_string(j + 1) + " and " + std::to_string(i + 1) +
                                    " both map to device channel " + std::to_string(map[i]));
      }
    }
    for (const auto& [otherId, other] : others) {
      const auto& om = other.config.channelMap;
      const auto at = std::find(om.begin(), om.end(), map[i]);
      if (otherId != id && at != om.end()) {
        throw std::invalid_argument("RX stream '" + id + "' channel " + std::to_string(i + 1) + " and RX stream '" + otherId +
                                    "' channel " + std::to_string(at - om.begin() + 1) + " both map to device input channel " +
                                    std::to_string(map[i]) + ": a device channel takes one stream");
      }
    }
  }
}

StreamManager::Rx StreamManager::makeRx(const RxStreamConfig& config, bool allocate) const {
  Rx rx;
  rx.config = config;
  const std::string what = "RX stream '" + config.id + "'";
  try {
    const RxStreamDescription d = describeRxStream(config.sdp, config.timing);
    rx.description = d.stream;
    rx.senderClocked = d.senderClocked;
  } catch (const SdpError& e) {
    throw std::invalid_argument(what + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
  const std::uint32_t channels = rx.description.format.channels;
  if (channels > 64) throw std::invalid_argument(what + ": " + std::to_string(channels) + " channels; the engine receives 1-64 per stream");
  if (rx.config.channelMap.empty()) rx.config.channelMap = identityMap(channels);
  checkMapShape(what, rx.config.channelMap, channels, config_.deviceInputChannels);
  if (config.linkOffset < 0) throw std::invalid_argument(what + ": link offset must not be negative");
  PlayoutConfig pc;
  pc.channels = channels;
  pc.capacityFrames = config.playoutCapacityFrames;
  pc.linkOffset = config.linkOffset;
  if (pc.capacityFrames < static_cast<std::size_t>(config.linkOffset) + rx.description.framesPerPacket) {
    throw std::invalid_argument(what + ": playout capacity " + std::to_string(pc.capacityFrames) +
                                " frames is less than link offset + one packet");
  }
  if (!allocate) {
    PlayoutBuffer::check(pc);
    return rx;
  }
  rx.playout = std::make_unique<PlayoutBuffer>(pc);
  return rx;
}

StreamManager::Tx StreamManager::makeTx(const TxStreamConfig& config, bool allocate) const {
  Tx tx;
  tx.config = config;
  const std::string what = "TX stream '" + config.id + "'";
  const RtpStreamFormat& f = config.format;
  if (f.channels < 1 || f.channels > 64) throw std::invalid_argument(what + ": channels must be 1-64");
  if (f.sampleRate == 0) throw std::invalid_argument(what + ": sample rate must be positive");
  if (f.payloadType > 127) throw std::invalid_argument(what + ": payload type must be 0-127");
  if (config.framesPerPacket == 0) throw std::invalid_argument(what + ": frames per packet must be at least 1");
  if (config.destination.port == 0) throw std::invalid_argument(what + ": destination port must not be 0");
  if (config.ttl > 255) throw std::invalid_argument(what + ": TTL must be 0-255");
  if (!config.direction.empty() && config.direction != "recvonly" && config.direction != "sendonly" &&
      config.direction != "sendrecv" && config.direction != "inactive") {
    throw std::invalid_argument(what + ": direction must be recvonly, sendonly, sendrecv, inactive or empty");
  }
  if (!config.sessionId.empty() && config.sessionId.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument(what + ": session id must be digits");
  }
  if (tx.config.channelMap.empty()) tx.config.channelMap = identityMap(f.channels);
  checkMapShape(what, tx.config.channelMap, f.channels, config_.deviceOutputChannels);
  if (tx.config.ssrc == 0) tx.config.ssrc = fnv1a("ssrc:" + config.id) | 1u;
  if (tx.config.sessionId.empty()) tx.config.sessionId = std::to_string(fnv1a("session:" + config.id));
  const std::size_t ringFrames = config.ringFrames != 0 ? config.ringFrames : config_.txRingFrames;
  const std::size_t frames = std::max<std::size_t>(ringFrames, config.framesPerPacket * 4);
  if (!allocate) {
    FrameRingBuffer::check(frames, f.channels);
    return tx;
  }
  tx.ring = std::make_unique<FrameRingBuffer>(frames, f.channels);
  return tx;
}

void StreamManager::addRx(const RxStreamConfig& config) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkId(config.id);
  Rx rx = makeRx(config);
  checkRxMap(config.id, rx.config.channelMap, rx_);
  if (ioRunning_) openRx(rx);
  rx_.emplace(config.id, std::move(rx));
}

void StreamManager::checkRx(const RxStreamConfig& config) const {
  std::lock_guard<std::mutex> lock(mutex_);
  checkId(config.id);
  Rx rx = makeRx(config, false);
  checkRxMap(config.id, rx.config.channelMap, rx_);
}

void StreamManager::checkTx(const TxStreamConfig& config) const {
  std::lock_guard<std::mutex> lock(mutex_);
  checkId(config.id);
  makeTx(config, false);
}

void StreamManager::addRxFromSap(const std::string& id, const SapSession& session, std::vector<std::uint32_t> channelMap) {
  RxStreamConfig c;
  c.id = id;
  c.sdp = session.sdp;
  c.channelMap = std::move(channelMap);
  addRx(c);
}

void StreamManager::addTx(const TxStreamConfig& config) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkId(config.id);
  Tx tx = makeTx(config);
  if (ioRunning_) openTx(tx);
  tx_.emplace(config.id, std::move(tx));
}

void StreamManager::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!rx_.erase(id) && !tx_.erase(id)) throw std::invalid_argument("no stream '" + id + "'");
}

std::unique_ptr<FrameRingBuffer> StreamManager::removeTx(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = tx_.find(id);
  if (it == tx_.end()) throw std::invalid_argument("no TX stream '" + id + "'");
  std::unique_ptr<FrameRingBuffer> ring = std::move(it->second.ring);
  it->second.transmitter.reset();  // it sent from the ring: gone first
  tx_.erase(it);
  return ring;
}

std::unique_ptr<PlayoutBuffer> StreamManager::removeRx(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rx_.find(id);
  if (it == rx_.end()) throw std::invalid_argument("no RX stream '" + id + "'");
  std::unique_ptr<PlayoutBuffer> playout = std::move(it->second.playout);
  it->second.receiver.reset();  // it wrote into the playout buffer: gone first
  rx_.erase(it);
  return playout;
}

void StreamManager::apply(const StreamConfig& config) {
  // Build everything first: a bad entry leaves the running streams untouched.
  std::map<std::string, Rx> rx;
  std::map<std::string, Tx> tx;
  for (const auto& c : config.rx) {
    if (c.id.empty() || rx.count(c.id) || tx.count(c.id)) throw std::invalid_argument("stream id '" + c.id + "' is empty or repeated");
    Rx r = makeRx(c);
    checkRxMap(c.id, r.config.channelMap, rx);
    rx.emplace(c.id, std::move(r));
  }
  for (const auto& c : config.tx) {
    if (c.id.empty() || rx.count(c.id) || tx.count(c.id)) throw std::invalid_argument("stream id '" + c.id + "' is empty or repeated");
    tx.emplace(c.id, makeTx(c));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (ioRunning_) {
    for (auto& [id, r] : rx) openRx(r);
    for (auto& [id, t] : tx) openTx(t);
  }
  rx_ = std::move(rx);
  tx_ = std::move(tx);
}

StreamConfig StreamManager::config() const {
  std::lock_guard<std::mutex> lock(mutex_);
  StreamConfig c;
  for (const auto& [id, r] : rx_) c.rx.push_back(r.config);
  for (const auto& [id, t] : tx_) c.tx.push_back(t.config);
  return c;
}

std::string StreamManager::txSdp(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = tx_.find(id);
  if (it == tx_.end()) throw std::invalid_argument("no TX stream '" + id + "'");
  return writeTxSdp(it->second.config, config_.sourceAddress, config_.ptpReference);
}

SdpTsRefclk StreamManager::ptpReference() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_.ptpReference;
}

void StreamManager::setPtpReference(const SdpTsRefclk& reference) {
  if (!reference.isPtp()) throw std::invalid_argument("setPtpReference: the reference must be ptp= (a grandmaster or traceable)");
  std::lock_guard<std::mutex> lock(mutex_);
  if (formatTsRefclk(reference) == formatTsRefclk(config_.ptpReference)) return;
  config_.ptpReference = reference;
  for (auto& [id, t] : tx_) ++t.config.sessionVersion;
}

PlayoutBuffer& StreamManager::playout(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rx_.find(id);
  if (it == rx_.end()) throw std::invalid_argument("no RX stream '" + id + "'");
  return *it->second.playout;
}

FrameRingBuffer& StreamManager::txRing(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = tx_.find(id);
  if (it == tx_.end()) throw std::invalid_argument("no TX stream '" + id + "'");
  return *it->second.ring;
}

std::uint32_t StreamManager::framesPerPacket(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = rx_.find(id); it != rx_.end()) return it->second.description.framesPerPacket;
  if (auto it = tx_.find(id); it != tx_.end()) return it->second.config.framesPerPacket;
  throw std::invalid_argument("no stream '" + id + "'");
}

const std::vector<std::uint32_t>& StreamManager::channelMap(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = rx_.find(id); it != rx_.end()) return it->second.config.channelMap;
  if (auto it = tx_.find(id); it != tx_.end()) return it->second.config.channelMap;
  throw std::invalid_argument("no stream '" + id + "'");
}

const SdpStream& StreamManager::rxDescription(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rx_.find(id);
  if (it == rx_.end()) throw std::invalid_argument("no RX stream '" + id + "'");
  return it->second.description;
}

bool StreamManager::rxSenderClocked(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rx_.find(id);
  if (it == rx_.end()) throw std::invalid_argument("no RX stream '" + id + "'");
  return it->second.senderClocked;
}

std::vector<std::string> StreamManager::rxIds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, r] : rx_) ids.push_back(id);
  return ids;
}

std::vector<std::string> StreamManager::txIds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, t] : tx_) ids.push_back(id);
  return ids;
}

void StreamManager::openRx(Rx& rx) {
  RtpReceiverConfig c;
  c.destination = rx.description.destination;
  c.sourceFilter = rx.description.sourceFilter;
  c.format = rx.description.format;
  rx.receiver = std::make_unique<RtpReceiver>(transport_, c, *rx.playout, &mediaClock_);
}

void StreamManager::openTx(Tx& tx) {
  RtpTransmitterConfig c;
  c.destination = tx.config.destination;
  c.format = tx.config.format;
  c.framesPerPacket = tx.config.framesPerPacket;
  c.ssrc = tx.config.ssrc;
  c.dscp = tx.config.dscp;
  c.ttl = static_cast<int>(tx.config.ttl);
  tx.transmitter = std::make_unique<RtpTransmitter>(transport_, c, *tx.ring, mediaClock_);
  tx.transmitter->start(mediaClock_.sampleAt(transport_.clock().now()));
}

void StreamManager::startIo(bool networkThread) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ioRunning_) return;
    try {
      for (auto& [id, r] : rx_) openRx(r);
      for (auto& [id, t] : tx_) openTx(t);
    } catch (...) {
      for (auto& [id, r] : rx_) r.receiver.reset();
      for (auto& [id, t] : tx_) t.transmitter.reset();
      throw;
    }
    ioRunning_ = true;
  }
  if (networkThread) {
    stopThread_ = false;
    thread_ = std::thread([this] { threadLoop(); });
  }
}

void StreamManager::stopIo() {
  if (thread_.joinable()) {
    stopThread_ = true;
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, r] : rx_) r.receiver.reset();
  for (auto& [id, t] : tx_) t.transmitter.reset();
  ioRunning_ = false;
}

Nanoseconds StreamManager::poll() {
  std::lock_guard<std::mutex> lock(mutex_);
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  if (!ioRunning_) return next;
  for (auto& [id, r] : rx_) r.receiver->poll();
  for (auto& [id, t] : tx_) next = std::min(next, t.transmitter->poll());
  return next;
}

void StreamManager::threadLoop() {
  // Sleeps until the next packet is due, at most 1 ms (receivers are polled at least
  // that often); exits within 1 ms of stopIo().
  while (!stopThread_) {
    const Nanoseconds next = poll();
    const Nanoseconds wait = std::clamp<Nanoseconds>(next - transport_.clock().now(), 50'000, 1'000'000);
    std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }
}

const RtpReceiverStats* StreamManager::rxStats(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rx_.find(id);
  return it != rx_.end() && it->second.receiver ? &it->second.receiver->stats() : nullptr;
}

const RtpTransmitterStats* StreamManager::txStats(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = tx_.find(id);
  return it != tx_.end() && it->second.transmitter ? &it->second.transmitter->stats() : nullptr;
}

}  // namespace aes67
