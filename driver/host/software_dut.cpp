#include "driver/host/software_dut.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/base/virtual_network.hpp"
#include "engine/ptp/ptp_servo.hpp"
#include "engine/ptp/ptp_types.hpp"
#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

using nlohmann::json;

namespace {

double seconds(Nanoseconds ns) { return static_cast<double>(ns) / 1e9; }

json channels1(const std::vector<std::uint32_t>& zeroBased) {
  json a = json::array();
  for (std::uint32_t c : zeroBased) a.push_back(c + 1);
  return a;
}

json receiverJson(const EmulatedDut& dut, std::size_t i) {
  const DutReceiveState& st = dut.receiveState(i);
  const RtpReceiverStats& s = dut.receiverStats(i);
  const PlayoutStats p = dut.playoutStats(i);
  json dropped = json::object();
  for (std::size_t k = 0; k < s.dropped.size(); ++k) dropped[toString(static_cast<RtpDropReason>(k))] = s.dropped[k];
  json j{{"id", st.id},
         {"kind", "rx"},
         {"active", st.active},
         {"source", !st.sapSessionName.empty() ? "sap" : (!st.rtspUrl.empty() ? "rtsp" : "sdp")},
         {"senderClocked", st.senderClocked},
         {"activations", st.activations},
         {"channels", channels1(st.deviceChannels)},
         {"counters",
          {{"received", s.received},
           {"accepted", s.accepted},
           {"lost", s.lost},
           {"reordered", s.reordered},
           {"ssrcChanges", s.ssrcChanges},
           {"dropped", dropped},
           {"socketOverflows", dut.socketOverflows(i)},
           {"oversizeDatagrams", dut.oversizeDatagrams(i)},
           {"transitMinNs", s.transitMinNs},
           {"transitMaxNs", s.transitMaxNs}}},
         {"playout",
          {{"framesWritten", p.framesWritten},
           {"framesPlayed", p.framesPlayed},
           {"framesMissing", p.framesMissing},
           {"framesPriming", p.framesPriming},
           {"glitches", p.glitches},
           {"latePackets", p.latePackets},
           {"earlyPackets", p.earlyPackets},
           {"fillFrames", dut.playoutFill(i)}}}};
  if (!st.sapSessionName.empty()) j["sap"] = st.sapSessionName;
  if (!st.problem.empty()) j["problem"] = st.problem;
  if (st.active) {
    const RtpStreamDescription& d = st.stream;
    j["name"] = d.name;
    j["destination"] = formatEndpoint(d.destination);
    if (d.source != 0) j["sourceFilter"] = formatIpv4(d.source);
    j["format"] = {{"encoding", toString(d.format.encoding)},
                   {"channels", d.format.channels},
                   {"sampleRate", d.format.sampleRate},
                   {"payloadType", d.format.payloadType},
                   {"framesPerPacket", d.framesPerPacket}};
  }
  if (const SenderClockAlignerStats* a = dut.alignerStats(i)) {
    j["anchoring"] = {{"anchors", a->anchors},
                      {"driftRealigns", a->driftRealigns},
                      {"ssrcRealigns", a->ssrcRealigns},
                      {"continued", a->continued},
                      {"transitMinFrames", a->transitMinFrames},
                      {"transitMaxFrames", a->transitMaxFrames}};
  }
  return j;
}

json transmitterJson(const EmulatedDut& dut, std::size_t i) {
  const DutTransmitState& st = dut.transmitState(i);
  const DutTransmitStream& spec = dut.config().transmit.at(i);
  const RtpTransmitterStats& s = dut.transmitterStats(i);
  const TransmitRingCounters ring = dut.transmitRingCounters(i);
  const RtpStreamDescription& d = spec.stream;
  return json{{"id", st.id},
              {"kind", "tx"},
              {"name", d.name},
              {"destination", formatEndpoint(d.destination)},
              {"format",
               {{"encoding", toString(d.format.encoding)},
                {"channels", d.format.channels},
                {"sampleRate", d.format.sampleRate},
                {"payloadType", d.format.payloadType},
                {"framesPerPacket", d.framesPerPacket},
                {"mediaclkOffset", d.format.mediaclkOffset}}},
              {"channels", channels1(spec.deviceChannels)},
              {"announced", st.announced},
              {"sapUpdates", st.sapUpdates},
              {"counters",
               {{"packetsSent", s.packetsSent},
                {"sendErrors", s.sendErrors},
                {"lastSendErrno", s.lastSendError},
                {"framesSent", s.framesSent},
                {"latenessMaxNs", s.latenessMaxNs},
                {"waitingForAudio", s.waitingForAudio},
                {"ringOverflowFrames", ring.overflowFrames},
                {"ringGaps", ring.gaps},
                {"ringGapFrames", ring.gapFrames}}}};
}

json errorJson(const std::string& message) { return json{{"error", message}}; }

HttpResponse jsonResponse(int status, const json& j) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump(2) + "\n";
  return r;
}

}  // namespace

SoftwareDut::SoftwareDut(const SoftwareDutConfig& config, std::ostream& log) : config_(config), log_(log) {
  startedAt_ = clock_.now();
  try {
    transport_ = std::make_unique<UdpTransport>(clock_, config_.interfaceName);
  } catch (const std::runtime_error& e) {
    throw ConfigError(config_.file, "interface",
                      "'" + config_.interfaceName + "' cannot be used (" + e.what() + "); name an interface with an IPv4 address (see `ip -4 addr`)");
  }
  EmulatedDutConfig d = config_.dut;
  d.receive.clear();
  d.transmit.clear();
  d.packetLogCapacity = 1024;  // nobody drains the stamps here: keep the rings small
  d.cycleLogCapacity = 1024;
  try {
    dut_ = std::make_unique<EmulatedDut>(*transport_, d);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(config_.file, "device", e.what());
  }
  dut_->setEventCallback([this](const std::string& what) { this->log(what); });
  if (!config_.stateDir.empty()) store_ = std::make_unique<StreamConfigStore>(config_.stateDir, config_.stateFile);
  addStartupStreams();
  if (!config_.controlListen.empty()) {
    ControlServerConfig cc;
    cc.listen = config_.controlListen;
    cc.maxConnections = config_.maxConnections;
    cc.maxRequestBytes = config_.maxRequestBytes;
    control_ = std::make_unique<ControlServer>(cc, [this](const HttpRequest& r) { return handle(r); });
  }
}

SoftwareDut::~SoftwareDut() { shutdown(); }

std::string SoftwareDut::check(const SoftwareDutConfig& config) {
  Ipv4Address address = 0;
  try {
    address = interfaceAddress(config.interfaceName);
  } catch (const std::runtime_error& e) {
    throw ConfigError(config.file, "interface",
                      "'" + config.interfaceName + "' cannot be used (" + e.what() + "); name an interface with an IPv4 address (see `ip -4 addr`)");
  }
  VirtualClock clock;
  VirtualNetwork network(clock);
  Transport& host = network.addHost("dut", address);
  EmulatedDutConfig d = config.dut;
  d.receive.clear();
  d.transmit.clear();
  d.ptp.slave.interfaceName.clear();
  d.ptp.slave.transmitStamp = PtpTransmitStamp::kClockAfterSend;
  d.sap.listener.interfaceName.clear();
  d.sap.announcer.interfaceName.clear();
  std::unique_ptr<EmulatedDut> dut;
  try {
    dut = std::make_unique<EmulatedDut>(host, d);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(config.file, "device", e.what());
  }
  for (std::size_t i = 0; i < config.dut.receive.size(); ++i) {
    try {
      dut->addReceive(config.dut.receive[i]);
    } catch (const std::exception& e) {
      throw ConfigError(config.file, "rx[" + std::to_string(i) + "]", std::string(e.what()) + "; fix or remove this stream");
    }
  }
  for (std::size_t i = 0; i < config.dut.transmit.size(); ++i) {
    try {
      dut->addTransmit(config.dut.transmit[i]);
    } catch (const std::exception& e) {
      throw ConfigError(config.file, "tx[" + std::to_string(i) + "]", std::string(e.what()) + "; fix or remove this stream");
    }
  }
  return config.file + " is good: interface " + config.interfaceName + ", " + std::to_string(dut->receiverCount()) + " RX, " +
         std::to_string(dut->transmitterCount()) + " TX, PTP " + (config.dut.ptp.enabled ? "on" : "off");
}

void SoftwareDut::log(const std::string& line) {
  char t[32];
  std::snprintf(t, sizeof t, "%.3f", seconds(clock_.now() - startedAt_));
  log_ << "aes67-dut [" << t << " s]: " << line << std::endl;
}

void SoftwareDut::addStartupStreams() {
  std::vector<DutReceiveStream> rx = config_.dut.receive;
  std::vector<DutTransmitStream> tx = config_.dut.transmit;
  std::string file = config_.file;
  streamsFrom_ = "configuration file " + config_.file;
  if (store_) {
    const StreamConfigLoad loaded = store_->load();
    if (!loaded.problem.empty()) {
      storeProblem_ = loaded.problem;
      log(loaded.problem);
    }
    if (loaded.source != StreamConfigLoad::Source::kEmpty || !loaded.problem.empty()) {
      rx.clear();
      tx.clear();
      for (const RxStreamConfig& r : loaded.config.rx) rx.push_back(receiveStreamOf(r));
      for (const TxStreamConfig& t : loaded.config.tx) tx.push_back(transmitStreamOf(t));
      file = loaded.source == StreamConfigLoad::Source::kPrevious ? store_->previousPath() : store_->path();
      streamsFrom_ = "saved streams " + file;
      if (loaded.source != StreamConfigLoad::Source::kEmpty) {
        log("streams from " + file + " (" + std::to_string(rx.size()) + " RX, " + std::to_string(tx.size()) +
            " TX), saved at run time; the configuration file's rx/tx apply only while no streams are saved (remove " +
            store_->path() + " to start from them)");
      }
    }
  }
  for (std::size_t i = 0; i < rx.size(); ++i) {
    try {
      const std::size_t index = dut_->addReceive(rx[i]);
      if (!rx[i].rtspUrl.empty()) addRtspClient(dut_->receiveState(index).id, rx[i].rtspUrl);
    } catch (const std::exception& e) {
      throw ConfigError(file, "rx[" + std::to_string(i) + "]", std::string(e.what()) + "; fix or remove this stream");
    }
  }
  for (std::size_t i = 0; i < tx.size(); ++i) {
    try {
      dut_->addTransmit(tx[i]);
    } catch (const std::exception& e) {
      throw ConfigError(file, "tx[" + std::to_string(i) + "]", std::string(e.what()) + "; fix or remove this stream");
    }
  }
}

void SoftwareDut::addRtspClient(const std::string& id, const std::string& url) {
  RtspClientConfig c;
  c.url = url;
  c.userAgent = "aes67-dut";
  c.keepaliveInterval = 30 * kNanosPerSecond;
  auto client = std::make_unique<RtspTcpClient>(clock_, c);
  client->client().setCallback([this, id](const RtspClientEvent& e) {
    switch (e.kind) {
      case RtspClientEvent::Kind::kDescription:
      case RtspClientEvent::Kind::kChanged:
        try {
          dut_->provideSdp(id, e.sdp);
        } catch (const std::exception& x) {
          log(x.what());
        }
        break;
      case RtspClientEvent::Kind::kError:
        // The stream keeps playing what it was described as (RTP does not stop because
        // RTSP did); the client retries with its backoff.
        log("RX stream '" + id + "': RTSP: " + e.message);
        break;
    }
  });
  rtsp_[id] = std::move(client);
}

Nanoseconds SoftwareDut::pollRtsp() {
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  for (auto& [id, client] : rtsp_) next = std::min(next, client->poll());
  return next;
}

std::string SoftwareDut::save() {
  if (!store_) return "";
  try {
    store_->save(dut_->streamConfig());
    lastSaveError_.clear();
  } catch (const std::exception& e) {
    lastSaveError_ = e.what();
    log("the stream configuration was not saved: " + lastSaveError_);
  }
  return lastSaveError_;
}

void SoftwareDut::run(const std::atomic<bool>& stop) {
  dut_->startRealTime();
  // The network thread has deadlines too (a packet per packet time, PTP stamps read in
  // time): SCHED_FIFO below the IO thread's priority when permitted. Measured: on a
  // saturated 2-core host a normal-priority network thread stalled for up to 650 ms.
  sched_param sp{};
  sp.sched_priority = std::min(sched_get_priority_max(SCHED_FIFO), 50);
  networkRealTime_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  log(networkRealTime_ ? "network thread runs SCHED_FIFO" : "network thread runs without real-time priority (SCHED_FIFO not permitted)");
  log(std::string("running on ") + config_.interfaceName + " (" + formatIpv4(transport_->localAddress()) + "), " +
      std::to_string(dut_->receiverCount()) + " RX, " + std::to_string(dut_->transmitterCount()) + " TX, PTP " +
      (dut_->clock().ptp() ? "on (domain " + std::to_string(dut_->clock().domain()) + ")" : std::string("off")));
  bool toldPriority = false;
  while (!stop.load(std::memory_order_relaxed)) {
    const Nanoseconds rtspNext = pollRtsp();
    if (!toldPriority && dut_->host().stats().cycles > 0) {
      toldPriority = true;
      log(dut_->host().stats().realTimePriority ? "IO thread runs SCHED_FIFO"
                                                : "IO thread runs without real-time priority (SCHED_FIFO not permitted)");
    }
    const Nanoseconds next = std::min(dut_->poll(), rtspNext);
    const Nanoseconds now = clock_.now();
    // At most 1 ms between polls: receivers are drained at least that often (their
    // arrival times are the kernel's, so this costs no accuracy).
    // And at least 20 us, so nothing that claims to be due at once can spin the thread.
    const Nanoseconds wait = std::clamp<Nanoseconds>(next - now, 20'000, 1'000'000);
    if (control_) {
      control_->poll(wait);
    } else if (wait > 0) {
      timespec ts{0, static_cast<long>(wait)};
      ::nanosleep(&ts, nullptr);
    }
  }
}

void SoftwareDut::shutdown() {
  if (shutDown_ || !dut_) return;
  shutDown_ = true;
  for (auto& [id, client] : rtsp_) client->stop();
  dut_->shutdown();
  control_.reset();
}

std::string SoftwareDut::status() const {
  const Device& d = dut_->device();
  const DeviceCounters dc = d.counters();
  const HalHostStats h = dut_->host().stats();
  json device{{"name", d.name()},
              {"uid", d.uid()},
              {"interface", config_.interfaceName},
              {"address", formatIpv4(transport_->localAddress())},
              {"inputChannels", d.inputChannels()},
              {"outputChannels", d.outputChannels()},
              {"sampleRate", d.sampleRate()},
              {"ioBufferFrames", dut_->host().ioBufferFrames()},
              {"linkOffsetFrames", dut_->config().linkOffsetFrames},
              {"inputLatencyFrames", d.inputLatencyFrames()},
              {"inputSafetyOffsetFrames", d.inputSafetyOffsetFrames()},
              {"outputLatencyFrames", d.outputLatencyFrames()},
              {"outputSafetyOffsetFrames", d.outputSafetyOffsetFrames()},
              {"running", dut_->running()},
              {"realTimeThread", dut_->realTime()},
              {"realTimePriority", h.realTimePriority},
              {"networkRealTimePriority", networkRealTime_},
              {"rateScalar", d.timeline().rateScalar()},
              {"counters",
               {{"ioCycles", h.cycles},
                {"ioErrors", h.ioErrors},
                {"maxLatenessNs", h.maxLatenessNs},
                {"inputDiscontinuities", dc.inputDiscontinuities},
                {"outputDiscontinuities", dc.outputDiscontinuities},
                {"framesRead", dc.framesRead},
                {"framesWritten", dc.framesWritten},
                {"configurationChanges", h.configurationChanges},
                {"timelineJumps", h.timelineJumps}}}};
  json ptp = nullptr;
  const DutClock& clock = dut_->clock();
  if (const PtpSlave* slave = clock.slave()) {
    const PtpSlaveStatus st = slave->status();
    const DutClockCounters& cc = clock.counters();
    const PtpPortCounters& pc = slave->port().counters();
    const PtpServo& servo = slave->synchronizer().servo();
    const PtpServoCounters& sc = servo.counters();
    ptp = json{{"enabled", true},
               {"domain", clock.domain()},
               {"clockIdentity", formatPtp4l(slave->port().config().clockIdentity)},
               {"portState", toString(st.portState)},
               {"servoState", toString(st.servoState)},
               {"locked", clock.locked()},
               {"grandmaster", st.hasParent ? json(formatPtp4l(st.grandmasterIdentity)) : json(nullptr)},
               {"followedGrandmaster", clock.grandmaster() ? json(formatPtp4l(*clock.grandmaster())) : json(nullptr)},
               {"offsetNs", st.offset},
               {"pathDelayNs", st.pathDelay},
               {"frequencyPpb", st.frequencyPpb},
               // What the PTP time runs at now: the estimate plus the loop's proportional term,
               // or, holding over, the master's rate as its Syncs measured it.
               {"clockFrequencyPpb", slave->synchronizer().mapping().frequencyPpb()},
               {"lockTimeS", cc.firstLockAt < 0 ? json(nullptr) : json(seconds(cc.firstLockAt - cc.startedAt))},
               {"lastAcquisitionS", cc.lastAcquisitionNs < 0 ? json(nullptr) : json(seconds(cc.lastAcquisitionNs))},
               {"lockedForS", servo.lockedSince() < 0 ? json(nullptr) : json(seconds(clock_.now() - servo.lockedSince()))},
               // What "locked" was judged against: the window widens with the stamps' noise.
               {"lockWindowNs", servo.lockWindowNs()},
               {"measurementNoiseNs", servo.measurementNoiseNs()},
               // The loop's gains narrowed by that noise (kp x gainScale, ki x its square).
               {"gainScale", servo.gainScale()},
               {"acquisitionFit",
                {{"residualNs", servo.lastAcquisition().residualNs},
                 {"correctionNs", servo.lastAcquisition().correctionNs},
                 {"standardErrorNs", servo.lastAcquisition().standardErrorNs},
                 {"stepped", servo.lastAcquisition().stepped}}},
               {"tsRefclk", formatTsRefclk(dut_->streams().ptpReference())},
               {"counters",
                {{"syncSamples", pc.syncSamples},
                 {"delaySamples", pc.delaySamples},
                 {"announceTimeouts", pc.announceTimeouts},
                 {"grandmasterChanges", cc.grandmasterChanges},
                 {"steps", cc.steps},
                 {"lastStepNs", cc.lastStepNs},
                 {"locks", cc.locks},
                 {"lockLosses", cc.lockLosses},
                 {"spikes", sc.spikes},
                 {"holdoversOnFittedRate", slave->synchronizer().counters().holdoversOnFittedRate},
                 {"sampleTimeouts", sc.sampleTimeouts},
                 {"transmitStampFallbacks", slave->transmitStampFallbacks()},
                 {"sendFailures", slave->sendFailures()}}}};
  } else {
    ptp = json{{"enabled", false}, {"tsRefclk", formatTsRefclk(dut_->streams().ptpReference())}};
  }
  json rx = json::array(), tx = json::array();
  for (std::size_t i = 0; i < dut_->receiverCount(); ++i) {
    json r = receiverJson(*dut_, i);
    if (auto it = rtsp_.find(dut_->receiveState(i).id); it != rtsp_.end()) {
      const RtspClient& c = it->second->client();
      r["rtsp"] = {{"url", c.config().url},
                   {"state", toString(c.state())},
                   {"describes", c.stats().describes},
                   {"announcements", c.stats().announcements},
                   {"connects", c.stats().connects},
                   {"lastError", c.lastError() ? json(c.lastError()->message) : json(nullptr)}};
    }
    rx.push_back(r);
  }
  for (std::size_t i = 0; i < dut_->transmitterCount(); ++i) tx.push_back(transmitterJson(*dut_, i));
  json sessions = json::array();
  if (const SapListener* l = dut_->sapListener()) {
    const Nanoseconds now = clock_.now();
    for (const SapSession& s : l->sessions()) {
      std::string name;
      try {
        name = parseSdp(s.sdp).name;
      } catch (const std::exception&) {
      }
      sessions.push_back({{"name", name},
                          {"origin", formatIpv4(s.origin)},
                          {"msgIdHash", s.msgIdHash},
                          {"announcements", s.announcements},
                          {"lastHeardAgoS", seconds(now - s.lastHeard)}});
    }
  }
  json sap{{"listening", dut_->sapListener() != nullptr}, {"sessions", sessions}};
  if (const SapAnnouncer* a = dut_->sapAnnouncer()) {
    sap["announcer"] = {{"sessions", a->sessionCount()},
                        {"announcementsSent", a->stats().announcementsSent},
                        {"deletionsSent", a->stats().deletionsSent},
                        {"sendErrors", a->stats().sendErrors}};
  }
  const DutResyncCounters& rs = dut_->resyncCounters();
  json j{{"uptimeS", seconds(clock_.now() - startedAt_)},
         {"device", device},
         {"ptp", ptp},
         {"streams", {{"rx", rx}, {"tx", tx}}},
         {"sap", sap},
         {"resync", {{"clockSteps", rs.clockSteps}, {"absorbedSteps", rs.absorbedSteps}, {"largestStepNs", rs.largestStepNs}}},
         {"configuration",
          {{"file", config_.file},
           {"streamsFrom", streamsFrom_},
           {"stateFile", store_ ? json(store_->path()) : json(nullptr)},
           {"stateProblem", storeProblem_.empty() ? json(nullptr) : json(storeProblem_)},
           {"lastSaveError", lastSaveError_.empty() ? json(nullptr) : json(lastSaveError_)}}}};
  if (control_) {
    const ControlServerStats& cs = control_->stats();
    j["control"] = {{"address", control_->address()},
                    {"requests", cs.requests},
                    {"rejectedBusy", cs.rejectedBusy},
                    {"rejectedTooLarge", cs.rejectedTooLarge},
                    {"rejectedMalformed", cs.rejectedMalformed},
                    {"idleClosed", cs.idleClosed}};
  }
  return j.dump(2) + "\n";
}

HttpResponse SoftwareDut::handle(const HttpRequest& r) {
  const std::string& p = r.path;
  if (p == "/status") {
    if (r.method != "GET") return jsonResponse(405, errorJson("/status answers GET"));
    HttpResponse out;
    out.body = status();
    return out;
  }
  if (p == "/streams") {
    if (r.method == "GET") {
      json rx = json::array(), tx = json::array();
      for (std::size_t i = 0; i < dut_->receiverCount(); ++i) rx.push_back(receiverJson(*dut_, i));
      for (std::size_t i = 0; i < dut_->transmitterCount(); ++i) tx.push_back(transmitterJson(*dut_, i));
      return jsonResponse(200, json{{"rx", rx}, {"tx", tx}});
    }
    if (r.method != "POST") return jsonResponse(405, errorJson("/streams answers GET and POST"));
    StreamContext c{"request", config_.file.substr(0, config_.file.find_last_of('/') == std::string::npos ? 0 : config_.file.find_last_of('/')),
                    dut_->device().sampleRate(), config_.sapAnnounceDefault};
    if (c.baseDir.empty()) c.baseDir = ".";
    std::variant<DutReceiveStream, DutTransmitStream> spec;
    try {
      spec = parseStreamRequest(r.body, c);
    } catch (const ConfigError& e) {
      return jsonResponse(400, errorJson(e.what()));
    }
    std::string id;
    try {
      if (auto* rx = std::get_if<DutReceiveStream>(&spec)) {
        id = dut_->receiveState(dut_->addReceive(*rx)).id;
        if (!rx->rtspUrl.empty()) addRtspClient(id, rx->rtspUrl);
      } else {
        id = dut_->transmitState(dut_->addTransmit(std::get<DutTransmitStream>(spec))).id;
      }
    } catch (const std::invalid_argument& e) {
      return jsonResponse(400, errorJson(std::string("request: ") + e.what()));
    } catch (const std::runtime_error& e) {
      return jsonResponse(500, errorJson(std::string("request: ") + e.what()));
    }
    log("stream '" + id + "' added");
    const std::string saveError = save();
    json out{{"id", id}};
    if (!saveError.empty()) out["saveError"] = saveError;
    return jsonResponse(201, out);
  }
  const std::string prefix = "/streams/";
  if (p.rfind(prefix, 0) == 0) {
    std::string rest = p.substr(prefix.size());
    const bool wantSdp = rest.size() > 4 && rest.compare(rest.size() - 4, 4, "/sdp") == 0;
    const std::string id = wantSdp ? rest.substr(0, rest.size() - 4) : rest;
    const auto rxIndex = dut_->receiverIndex(id);
    const auto txIndex = dut_->transmitterIndex(id);
    if (!rxIndex && !txIndex) return jsonResponse(404, errorJson("no stream '" + id + "'"));
    if (wantSdp) {
      if (r.method != "GET") return jsonResponse(405, errorJson("an SDP answers GET"));
      HttpResponse out;
      out.contentType = "application/sdp";
      if (txIndex) {
        out.body = dut_->transmitSdp(*txIndex);
      } else {
        const DutReceiveState& st = dut_->receiveState(*rxIndex);
        if (!st.active) return jsonResponse(404, errorJson("RX stream '" + id + "' has no SDP yet: " + st.problem));
        for (const RxStreamConfig& c : dut_->streams().config().rx) {
          if (c.id == id) out.body = c.sdp;
        }
      }
      return out;
    }
    if (r.method == "GET") return jsonResponse(200, rxIndex ? receiverJson(*dut_, *rxIndex) : transmitterJson(*dut_, *txIndex));
    if (r.method != "DELETE") return jsonResponse(405, errorJson("/streams/<id> answers GET and DELETE"));
    try {
      dut_->removeStream(id);
    } catch (const std::exception& e) {
      return jsonResponse(400, errorJson(e.what()));
    }
    if (auto it = rtsp_.find(id); it != rtsp_.end()) {
      it->second->stop();
      rtsp_.erase(it);
    }
    log("stream '" + id + "' removed");
    const std::string saveError = save();
    if (!saveError.empty()) return jsonResponse(200, json{{"id", id}, {"saveError", saveError}});
    HttpResponse out;
    out.status = 204;
    return out;
  }
  return jsonResponse(404, errorJson("no such resource: GET /status, GET|POST /streams, GET|DELETE /streams/<id>, GET /streams/<id>/sdp"));
}

}  // namespace aes67
