// The lab's emulated PTP grandmaster (lab/peers/grandmaster.ts Grandmaster) in C++, for
// virtual-time runs on a linear timescale without a script: the same Announce, Sync,
// Follow_Up and Delay_Resp datagrams, byte for byte, at the same times; the same foreign
// master bookkeeping and BMCA decisions (it goes passive while a better master is heard);
// the same counts. Its messages come from the lab's PTP codec rules (lab/net/ptp.ts
// parsePtp and serializePtp, ported here step for step: what is refused and why, what is
// written), not from the engine's (engine/ptp), so the device's PTP slave still meets an
// implementation that is not its own. lab/peers/native-grandmaster.test.ts runs both
// grandmasters side by side against a slave, a foreign master and malformed datagrams.
// (bench/virtual-speed.ts: the TypeScript grandmaster's few hundred messages a run were
// 30 us each, its code too rarely run for the JIT to optimize.) The TypeScript
// grandmaster stays the one for scripts (steps, drift, failover) and real sockets.
#include <napi.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/native_actor.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

using ClockId = std::array<std::uint8_t, 8>;

struct PortId {
  ClockId clock{};
  std::uint16_t port = 0;
};

// lab/peers/grandmaster-bmca.ts ClockDataset.
struct Dataset {
  int priority1 = 0, clockClass = 0, clockAccuracy = 0, offsetScaledLogVariance = 0, priority2 = 0;
  ClockId grandmasterIdentity{};
  int stepsRemoved = 0;
  PortId sender;
};

int cmp(long a, long b) { return a < b ? -1 : a > b ? 1 : 0; }
int cmpId(const ClockId& a, const ClockId& b) {
  const int c = std::memcmp(a.data(), b.data(), a.size());
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// compareDatasets: lower is better; identities compare as unsigned numbers (as their hex does).
int compareDatasets(const Dataset& a, const Dataset& b) {
  if (cmpId(a.grandmasterIdentity, b.grandmasterIdentity) != 0) {
    if (int c = cmp(a.priority1, b.priority1)) return c;
    if (int c = cmp(a.clockClass, b.clockClass)) return c;
    if (int c = cmp(a.clockAccuracy, b.clockAccuracy)) return c;
    if (int c = cmp(a.offsetScaledLogVariance, b.offsetScaledLogVariance)) return c;
    if (int c = cmp(a.priority2, b.priority2)) return c;
    return cmpId(a.grandmasterIdentity, b.grandmasterIdentity);
  }
  if (int c = cmp(a.stepsRemoved, b.stepsRemoved)) return c;
  if (int c = cmpId(a.sender.clock, b.sender.clock)) return c;
  return cmp(a.sender.port, b.sender.port);
}

// lab/net/ptp.ts: message type codes, names, fixed lengths.
constexpr int kSync = 0x0, kDelayReq = 0x1, kFollowUp = 0x8, kDelayResp = 0x9, kAnnounce = 0xb, kSignaling = 0xc, kManagement = 0xd;
const char* typeName(int code) {
  switch (code) {
    case 0x0: return "sync";
    case 0x1: return "delayReq";
    case 0x2: return "pdelayReq";
    case 0x3: return "pdelayResp";
    case 0x8: return "followUp";
    case 0x9: return "delayResp";
    case 0xa: return "pdelayRespFollowUp";
    case 0xb: return "announce";
    case 0xc: return "signaling";
    case 0xd: return "management";
    default: return nullptr;
  }
}
std::size_t fixedLength(int code) {
  switch (code) {
    case 0x2:
    case 0x3:
    case 0x9:
    case 0xa: return 54;
    case 0xb: return 64;
    case 0xd: return 48;
    default: return 44;
  }
}
constexpr int kLogIntervalNone = 0x7f;
constexpr std::size_t kHeader = 34;
constexpr std::int64_t kNsPerS = 1'000'000'000;

std::uint16_t u16(const std::uint8_t* b, std::size_t at) { return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]); }
std::uint32_t u32(const std::uint8_t* b, std::size_t at) {
  return (static_cast<std::uint32_t>(b[at]) << 24) | (static_cast<std::uint32_t>(b[at + 1]) << 16) | (static_cast<std::uint32_t>(b[at + 2]) << 8) | b[at + 3];
}
PortId portIdAt(const std::uint8_t* b, std::size_t at) {
  PortId p;
  std::memcpy(p.clock.data(), b + at, 8);
  p.port = u16(b, at + 8);
  return p;
}

// What the grandmaster reads of a message parsePtp accepted.
struct Message {
  int type = 0;
  int majorSdoId = 0;
  int domain = 0;
  std::int64_t correction = 0;
  PortId source;
  std::uint16_t sequenceId = 0;
  int logMessageInterval = 0;
  Dataset announce;  // for an Announce
};

// parsePtp, check for check in its order; nullopt with its reason for what it refuses.
std::optional<Message> parsePtp(const std::uint8_t* b, std::size_t n, const char*& reason) {
  if (n < 2) return reason = "truncated", std::nullopt;
  const int version = b[1] & 0x0f;
  if (version == 1) return reason = "ptpv1", std::nullopt;
  if (version != 2) return reason = "unsupported-version", std::nullopt;
  if (n < kHeader) return reason = "truncated", std::nullopt;
  Message m;
  m.type = b[0] & 0x0f;
  if (!typeName(m.type)) return reason = "unknown-message-type", std::nullopt;
  const std::size_t messageLength = u16(b, 2);
  const std::size_t fixed = fixedLength(m.type);
  if (messageLength < fixed) return reason = "bad-length", std::nullopt;
  if (n < messageLength) return reason = "truncated", std::nullopt;
  for (std::size_t p = fixed; p < messageLength;) {
    if (messageLength - p < 4) return reason = "bad-tlv", std::nullopt;
    const std::size_t length = u16(b, p + 2);
    if (p + 4 + length > messageLength) return reason = "bad-tlv", std::nullopt;
    p += 4 + length;
  }
  if (m.type != kSignaling && m.type != kManagement && u32(b, 40) >= 1'000'000'000u) return reason = "bad-timestamp", std::nullopt;
  m.majorSdoId = b[0] >> 4;
  m.domain = b[4];
  std::uint64_t correction = 0;
  for (int i = 0; i < 8; ++i) correction = (correction << 8) | b[8 + i];
  m.correction = static_cast<std::int64_t>(correction);
  m.source = portIdAt(b, 20);
  m.sequenceId = u16(b, 30);
  m.logMessageInterval = static_cast<std::int8_t>(b[33]);
  if (m.type == kAnnounce) {
    Dataset& d = m.announce;
    d.priority1 = b[47];
    d.clockClass = b[48];
    d.clockAccuracy = b[49];
    d.offsetScaledLogVariance = u16(b, 50);
    d.priority2 = b[52];
    std::memcpy(d.grandmasterIdentity.data(), b + 53, 8);
    d.stepsRemoved = u16(b, 61);
    d.sender = m.source;
  }
  return m;
}

// ECMAScript Math.round: the nearest integer, ties toward +infinity.
double jsRound(double x) {
  double r = std::floor(x);
  if (x - r >= 0.5) r += 1;
  return r;
}

struct Config {
  int domain = 0, priority1 = 128, priority2 = 128, clockClass = 248, clockAccuracy = 0xfe, offsetScaledLogVariance = 0xffff, timeSource = 0xa0;
  int currentUtcOffset = 37;
  bool currentUtcOffsetValid = true, ptpTimescale = true, timeTraceable = false, frequencyTraceable = false;
  int logAnnounceInterval = 1, logSyncInterval = -3, logMinDelayReqInterval = -3, announceReceiptTimeout = 3;
  bool twoStep = true, masterOnly = false;
  int eventDscp = 46, generalDscp = 34;
};

struct ForeignMaster {
  PortId key;
  Dataset dataset;
  std::vector<double> receipts;  // local receive times of its last Announces (at most 2)
  int logAnnounceInterval = 0;
};

double logIntervalNs(int log) { return 1e9 * std::pow(2.0, log); }

class GrandmasterActor final : public NativeActor {
 public:
  struct Counts {
    double announce = 0, sync = 0, followUp = 0, delayResp = 0, delayReqReceived = 0, foreignAnnounce = 0, becamePassive = 0, becameMaster = 0, sendFailures = 0;
    std::map<std::string, double> ignored;
    std::map<std::string, double> malformed;
  };

  GrandmasterActor(VirtualNetwork& network, Transport& host, const Config& config, const ClockId& identity, std::int64_t epoch, double ppm)
      : network_(network), config_(config), epoch_(epoch), scale_(1 + ppm / 1e6) {
    own_.clock = identity;
    own_.port = 1;
    hostDeliveries_ = &network.deliveriesTo(host);
    SocketOptions event;
    event.localPort = 319;
    event.dscp = config.eventDscp;
    event.multicastLoop = true;
    event_ = host.open(event);
    SocketOptions general;
    general.localPort = 320;
    general.dscp = config.generalDscp;
    general.multicastLoop = true;  // as the TypeScript grandmaster's socket has it (toSocketOptions' default)
    general_ = host.open(general);
    event_->joinMulticast(kGroup);
    general_->joinMulticast(kGroup);
  }

  double poll(Nanoseconds nowNs) override {
    if (closed_) return INFINITY;
    seen_ = *hostDeliveries_;
    const double now = static_cast<double>(nowNs);
    if (!started_) {
      started_ = true;
      nextAnnounce_ = now;
      nextSync_ = now;
    }
    receive();
    updateState(now);
    const bool active = master_;
    // Sync before Announce when both are due (grandmaster.ts: the Sync's time stamp first).
    // Stamped with the clock's time, as grandmaster.ts reads its transport's (in the
    // scheduler's steps the same as `now`).
    if (active && now >= nextSync_) {
      sendSync(network_.clock().now());
      nextSync_ = advance(nextSync_, logIntervalNs(config_.logSyncInterval), now);
    }
    if (active && now >= nextAnnounce_) {
      sendAnnounce(network_.clock().now());
      nextAnnounce_ = advance(nextAnnounce_, logIntervalNs(config_.logAnnounceInterval), now);
    }
    return nextDue();
  }
  PollOn pollOn() const override { return PollOn::kDueOrPending; }
  bool pending() const override { return !closed_ && *hostDeliveries_ != seen_; }

  void close() {
    if (closed_) return;
    closed_ = true;
    event_.reset();
    general_.reset();
  }
  bool master() const { return master_; }
  const Counts& counts() const { return counts_; }

 private:
  static constexpr Ipv4Address kGroup = (224u << 24) | (0u << 16) | (1u << 8) | 129u;  // 224.0.1.129

  std::int64_t ptpTimeAt(double local) const { return epoch_ + static_cast<std::int64_t>(jsRound(local * scale_)); }

  static double advance(double due, double interval, double now) {
    const double next = due + interval;
    return next > now ? next : now + interval - std::fmod(now - due, interval);
  }

  double nextDue() const {
    double next = INFINITY;
    if (master_) next = std::min(nextSync_, nextAnnounce_);
    if (!master_) next = std::min(next, passiveUntil());
    return next;
  }

  void ignore(const std::string& reason) { counts_.ignored[reason] += 1; }

  void receive() {
    // Bounded per poll: a flood cannot keep it from sending.
    for (int i = 0; i < 1000 && event_; ++i) {
      const std::uint8_t* data = nullptr;
      const std::optional<DatagramInfo> d = network_.peek(*event_, data);
      if (!d) break;
      const std::optional<Message> m = accept(data, d->size);
      if (!m) continue;
      if (m->type == kDelayReq) answer(*m, static_cast<double>(d->receivedAt));
      else ignore(std::string("event-") + typeName(m->type));
    }
    for (int i = 0; i < 1000 && general_; ++i) {
      const std::uint8_t* data = nullptr;
      const std::optional<DatagramInfo> d = network_.peek(*general_, data);
      if (!d) break;
      const std::optional<Message> m = accept(data, d->size);
      if (!m) continue;
      if (m->type == kAnnounce) hearAnnounce(*m, static_cast<double>(d->receivedAt));
      else ignore(std::string("general-") + typeName(m->type));
    }
  }

  std::optional<Message> accept(const std::uint8_t* data, std::size_t size) {
    const char* reason = "";
    std::optional<Message> m = parsePtp(data, size, reason);
    if (!m) {
      counts_.malformed[reason] += 1;
      return std::nullopt;
    }
    if (m->source.clock == own_.clock) return ignore("own"), std::nullopt;
    if (m->domain != config_.domain) return ignore("other-domain"), std::nullopt;
    return m;
  }

  Dataset ownDataset() const {
    Dataset d;
    d.priority1 = config_.priority1;
    d.clockClass = config_.clockClass;
    d.clockAccuracy = config_.clockAccuracy;
    d.offsetScaledLogVariance = config_.offsetScaledLogVariance;
    d.priority2 = config_.priority2;
    d.grandmasterIdentity = own_.clock;
    d.stepsRemoved = 0;
    d.sender = own_;
    return d;
  }

  void hearAnnounce(const Message& a, double receivedAt) {
    counts_.foreignAnnounce += 1;
    ForeignMaster* f = nullptr;
    for (ForeignMaster& x : foreign_) {
      if (x.key.clock == a.source.clock && x.key.port == a.source.port) f = &x;
    }
    if (!f) {
      // Bounded: the oldest foreign master makes room.
      if (foreign_.size() >= 16) foreign_.erase(foreign_.begin());
      foreign_.push_back(ForeignMaster{a.source, a.announce, {}, a.logMessageInterval});
      f = &foreign_.back();
    }
    f->dataset = a.announce;
    f->logAnnounceInterval = a.logMessageInterval == kLogIntervalNone ? config_.logAnnounceInterval : a.logMessageInterval;
    f->receipts.push_back(receivedAt);
    if (f->receipts.size() > 2) f->receipts.erase(f->receipts.begin());
  }

  static double intervalOf(const ForeignMaster& f) { return logIntervalNs(std::max(-7, std::min(6, f.logAnnounceInterval))); }

  // The best qualified foreign master that beats us (forgetting the timed-out), or null.
  const ForeignMaster* betterForeignMaster(double now) {
    const Dataset own = ownDataset();
    std::size_t best = SIZE_MAX;
    for (std::size_t i = 0; i < foreign_.size();) {
      const ForeignMaster& f = foreign_[i];
      const double interval = intervalOf(f);
      if (now - f.receipts.back() > config_.announceReceiptTimeout * interval) {
        foreign_.erase(foreign_.begin() + static_cast<std::ptrdiff_t>(i));
        if (best != SIZE_MAX && best > i) --best;
        continue;
      }
      const bool qualified = f.receipts.size() >= 2 && now - f.receipts.front() <= 4 * interval;
      if (qualified && compareDatasets(f.dataset, own) < 0 && (best == SIZE_MAX || compareDatasets(f.dataset, foreign_[best].dataset) < 0)) best = i;
      ++i;
    }
    return best == SIZE_MAX ? nullptr : &foreign_[best];
  }

  double passiveUntil() const {
    double until = INFINITY;
    for (const ForeignMaster& f : foreign_) until = std::min(until, f.receipts.back() + config_.announceReceiptTimeout * intervalOf(f) + 1);
    return until;
  }

  void updateState(double now) {
    if (config_.masterOnly) return;
    const ForeignMaster* better = betterForeignMaster(now);
    if (better && master_) {
      master_ = false;
      counts_.becamePassive += 1;
    } else if (!better && !master_) {
      master_ = true;
      counts_.becameMaster += 1;
      nextAnnounce_ = nextSync_ = now;
    }
  }

  // serializePtp's common header (messageLength its type's fixed length: no TLVs).
  void header(std::uint8_t* out, int type, int majorSdoId, int flags, std::int64_t correction, std::uint16_t sequenceId, int controlField, int logMessageInterval) const {
    const std::size_t length = fixedLength(type);
    std::memset(out, 0, length);
    out[0] = static_cast<std::uint8_t>((majorSdoId << 4) | type);
    out[1] = 2;
    out[2] = static_cast<std::uint8_t>(length >> 8);
    out[3] = static_cast<std::uint8_t>(length);
    out[4] = static_cast<std::uint8_t>(config_.domain);
    out[6] = static_cast<std::uint8_t>(flags >> 8);
    out[7] = static_cast<std::uint8_t>(flags);
    for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(correction) >> (56 - 8 * i));
    std::memcpy(out + 20, own_.clock.data(), 8);
    out[28] = static_cast<std::uint8_t>(own_.port >> 8);
    out[29] = static_cast<std::uint8_t>(own_.port);
    out[30] = static_cast<std::uint8_t>(sequenceId >> 8);
    out[31] = static_cast<std::uint8_t>(sequenceId);
    out[32] = static_cast<std::uint8_t>(controlField);
    out[33] = static_cast<std::uint8_t>(static_cast<std::int8_t>(logMessageInterval));
  }

  static void writeTimestamp(std::uint8_t* out, std::int64_t ns) {
    // Every non-negative int64 of nanoseconds (292 years) fits the 48-bit seconds field.
    if (ns < 0) throw std::range_error("PTP timestamp must be 0..2^48 s in nanoseconds, got " + std::to_string(ns));
    const std::uint64_t s = static_cast<std::uint64_t>(ns / kNsPerS);
    const std::uint32_t sub = static_cast<std::uint32_t>(ns % kNsPerS);
    out[34] = static_cast<std::uint8_t>(s >> 40);
    out[35] = static_cast<std::uint8_t>(s >> 32);
    for (int i = 0; i < 4; ++i) out[36 + i] = static_cast<std::uint8_t>(s >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) out[40 + i] = static_cast<std::uint8_t>(sub >> (24 - 8 * i));
  }

  void send(bool event, const std::uint8_t* bytes, std::size_t size) {
    DatagramSocket* socket = event ? event_.get() : general_.get();
    if (!socket || !socket->send({kGroup, static_cast<std::uint16_t>(event ? 319 : 320)}, bytes, size)) counts_.sendFailures += 1;
  }

  void sendSync(Nanoseconds now) {
    const std::uint16_t seq = syncSeq_;
    syncSeq_ = static_cast<std::uint16_t>(syncSeq_ + 1);
    counts_.sync += 1;
    std::uint8_t b[44];
    header(b, kSync, 0, config_.twoStep ? 0x0200 : 0, 0, seq, 0, config_.logSyncInterval);
    writeTimestamp(b, ptpTimeAt(static_cast<double>(now)));
    send(true, b, sizeof b);
    if (!config_.twoStep) return;
    // Virtual time: the Sync left exactly now; its Follow_Up goes at once.
    std::uint8_t f[44];
    header(f, kFollowUp, 0, 0, 0, seq, 2, config_.logSyncInterval);
    writeTimestamp(f, ptpTimeAt(static_cast<double>(now)));
    counts_.followUp += 1;
    send(false, f, sizeof f);
  }

  void sendAnnounce(Nanoseconds now) {
    const std::uint16_t seq = announceSeq_;
    announceSeq_ = static_cast<std::uint16_t>(announceSeq_ + 1);
    counts_.announce += 1;
    const int flags = (config_.currentUtcOffsetValid ? 0x0004 : 0) | (config_.ptpTimescale ? 0x0008 : 0) | (config_.timeTraceable ? 0x0010 : 0) |
                      (config_.frequencyTraceable ? 0x0020 : 0);
    std::uint8_t b[64];
    header(b, kAnnounce, 0, flags, 0, seq, 5, config_.logAnnounceInterval);
    writeTimestamp(b, ptpTimeAt(static_cast<double>(now)));
    const std::uint16_t utc = static_cast<std::uint16_t>(static_cast<std::int16_t>(config_.currentUtcOffset));
    b[44] = static_cast<std::uint8_t>(utc >> 8);
    b[45] = static_cast<std::uint8_t>(utc);
    b[47] = static_cast<std::uint8_t>(config_.priority1);
    b[48] = static_cast<std::uint8_t>(config_.clockClass);
    b[49] = static_cast<std::uint8_t>(config_.clockAccuracy);
    b[50] = static_cast<std::uint8_t>(config_.offsetScaledLogVariance >> 8);
    b[51] = static_cast<std::uint8_t>(config_.offsetScaledLogVariance);
    b[52] = static_cast<std::uint8_t>(config_.priority2);
    std::memcpy(b + 53, own_.clock.data(), 8);
    b[63] = static_cast<std::uint8_t>(config_.timeSource);
    send(false, b, sizeof b);
  }

  void answer(const Message& req, double receivedAt) {
    counts_.delayReqReceived += 1;
    if (!master_) return ignore("delay-req-while-not-master");
    // §11.3.2: t4 from our receive time stamp; correctionField carried over from the request.
    std::uint8_t b[54];
    header(b, kDelayResp, req.majorSdoId, 0, req.correction, req.sequenceId, 3, config_.logMinDelayReqInterval);
    writeTimestamp(b, ptpTimeAt(receivedAt));
    std::memcpy(b + 44, req.source.clock.data(), 8);
    b[52] = static_cast<std::uint8_t>(req.source.port >> 8);
    b[53] = static_cast<std::uint8_t>(req.source.port);
    counts_.delayResp += 1;
    send(false, b, sizeof b);
  }

  VirtualNetwork& network_;
  Config config_;
  std::int64_t epoch_;
  double scale_;
  PortId own_;
  std::unique_ptr<DatagramSocket> event_;
  std::unique_ptr<DatagramSocket> general_;
  const std::uint64_t* hostDeliveries_ = nullptr;
  std::uint64_t seen_ = 0;
  bool closed_ = false;
  bool started_ = false;
  bool master_ = true;
  double nextAnnounce_ = 0;
  double nextSync_ = 0;
  std::uint16_t announceSeq_ = 0;
  std::uint16_t syncSeq_ = 0;
  std::vector<ForeignMaster> foreign_;
  Counts counts_;
};

int intOf(const Napi::Object& o, const char* key, int min, int max) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("NativeGrandmaster: ") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d) && d >= min && d <= max)) {
    throw Napi::RangeError::New(o.Env(), std::string("NativeGrandmaster: ") + key + " must be an integer " + std::to_string(min) + ".." + std::to_string(max));
  }
  return static_cast<int>(d);
}

bool boolOf(const Napi::Object& o, const char* key) { return o.Get(key).ToBoolean().Value(); }

// new NativeGrandmaster(network, {host, clockIdentity: Uint8Array(8), epochNs, ppm, ...GrandmasterConfig}): see native/grandmaster.ts.
class JsNativeGrandmaster : public Napi::ObjectWrap<JsNativeGrandmaster> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeGrandmaster",
                       {InstanceMethod("poll", &JsNativeGrandmaster::poll), InstanceMethod("nativeActor", &JsNativeGrandmaster::nativeActor),
                        InstanceMethod("state", &JsNativeGrandmaster::state), InstanceMethod("counts", &JsNativeGrandmaster::counts),
                        InstanceMethod("close", &JsNativeGrandmaster::close)});
  }
  explicit JsNativeGrandmaster(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsNativeGrandmaster>(info) {
    Napi::Env env = info.Env();
    JsVirtualNetwork* network = JsVirtualNetwork::from(info[0]);
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    if (info.Length() < 2 || !info[1].IsObject()) throw Napi::TypeError::New(env, "new NativeGrandmaster(network, config)");
    const Napi::Object o = info[1].As<Napi::Object>();
    Config c;
    c.domain = intOf(o, "domain", 0, 255);
    c.priority1 = intOf(o, "priority1", 0, 255);
    c.priority2 = intOf(o, "priority2", 0, 255);
    c.clockClass = intOf(o, "clockClass", 0, 255);
    c.clockAccuracy = intOf(o, "clockAccuracy", 0, 255);
    c.offsetScaledLogVariance = intOf(o, "offsetScaledLogVariance", 0, 0xffff);
    c.timeSource = intOf(o, "timeSource", 0, 255);
    c.currentUtcOffset = intOf(o, "currentUtcOffset", -32768, 32767);
    c.currentUtcOffsetValid = boolOf(o, "currentUtcOffsetValid");
    c.ptpTimescale = boolOf(o, "ptpTimescale");
    c.timeTraceable = boolOf(o, "timeTraceable");
    c.frequencyTraceable = boolOf(o, "frequencyTraceable");
    c.logAnnounceInterval = intOf(o, "logAnnounceInterval", -7, 6);
    c.logSyncInterval = intOf(o, "logSyncInterval", -7, 6);
    c.logMinDelayReqInterval = intOf(o, "logMinDelayReqInterval", -7, 6);
    c.announceReceiptTimeout = intOf(o, "announceReceiptTimeout", 2, 255);
    c.twoStep = boolOf(o, "twoStep");
    c.masterOnly = boolOf(o, "masterOnly");
    c.eventDscp = intOf(o, "eventDscp", 0, 63);
    c.generalDscp = intOf(o, "generalDscp", 0, 63);
    const Napi::Value id = o.Get("clockIdentity");
    if (!id.IsTypedArray() || id.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || id.As<Napi::Uint8Array>().ElementLength() != 8) {
      throw Napi::TypeError::New(env, "NativeGrandmaster: clockIdentity must be a Uint8Array of 8 bytes");
    }
    ClockId identity;
    std::memcpy(identity.data(), id.As<Napi::Uint8Array>().Data(), 8);
    const double ppm = o.Get("ppm").IsNumber() ? o.Get("ppm").As<Napi::Number>().DoubleValue() : 0.0;
    if (!std::isfinite(ppm)) throw Napi::RangeError::New(env, "NativeGrandmaster: ppm must be finite");
    try {
      Transport& host = network->network().host(toAddress(o.Get("host"), "host"));
      actor_ = std::make_unique<GrandmasterActor>(network->network(), host, c, identity, toInt64(o.Get("epochNs"), "epochNs"), ppm);
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(env, std::string("NativeGrandmaster: ") + e.what());
    }
  }

 private:
  Napi::Value poll(const Napi::CallbackInfo& info) {
    try {
      return Napi::Number::New(info.Env(), actor_->poll(toInt64(info[0], "now")));
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string("NativeGrandmaster: ") + e.what());
    }
  }
  Napi::Value nativeActor(const Napi::CallbackInfo& info) { return nativeActorHandle(info.Env(), actor_.get()); }
  Napi::Value state(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), actor_->master() ? "master" : "passive"); }
  void close(const Napi::CallbackInfo&) { actor_->close(); }
  // grandmaster.ts GrandmasterCounts (the loopback and after-send stamps are real sockets' only: 0).
  Napi::Value counts(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const GrandmasterActor::Counts& c = actor_->counts();
    Napi::Object o = Napi::Object::New(env);
    o.Set("announce", c.announce);
    o.Set("sync", c.sync);
    o.Set("followUp", c.followUp);
    o.Set("delayResp", c.delayResp);
    o.Set("delayReqReceived", c.delayReqReceived);
    o.Set("foreignAnnounce", c.foreignAnnounce);
    o.Set("becamePassive", c.becamePassive);
    o.Set("becameMaster", c.becameMaster);
    Napi::Object ignored = Napi::Object::New(env);
    for (const auto& [k, v] : c.ignored) ignored.Set(k, v);
    o.Set("ignored", ignored);
    Napi::Object malformed = Napi::Object::New(env);
    for (const auto& [k, v] : c.malformed) malformed.Set(k, v);
    o.Set("malformed", malformed);
    o.Set("sendFailures", c.sendFailures);
    o.Set("kernelStamps", 0.0);
    o.Set("loopbackStamps", 0.0);
    o.Set("afterSendStamps", 0.0);
    return o;
  }

  Napi::ObjectReference networkRef_;
  std::unique_ptr<GrandmasterActor> actor_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("NativeGrandmaster", JsNativeGrandmaster::define(env)); }

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
