// engine/ptp for TypeScript: the PTPv2 parser and writer (so the lab's own codec and
// tshark can be checked against them), and PtpSlave on the VirtualNetwork (virtual time)
// or on real UDP sockets on an interface, with its status, offset log and media clock.
// Local times are nanoseconds as JS numbers (exact for 104 days of uptime); PTP times,
// 64-bit and large, are bigints.
#include <napi.h>

#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <string>

#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/ptp/ptp_media_clock.hpp"
#include "engine/ptp/ptp_message.hpp"
#include "engine/ptp/ptp_slave.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::FunctionReference* gSlaveConstructor = nullptr;
Napi::FunctionReference* gMediaClockConstructor = nullptr;

const char* messageTypeName(PtpMessageType t) { return toString(t); }

Napi::Value timestampToJs(Napi::Env env, const PtpTimestamp& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("seconds", static_cast<double>(t.seconds));  // 48 bits: exact in a double
  o.Set("nanoseconds", static_cast<double>(t.nanoseconds));
  return o;
}

Napi::Value portIdentityToJs(Napi::Env env, const PortIdentity& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("clockIdentity", formatHex(p.clockIdentity));
  o.Set("portNumber", p.portNumber);
  return o;
}

ClockIdentity toClockIdentity(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a clock identity string");
  const auto id = parseClockIdentity(v.As<Napi::String>().Utf8Value());
  if (!id) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": '" + v.As<Napi::String>().Utf8Value() +
                                            "' is not a clock identity (0x + 16 hex digits, or xxxxxx.xxxx.xxxxxx)");
  }
  return *id;
}

PortIdentity toPortIdentity(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be { clockIdentity, portNumber }");
  const Napi::Object o = v.As<Napi::Object>();
  return {toClockIdentity(o.Get("clockIdentity"), what), static_cast<std::uint16_t>(optionalInt(o, "portNumber", 0))};
}

PtpTimestamp toTimestamp(const Napi::Value& v) {
  PtpTimestamp t;
  if (!v.IsObject()) return t;
  const Napi::Object o = v.As<Napi::Object>();
  t.seconds = static_cast<std::uint64_t>(optionalInt(o, "seconds", 0)) & 0xFFFF'FFFF'FFFFull;
  t.nanoseconds = static_cast<std::uint32_t>(optionalInt(o, "nanoseconds", 0));
  return t;
}

const char* kTypeNames[] = {"sync", "delay-req", "pdelay-req", "pdelay-resp", "follow-up", "delay-resp",
                            "pdelay-resp-follow-up", "announce", "signaling", "management"};
const PtpMessageType kTypes[] = {PtpMessageType::kSync,       PtpMessageType::kDelayReq,  PtpMessageType::kPdelayReq,
                                 PtpMessageType::kPdelayResp, PtpMessageType::kFollowUp,  PtpMessageType::kDelayResp,
                                 PtpMessageType::kPdelayRespFollowUp, PtpMessageType::kAnnounce, PtpMessageType::kSignaling,
                                 PtpMessageType::kManagement};

PtpMessageType toMessageType(const Napi::Value& v) {
  if (v.IsNumber()) {
    const int n = v.As<Napi::Number>().Int32Value();
    for (auto t : kTypes) {
      if (static_cast<int>(t) == n) return t;
    }
  } else if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    for (std::size_t i = 0; i < std::size(kTypeNames); ++i) {
      if (s == kTypeNames[i]) return kTypes[i];
    }
  }
  throw Napi::TypeError::New(v.Env(), "messageType must be one of sync, delay-req, pdelay-req, pdelay-resp, follow-up, "
                                      "delay-resp, pdelay-resp-follow-up, announce, signaling, management (or its number)");
}

Napi::Value parsePtpJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "parsePtp(data: Uint8Array)");
  Napi::Env env = info.Env();
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  PtpMessage m;
  const PtpParseError err = parsePtp(data.Data(), data.ByteLength(), m);
  Napi::Object o = Napi::Object::New(env);
  if (err != PtpParseError::kNone) {
    o.Set("error", toString(err));
    o.Set("version", ptpVersionOf(data.Data(), data.ByteLength()));
    return o;
  }
  const PtpHeader& h = m.header;
  o.Set("messageType", messageTypeName(h.messageType));
  o.Set("messageTypeValue", static_cast<int>(h.messageType));
  o.Set("transportSpecific", h.transportSpecific);
  o.Set("version", h.versionPtp);
  o.Set("minorVersion", h.minorVersionPtp);
  o.Set("messageLength", h.messageLength);
  o.Set("domain", h.domainNumber);
  o.Set("minorSdoId", h.minorSdoId);
  o.Set("flags", h.flags);
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("alternateMaster", (h.flags & ptp_flags::kAlternateMaster) != 0);
  flags.Set("twoStep", h.twoStep());
  flags.Set("unicast", h.unicast());
  flags.Set("profileSpecific1", (h.flags & ptp_flags::kProfileSpecific1) != 0);
  flags.Set("profileSpecific2", (h.flags & ptp_flags::kProfileSpecific2) != 0);
  flags.Set("leap61", (h.flags & ptp_flags::kLeap61) != 0);
  flags.Set("leap59", (h.flags & ptp_flags::kLeap59) != 0);
  flags.Set("currentUtcOffsetValid", (h.flags & ptp_flags::kCurrentUtcOffsetValid) != 0);
  flags.Set("ptpTimescale", (h.flags & ptp_flags::kPtpTimescale) != 0);
  flags.Set("timeTraceable", (h.flags & ptp_flags::kTimeTraceable) != 0);
  flags.Set("frequencyTraceable", (h.flags & ptp_flags::kFrequencyTraceable) != 0);
  o.Set("flagBits", flags);
  o.Set("correction", Napi::BigInt::New(env, static_cast<std::int64_t>(h.correctionField)));
  o.Set("messageTypeSpecific", static_cast<double>(h.messageTypeSpecific));
  o.Set("sourcePortIdentity", portIdentityToJs(env, h.sourcePortIdentity));
  o.Set("sequenceId", h.sequenceId);
  o.Set("control", h.controlField);
  o.Set("logMessageInterval", h.logMessageInterval);
  switch (h.messageType) {
    case PtpMessageType::kSync:
    case PtpMessageType::kDelayReq:
    case PtpMessageType::kPdelayReq:
      o.Set("originTimestamp", timestampToJs(env, m.timestamp));
      break;
    case PtpMessageType::kFollowUp:
      o.Set("preciseOriginTimestamp", timestampToJs(env, m.timestamp));
      break;
    case PtpMessageType::kDelayResp:
      o.Set("receiveTimestamp", timestampToJs(env, m.timestamp));
      o.Set("requestingPortIdentity", portIdentityToJs(env, m.portIdentity));
      break;
    case PtpMessageType::kPdelayResp:
      o.Set("requestReceiptTimestamp", timestampToJs(env, m.timestamp));
      o.Set("requestingPortIdentity", portIdentityToJs(env, m.portIdentity));
      break;
    case PtpMessageType::kPdelayRespFollowUp:
      o.Set("responseOriginTimestamp", timestampToJs(env, m.timestamp));
      o.Set("requestingPortIdentity", portIdentityToJs(env, m.portIdentity));
      break;
    case PtpMessageType::kAnnounce: {
      o.Set("originTimestamp", timestampToJs(env, m.timestamp));
      const PtpAnnounceBody& a = m.announce;
      Napi::Object an = Napi::Object::New(env);
      an.Set("currentUtcOffset", a.currentUtcOffset);
      an.Set("grandmasterPriority1", a.grandmasterPriority1);
      an.Set("grandmasterClockClass", a.grandmasterClockQuality.clockClass);
      an.Set("grandmasterClockAccuracy", a.grandmasterClockQuality.clockAccuracy);
      an.Set("grandmasterClockVariance", a.grandmasterClockQuality.offsetScaledLogVariance);
      an.Set("grandmasterPriority2", a.grandmasterPriority2);
      an.Set("grandmasterIdentity", formatHex(a.grandmasterIdentity));
      an.Set("stepsRemoved", a.stepsRemoved);
      an.Set("timeSource", a.timeSource);
      o.Set("announce", an);
      break;
    }
    case PtpMessageType::kSignaling:
      o.Set("targetPortIdentity", portIdentityToJs(env, m.portIdentity));
      break;
    case PtpMessageType::kManagement: {
      o.Set("targetPortIdentity", portIdentityToJs(env, m.portIdentity));
      Napi::Object mg = Napi::Object::New(env);
      mg.Set("startingBoundaryHops", m.management.startingBoundaryHops);
      mg.Set("boundaryHops", m.management.boundaryHops);
      mg.Set("actionField", m.management.actionField);
      o.Set("management", mg);
      break;
    }
  }
  o.Set("tlvs", Napi::Buffer<std::uint8_t>::Copy(env, m.tlvs, m.tlvLength));
  o.Set("tlvCount", static_cast<double>(m.tlvCount));
  return o;
}

// serializePtp(message): the inverse of parsePtp (the same field names; absent = 0/default).
Napi::Value serializePtpJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "serializePtp(message: object)");
  const Napi::Object o = info[0].As<Napi::Object>();
  PtpMessage m;
  PtpHeader& h = m.header;
  h.messageType = toMessageType(o.Get("messageType"));
  h.transportSpecific = static_cast<std::uint8_t>(optionalInt(o, "transportSpecific", 0) & 0x0F);
  h.versionPtp = static_cast<std::uint8_t>(optionalInt(o, "version", 2) & 0x0F);
  h.minorVersionPtp = static_cast<std::uint8_t>(optionalInt(o, "minorVersion", 0) & 0x0F);
  h.domainNumber = static_cast<std::uint8_t>(optionalInt(o, "domain", 0));
  h.minorSdoId = static_cast<std::uint8_t>(optionalInt(o, "minorSdoId", 0));
  h.flags = static_cast<std::uint16_t>(optionalInt(o, "flags", 0));
  if (o.Has("correction") && !o.Get("correction").IsUndefined()) h.correctionField = toInt64(o.Get("correction"), "correction");
  h.messageTypeSpecific = static_cast<std::uint32_t>(optionalInt(o, "messageTypeSpecific", 0));
  if (o.Has("sourcePortIdentity")) h.sourcePortIdentity = toPortIdentity(o.Get("sourcePortIdentity"), "sourcePortIdentity");
  h.sequenceId = static_cast<std::uint16_t>(optionalInt(o, "sequenceId", 0));
  h.controlField = static_cast<std::uint8_t>(optionalInt(o, "control", 0));
  h.logMessageInterval = static_cast<std::int8_t>(optionalInt(o, "logMessageInterval", 0));
  for (const char* key : {"originTimestamp", "preciseOriginTimestamp", "receiveTimestamp", "requestReceiptTimestamp",
                          "responseOriginTimestamp"}) {
    if (o.Has(key)) m.timestamp = toTimestamp(o.Get(key));
  }
  for (const char* key : {"requestingPortIdentity", "targetPortIdentity"}) {
    if (o.Has(key)) m.portIdentity = toPortIdentity(o.Get(key), key);
  }
  if (o.Has("announce") && o.Get("announce").IsObject()) {
    const Napi::Object a = o.Get("announce").As<Napi::Object>();
    m.announce.currentUtcOffset = static_cast<std::int16_t>(optionalInt(a, "currentUtcOffset", 0));
    m.announce.grandmasterPriority1 = static_cast<std::uint8_t>(optionalInt(a, "grandmasterPriority1", 128));
    m.announce.grandmasterClockQuality.clockClass = static_cast<std::uint8_t>(optionalInt(a, "grandmasterClockClass", 248));
    m.announce.grandmasterClockQuality.clockAccuracy = static_cast<std::uint8_t>(optionalInt(a, "grandmasterClockAccuracy", 0xFE));
    m.announce.grandmasterClockQuality.offsetScaledLogVariance =
        static_cast<std::uint16_t>(optionalInt(a, "grandmasterClockVariance", 0xFFFF));
    m.announce.grandmasterPriority2 = static_cast<std::uint8_t>(optionalInt(a, "grandmasterPriority2", 128));
    if (a.Has("grandmasterIdentity")) m.announce.grandmasterIdentity = toClockIdentity(a.Get("grandmasterIdentity"), "grandmasterIdentity");
    m.announce.stepsRemoved = static_cast<std::uint16_t>(optionalInt(a, "stepsRemoved", 0));
    m.announce.timeSource = static_cast<std::uint8_t>(optionalInt(a, "timeSource", 0xA0));
  }
  if (o.Has("management") && o.Get("management").IsObject()) {
    const Napi::Object g = o.Get("management").As<Napi::Object>();
    m.management.startingBoundaryHops = static_cast<std::uint8_t>(optionalInt(g, "startingBoundaryHops", 0));
    m.management.boundaryHops = static_cast<std::uint8_t>(optionalInt(g, "boundaryHops", 0));
    m.management.actionField = static_cast<std::uint8_t>(optionalInt(g, "actionField", 0));
  }
  Napi::Uint8Array tlvs;
  if (o.Has("tlvs") && o.Get("tlvs").IsTypedArray()) {
    tlvs = o.Get("tlvs").As<Napi::Uint8Array>();
    m.tlvs = tlvs.Data();
    m.tlvLength = tlvs.ByteLength();
  }
  std::uint8_t out[65536];
  const std::size_t n = writePtp(m, out, sizeof out);
  if (n == 0) throw Napi::RangeError::New(info.Env(), "serializePtp: message longer than 65535 bytes");
  return Napi::Buffer<std::uint8_t>::Copy(info.Env(), out, n);
}

PtpServoConfig toServoConfig(const Napi::Value& v) {
  PtpServoConfig c;
  if (!v.IsObject()) return c;
  const Napi::Object o = v.As<Napi::Object>();
  c.stepThresholdNs = optionalInt(o, "stepThresholdNs", c.stepThresholdNs);
  c.stepConfirmSamples = static_cast<int>(optionalInt(o, "stepConfirmSamples", c.stepConfirmSamples));
  c.acquisitionSamples = static_cast<int>(optionalInt(o, "acquisitionSamples", c.acquisitionSamples));
  c.lockThresholdNs = optionalInt(o, "lockThresholdNs", c.lockThresholdNs);
  c.lockSamples = static_cast<int>(optionalInt(o, "lockSamples", c.lockSamples));
  c.lockOutliers = static_cast<int>(optionalInt(o, "lockOutliers", c.lockOutliers));
  c.unlockThresholdNs = optionalInt(o, "unlockThresholdNs", c.unlockThresholdNs);
  c.unlockSpikes = static_cast<int>(optionalInt(o, "unlockSpikes", c.unlockSpikes));
  c.unlockWindowSamples = static_cast<int>(optionalInt(o, "unlockWindowSamples", c.unlockWindowSamples));
  c.stableRmsNs = optionalInt(o, "stableRmsNs", c.stableRmsNs);
  c.stableSamples = static_cast<int>(optionalInt(o, "stableSamples", c.stableSamples));
  c.sampleTimeoutNs = optionalInt(o, "sampleTimeoutNs", c.sampleTimeoutNs);
  if (o.Has("kp") && o.Get("kp").IsNumber()) c.kp = o.Get("kp").As<Napi::Number>().DoubleValue();
  if (o.Has("ki") && o.Get("ki").IsNumber()) c.ki = o.Get("ki").As<Napi::Number>().DoubleValue();
  return c;
}

PtpSlaveConfig toSlaveConfig(const Napi::Object& o) {
  PtpSlaveConfig c;
  const std::int64_t domain = optionalInt(o, "domain", 0);
  if (domain < 0 || domain > 127) {
    throw Napi::RangeError::New(o.Env(), "domain must be 0-127 (IEEE 1588-2008 7.1), got " + std::to_string(domain));
  }
  c.port.domainNumber = static_cast<std::uint8_t>(domain);
  if (o.Has("clockIdentity") && !o.Get("clockIdentity").IsUndefined()) c.port.clockIdentity = toClockIdentity(o.Get("clockIdentity"), "clockIdentity");
  c.port.announceReceiptTimeout = static_cast<int>(optionalInt(o, "announceReceiptTimeout", 3));
  c.port.logMinDelayReqInterval = static_cast<std::int8_t>(optionalInt(o, "logMinDelayReqInterval", -3));
  c.port.seed = static_cast<std::uint64_t>(optionalInt(o, "seed", 1));
  c.eventPort = static_cast<std::uint16_t>(optionalInt(o, "eventPort", kPtpEventPort));
  c.generalPort = static_cast<std::uint16_t>(optionalInt(o, "generalPort", kPtpGeneralPort));
  c.eventDscp = static_cast<int>(optionalInt(o, "eventDscp", 46));
  c.generalDscp = static_cast<int>(optionalInt(o, "generalDscp", 34));
  const std::string destination = optionalString(o, "destination", "");
  if (!destination.empty()) c.destination = toAddress(Napi::String::New(o.Env(), destination), "destination");
  const std::string bind = optionalString(o, "bindAddress", "");
  if (!bind.empty()) c.bindAddress = toAddress(Napi::String::New(o.Env(), bind), "bindAddress");
  c.interfaceName = optionalString(o, "interface", "");
  const std::string stamp = optionalString(o, "transmitStamp", "");
  if (stamp == "before") c.transmitStamp = PtpTransmitStamp::kClockBeforeSend;
  else if (stamp == "after") c.transmitStamp = PtpTransmitStamp::kClockAfterSend;
  else if (stamp == "loopback") c.transmitStamp = PtpTransmitStamp::kMulticastLoopback;
  else if (stamp == "kernel") c.transmitStamp = PtpTransmitStamp::kKernel;
  else if (!stamp.empty()) throw Napi::TypeError::New(o.Env(), "transmitStamp must be 'kernel', 'loopback', 'before' or 'after', got '" + stamp + "'");
  if (o.Has("servo")) c.servo = toServoConfig(o.Get("servo"));
  return c;
}

Napi::Object datasetToJs(Napi::Env env, const PtpMasterDataset& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("grandmasterIdentity", formatPtp4l(d.grandmasterIdentity));
  o.Set("priority1", d.priority1);
  o.Set("clockClass", d.quality.clockClass);
  o.Set("clockAccuracy", d.quality.clockAccuracy);
  o.Set("offsetScaledLogVariance", d.quality.offsetScaledLogVariance);
  o.Set("priority2", d.priority2);
  o.Set("stepsRemoved", d.stepsRemoved);
  o.Set("portIdentity", formatPtp4l(d.sender));
  return o;
}

// new PtpSlave({ network, host, ...config }) on the virtual network, or
// new PtpSlave({ interface, ...config }) on real UDP sockets (CLOCK_MONOTONIC time).
class JsPtpSlave : public Napi::ObjectWrap<JsPtpSlave> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "PtpSlave",
                       {InstanceMethod("poll", &JsPtpSlave::poll), InstanceMethod("now", &JsPtpSlave::now),
                        InstanceMethod("status", &JsPtpSlave::status), InstanceMethod("records", &JsPtpSlave::records),
                        InstanceMethod("ptpTimeAt", &JsPtpSlave::ptpTimeAt),
                        InstanceMethod("systemClockOffset", &JsPtpSlave::systemClockOffset),
                        InstanceMethod("mediaClock", &JsPtpSlave::mediaClock), InstanceMethod("close", &JsPtpSlave::close)});
  }

  explicit JsPtpSlave(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsPtpSlave>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      throw Napi::TypeError::New(env, "PtpSlave({ network, host } | { interface }, ...options)");
    }
    const Napi::Object o = info[0].As<Napi::Object>();
    const PtpSlaveConfig config = toSlaveConfig(o);
    try {
      if (o.Has("network") && !o.Get("network").IsUndefined()) {
        JsVirtualNetwork* network = JsVirtualNetwork::from(o.Get("network"));
        networkRef_ = Napi::Persistent(o.Get("network").As<Napi::Object>());
        Transport& host = network->network().host(toAddress(o.Get("host"), "host"));
        slave_ = std::make_unique<PtpSlave>(host, config);
      } else {
        if (config.interfaceName.empty()) throw Napi::TypeError::New(env, "PtpSlave needs { network, host } or { interface }");
        PtpSlaveConfig real = config;
        if (optionalString(o, "transmitStamp", "").empty()) real.transmitStamp = PtpTransmitStamp::kKernel;
        realClock_ = std::make_unique<RealClock>();
        udp_ = std::make_unique<UdpTransport>(*realClock_, config.interfaceName);
        slave_ = std::make_unique<PtpSlave>(*udp_, real);
      }
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("PtpSlave: ") + e.what());
    }
  }

  PtpSlave& slave(Napi::Env env) {
    if (!slave_) throw Napi::Error::New(env, "PtpSlave is closed");
    return *slave_;
  }

 private:
  Napi::Value poll(const Napi::CallbackInfo& info) {
    const Nanoseconds next = slave(info.Env()).poll();
    if (next == std::numeric_limits<Nanoseconds>::max()) return Napi::Number::New(info.Env(), INFINITY);
    return Napi::Number::New(info.Env(), static_cast<double>(next));
  }
  Napi::Value now(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(slave(info.Env()).clock().now()));
  }

  Napi::Value status(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PtpSlave& s = slave(env);
    const PtpSlaveStatus st = s.status();
    Napi::Object o = Napi::Object::New(env);
    o.Set("clockIdentity", formatPtp4l(s.port().config().clockIdentity));
    o.Set("portState", toString(st.portState));
    o.Set("servoState", toString(st.servoState));
    o.Set("servoShort", shortName(st.servoState));
    o.Set("locked", isLocked(st.servoState));
    o.Set("grandmaster", st.hasParent ? Napi::Value(Napi::String::New(env, formatPtp4l(st.grandmasterIdentity))) : env.Null());
    o.Set("parent", st.hasParent ? Napi::Value(datasetToJs(env, st.parent)) : env.Null());
    o.Set("hasOffset", st.hasOffset);
    o.Set("offsetNs", static_cast<double>(st.offset));
    o.Set("pathDelayNs", static_cast<double>(st.pathDelay));
    o.Set("frequencyPpb", st.frequencyPpb);
    const PtpServo& servo = s.synchronizer().servo();
    o.Set("measurementNoiseNs", servo.measurementNoiseNs());
    o.Set("lockWindowNs", servo.lockWindowNs());
    o.Set("gainScale", servo.gainScale());
    const Nanoseconds since = s.synchronizer().servo().lockedSince();
    o.Set("lockedSince", since < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, static_cast<double>(since))));
    o.Set("logMinDelayReqInterval", s.port().logMinDelayReqInterval());
    o.Set("transmitStamp", toString(s.config().transmitStamp));

    const PtpPortCounters& pc = s.port().counters();
    Napi::Object c = Napi::Object::New(env);
    c.Set("datagrams", static_cast<double>(pc.datagrams));
    Napi::Object messages = Napi::Object::New(env);
    for (auto t : kTypes) messages.Set(toString(t), static_cast<double>(pc.messages[static_cast<std::size_t>(t)]));
    c.Set("messages", messages);
    Napi::Object malformed = Napi::Object::New(env);
    for (std::size_t r = 1; r < pc.malformed.size(); ++r) malformed.Set(toString(static_cast<PtpParseError>(r)), static_cast<double>(pc.malformed[r]));
    c.Set("malformed", malformed);
    c.Set("ptpv1", static_cast<double>(pc.ptpv1()));
    Napi::Object dropped = Napi::Object::New(env);
    for (std::size_t r = 0; r < pc.dropped.size(); ++r) dropped.Set(toString(static_cast<PtpPortDrop>(r)), static_cast<double>(pc.dropped[r]));
    c.Set("dropped", dropped);
    c.Set("syncSamples", static_cast<double>(pc.syncSamples));
    c.Set("delaySamples", static_cast<double>(pc.delaySamples));
    c.Set("syncWithoutFollowUp", static_cast<double>(pc.syncWithoutFollowUp));
    c.Set("delayRespMissing", static_cast<double>(pc.delayRespMissing));
    c.Set("delayReqSent", static_cast<double>(pc.delayReqSent));
    c.Set("announceTimeouts", static_cast<double>(pc.announceTimeouts));
    c.Set("parentChanges", static_cast<double>(pc.parentChanges));
    c.Set("grandmasterChanges", static_cast<double>(pc.grandmasterChanges));
    const PtpServoCounters& sc = s.synchronizer().servo().counters();
    c.Set("servoSamples", static_cast<double>(sc.samples));
    c.Set("steps", static_cast<double>(sc.steps));
    c.Set("locks", static_cast<double>(sc.locks));
    c.Set("lockLosses", static_cast<double>(sc.lockLosses));
    c.Set("spikes", static_cast<double>(sc.spikes));
    c.Set("sampleTimeouts", static_cast<double>(sc.sampleTimeouts));
    const PathDelayCounters& dc = s.synchronizer().delayFilter().counters();
    c.Set("delayAccepted", static_cast<double>(dc.accepted));
    c.Set("delayRejected", static_cast<double>(dc.rejected));
    c.Set("sendFailures", static_cast<double>(s.sendFailures()));
    c.Set("loopbackTransmitStamps", static_cast<double>(s.loopbackTransmitStamps()));
    c.Set("transmitStampFallbacks", static_cast<double>(s.transmitStampFallbacks()));
    o.Set("counters", c);

    const ForeignMasterTable& fm = s.port().foreignMasters();
    Napi::Array masters = Napi::Array::New(env, fm.size());
    for (std::size_t i = 0; i < fm.size(); ++i) masters.Set(static_cast<std::uint32_t>(i), datasetToJs(env, fm.at(i).dataset));
    o.Set("foreignMasters", masters);
    return o;
  }

  Napi::Value records(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PtpSlave& s = slave(env);
    Napi::Array a = Napi::Array::New(env);
    PtpOffsetRecord r;
    for (std::uint32_t i = 0; s.synchronizer().nextRecord(r); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("at", static_cast<double>(r.at));
      o.Set("offsetNs", static_cast<double>(r.offset));
      o.Set("pathDelayNs", static_cast<double>(r.pathDelay));
      o.Set("frequencyPpb", r.frequencyPpb);
      o.Set("state", toString(r.state));
      o.Set("stateShort", shortName(r.state));
      o.Set("locked", isLocked(r.state));
      a.Set(i, o);
    }
    return a;
  }

  Napi::Value ptpTimeAt(const Napi::CallbackInfo& info) {
    const Nanoseconds local = toInt64(info[0], "localNs");
    return Napi::BigInt::New(info.Env(), static_cast<std::int64_t>(slave(info.Env()).mapping().ptpTimeAt(local)));
  }

  // PTP time now minus the system's CLOCK_REALTIME now, read back to back (ns). Where the
  // grandmaster's clock is this host's system clock (ptp4l with software time stamping in
  // a network namespace of this host) it is our true error; elsewhere, how far the system
  // clock is from PTP. Real sockets only: virtual time has no system clock.
  Napi::Value systemClockOffset(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PtpSlave& s = slave(env);
    if (!realClock_) throw Napi::Error::New(env, "systemClockOffset: only for a PtpSlave on an interface");
    // The narrowest of a few CLOCK_REALTIME brackets around the local reading.
    auto realtime = [] {
      timespec ts{};
      clock_gettime(CLOCK_REALTIME, &ts);
      return static_cast<Nanoseconds>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
    };
    Nanoseconds best = std::numeric_limits<Nanoseconds>::max();
    Nanoseconds offset = 0;
    for (int i = 0; i < 8; ++i) {
      const Nanoseconds before = realtime();
      const Nanoseconds local = realClock_->now();
      const Nanoseconds after = realtime();
      if (after < before || after - before >= best) continue;
      best = after - before;
      offset = s.mapping().ptpTimeAt(local) - (before + (after - before) / 2);
    }
    return Napi::Number::New(env, static_cast<double>(offset));
  }

  Napi::Value mediaClock(const Napi::CallbackInfo& info) {
    slave(info.Env());
    return gMediaClockConstructor->New({Value(), info.Length() > 0 ? info[0] : info.Env().Undefined(),
                                        info.Length() > 1 ? info[1] : info.Env().Undefined()});
  }

  void close(const Napi::CallbackInfo&) { slave_.reset(); }

  Napi::ObjectReference networkRef_;
  std::unique_ptr<RealClock> realClock_;
  std::unique_ptr<UdpTransport> udp_;
  std::unique_ptr<PtpSlave> slave_;
};

// slave.mediaClock(rate, mediaclkOffset?): the AES67 media clock on the slave's PTP time.
class JsPtpMediaClock : public Napi::ObjectWrap<JsPtpMediaClock> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "PtpMediaClock",
                       {InstanceMethod("sampleAt", &JsPtpMediaClock::sampleAt),
                        InstanceMethod("localTimeOf", &JsPtpMediaClock::localTimeOf),
                        InstanceMethod("rtpTimestampAt", &JsPtpMediaClock::rtpTimestampAt),
                        InstanceMethod("driftPpm", &JsPtpMediaClock::driftPpm),
                        InstanceMethod("rateScalar", &JsPtpMediaClock::rateScalar)});
  }
  explicit JsPtpMediaClock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsPtpMediaClock>(info) {
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(gSlaveConstructor->Value())) {
      throw Napi::TypeError::New(info.Env(), "media clocks are made by PtpSlave.mediaClock(rate, mediaclkOffset?)");
    }
    slaveRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    slave_ = Napi::ObjectWrap<JsPtpSlave>::Unwrap(info[0].As<Napi::Object>());
    const std::int64_t rate = info.Length() > 1 && !info[1].IsUndefined() ? toInt64(info[1], "rate") : 48000;
    const std::int64_t offset = info.Length() > 2 && !info[2].IsUndefined() ? toInt64(info[2], "mediaclkOffset") : 0;
    if (rate <= 0 || rate > 768000) throw Napi::RangeError::New(info.Env(), "rate must be 1-768000 Hz");
    if (offset < 0 || offset > 0xFFFFFFFFll) throw Napi::RangeError::New(info.Env(), "mediaclkOffset must be 0-4294967295");
    clock_ = std::make_unique<PtpMediaClock>(slave_->slave(info.Env()).mapping(), static_cast<std::uint32_t>(rate),
                                             static_cast<std::uint32_t>(offset));
  }

 private:
  PtpMediaClock& clock(Napi::Env env) {
    slave_->slave(env);  // throws once the slave is closed: the mapping is gone
    return *clock_;
  }
  Napi::Value sampleAt(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(clock(info.Env()).sampleAt(toInt64(info[0], "localNs"))));
  }
  Napi::Value localTimeOf(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(clock(info.Env()).localTimeOf(toInt64(info[0], "sample"))));
  }
  Napi::Value rtpTimestampAt(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(clock(info.Env()).rtpTimestampAt(toInt64(info[0], "localNs"))));
  }
  Napi::Value driftPpm(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), clock(info.Env()).driftPpm()); }
  Napi::Value rateScalar(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), clock(info.Env()).rateScalar()); }

  Napi::ObjectReference slaveRef_;
  JsPtpSlave* slave_ = nullptr;
  std::unique_ptr<PtpMediaClock> clock_;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("parsePtp", Napi::Function::New(env, parsePtpJs, "parsePtp"));
  exports.Set("serializePtp", Napi::Function::New(env, serializePtpJs, "serializePtp"));
  Napi::Function slave = JsPtpSlave::define(env);
  gSlaveConstructor = new Napi::FunctionReference(Napi::Persistent(slave));
  exports.Set("PtpSlave", slave);
  Napi::Function media = JsPtpMediaClock::define(env);
  gMediaClockConstructor = new Napi::FunctionReference(Napi::Persistent(media));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
