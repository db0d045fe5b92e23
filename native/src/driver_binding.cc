// driver/core and driver/host for TypeScript: the emulated DUT (receivers, playout, device,
// HAL host emulator with the loopback client, transmitters) on a VirtualNetwork host,
// stepped in virtual time by the caller, with its properties, counters and stage stamps.
#include <napi.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "driver/host/emulated_dut.hpp"
#include "driver/host/io_cycle_benchmark.hpp"
#include "engine/base/media_clock.hpp"
#include "engine/ptp/ptp_types.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/device_stamp_fold.hpp"
#include "native/src/native_actor.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

// The DUT's stand-in media clock without PTP: PTP time at local time t is
// epoch + t x (1 + ppm/1e6), i.e. perfectly locked at local 0 and drifting from there.
// (LocalMediaClock(rate, -epoch, ppm) applied the rate error from PTP time 0, so with a
// field-like epoch (2026) the device started decades off; the runner had to use epoch 0.)
// The epoch stays in integers (a double has 256 ns steps at 2026's PTP time); only the
// drift term t x ppm, small, is floating point.
class StandInMediaClock final : public MediaClock {
 public:
  StandInMediaClock(std::uint32_t rate, Nanoseconds epoch, double ppm) : rate_(rate), epoch_(epoch), ppm_(ppm) {}
  std::uint32_t sampleRate() const override { return rate_; }
  SampleTime sampleAt(Nanoseconds local) const override {
    const auto drift = static_cast<Nanoseconds>(std::floor(static_cast<long double>(local) * ppm_ / 1e6L));
    return nanosToSamples(epoch_ + local + drift, rate_);
  }
  Nanoseconds localTimeOf(SampleTime sample) const override {
    // The first local nanosecond whose PTP time reaches the sample's start.
    const Nanoseconds ptp = samplesToNanos(sample, rate_);
    auto local = static_cast<Nanoseconds>(std::ceil(static_cast<long double>(ptp - epoch_) / (1.0L + ppm_ / 1e6L)));
    while (local > std::numeric_limits<Nanoseconds>::min() && sampleAt(local - 1) >= sample) --local;
    while (sampleAt(local) < sample) ++local;
    return local;
  }

 private:
  std::uint32_t rate_;
  Nanoseconds epoch_;
  double ppm_;
};

PcmEncoding encodingOf(const Napi::Value& v, const std::string& where) {
  const auto e = v.IsString() ? parsePcmEncoding(v.As<Napi::String>().Utf8Value()) : std::nullopt;
  if (!e) throw Napi::TypeError::New(v.Env(), where + ".encoding must be 'L16', 'L24' or 'L32'");
  return *e;
}

std::vector<std::uint32_t> uintArray(const Napi::Value& v, const std::string& where) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), where + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < a.Length(); ++i) {
    const std::int64_t x = toInt64(a.Get(i), where.c_str());
    if (x < 0) throw Napi::RangeError::New(v.Env(), where + " holds a negative channel");
    out.push_back(static_cast<std::uint32_t>(x));
  }
  return out;
}

RtpStreamDescription streamOf(const Napi::Object& o, const std::string& where) {
  RtpStreamDescription s;
  s.name = optionalString(o, "name", "");
  s.destination = toEndpoint(o.Get("destination"), (where + ".destination").c_str());
  if (o.Has("source") && o.Get("source").IsString()) s.source = toAddress(o.Get("source"), (where + ".source").c_str());
  s.format.encoding = encodingOf(o.Get("encoding"), where);
  s.format.channels = static_cast<std::uint32_t>(optionalInt(o, "channels", 2));
  s.format.sampleRate = static_cast<std::uint32_t>(optionalInt(o, "sampleRate", 48000));
  s.format.payloadType = static_cast<std::uint8_t>(optionalInt(o, "payloadType", 96));
  s.format.mediaclkOffset = static_cast<std::uint32_t>(optionalInt(o, "mediaclkOffset", 0));
  s.framesPerPacket = static_cast<std::uint32_t>(optionalInt(o, "framesPerPacket", 48));
  s.ttl = static_cast<int>(optionalInt(o, "ttl", 32));
  if (o.Has("channelLabels") && o.Get("channelLabels").IsArray()) {
    Napi::Array a = o.Get("channelLabels").As<Napi::Array>();
    for (std::uint32_t i = 0; i < a.Length(); ++i) s.channelLabels.push_back(a.Get(i).ToString().Utf8Value());
  }
  return s;
}

// A receive entry: by SDP text ({ sdp }), by SAP session name ({ sapName }), or field by field.
DutReceiveStream receiveOf(const Napi::Object& s, const std::string& where) {
  DutReceiveStream r;
  r.id = optionalString(s, "id", "");
  r.sdp = optionalString(s, "sdp", "");
  r.sapSessionName = optionalString(s, "sapName", "");
  r.rtspUrl = optionalString(s, "rtspUrl", "");
  r.timing = optionalString(s, "timing", "");
  if (!r.timing.empty() && r.timing != "media-clock" && r.timing != "sender") {
    throw Napi::TypeError::New(s.Env(), where + ".timing must be 'media-clock' or 'sender'");
  }
  if (s.Has("deviceChannels") && !s.Get("deviceChannels").IsUndefined()) {
    r.deviceChannels = uintArray(s.Get("deviceChannels"), where + ".deviceChannels");
  } else if (r.sdp.empty() && r.sapSessionName.empty() && r.rtspUrl.empty()) {
    throw Napi::TypeError::New(s.Env(), where + ".deviceChannels must be an array of numbers");
  }
  if (r.sdp.empty() && r.sapSessionName.empty() && r.rtspUrl.empty()) r.stream = streamOf(s, where);
  return r;
}

DutTransmitStream transmitOf(const Napi::Object& s, const std::string& where) {
  DutTransmitStream t{streamOf(s, where), uintArray(s.Get("deviceChannels"), where + ".deviceChannels")};
  t.ssrc = static_cast<std::uint32_t>(optionalInt(s, "ssrc", t.ssrc));
  t.dscp = static_cast<int>(optionalInt(s, "dscp", t.dscp));
  t.id = optionalString(s, "id", "");
  t.announce = s.Has("announce") && s.Get("announce").ToBoolean().Value();
  t.direction = optionalString(s, "direction", t.direction);
  t.sendOffsetNs = optionalInt(s, "sendOffsetNs", 0);
  if (t.sendOffsetNs < 0) throw Napi::RangeError::New(s.Env(), where + ".sendOffsetNs must be >= 0 (a packet cannot be sent before its audio exists)");
  return t;
}

double numberOr(const Napi::Object& o, const char* key, double fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().DoubleValue() : fallback;
}

// ptp: { domain, clockIdentity, announceReceiptTimeout, logMinDelayReqInterval, seed,
// transmitStamp, resyncThresholdNs, servo: {...} } (native/ptp.ts's PtpSlaveOptions names).
DutPtpConfig ptpOf(const Napi::Object& o) {
  DutPtpConfig p;
  p.enabled = !o.Has("enabled") || o.Get("enabled").ToBoolean().Value();
  const std::int64_t domain = optionalInt(o, "domain", 0);
  if (domain < 0 || domain > 127) {
    throw Napi::RangeError::New(o.Env(), "ptp.domain must be 0-127 (IEEE 1588-2008 7.1), got " + std::to_string(domain));
  }
  p.slave.port.domainNumber = static_cast<std::uint8_t>(domain);
  const std::string id = optionalString(o, "clockIdentity", "");
  if (!id.empty()) {
    const auto parsed = parseClockIdentity(id);
    if (!parsed) throw Napi::TypeError::New(o.Env(), "ptp.clockIdentity '" + id + "' is not a clock identity");
    p.slave.port.clockIdentity = *parsed;
  }
  p.slave.port.announceReceiptTimeout = static_cast<int>(optionalInt(o, "announceReceiptTimeout", 3));
  p.slave.port.logMinDelayReqInterval = static_cast<std::int8_t>(optionalInt(o, "logMinDelayReqInterval", -3));
  p.slave.port.seed = static_cast<std::uint64_t>(optionalInt(o, "seed", 1));
  const std::string stamp = optionalString(o, "transmitStamp", "after");
  if (stamp == "before") p.slave.transmitStamp = PtpTransmitStamp::kClockBeforeSend;
  else if (stamp == "after") p.slave.transmitStamp = PtpTransmitStamp::kClockAfterSend;
  else throw Napi::TypeError::New(o.Env(), "ptp.transmitStamp must be 'before' or 'after' on the virtual network, got '" + stamp + "'");
  p.resyncThresholdNs = optionalInt(o, "resyncThresholdNs", 0);
  if (o.Has("servo") && o.Get("servo").IsObject()) {
    const Napi::Object v = o.Get("servo").As<Napi::Object>();
    PtpServoConfig& c = p.slave.servo;
    c.stepThresholdNs = optionalInt(v, "stepThresholdNs", c.stepThresholdNs);
    c.stepConfirmSamples = static_cast<int>(optionalInt(v, "stepConfirmSamples", c.stepConfirmSamples));
    c.acquisitionSamples = static_cast<int>(optionalInt(v, "acquisitionSamples", c.acquisitionSamples));
    c.lockThresholdNs = optionalInt(v, "lockThresholdNs", c.lockThresholdNs);
    c.lockSamples = static_cast<int>(optionalInt(v, "lockSamples", c.lockSamples));
    c.lockOutliers = static_cast<int>(optionalInt(v, "lockOutliers", c.lockOutliers));
    c.unlockThresholdNs = optionalInt(v, "unlockThresholdNs", c.unlockThresholdNs);
    c.unlockSpikes = static_cast<int>(optionalInt(v, "unlockSpikes", c.unlockSpikes));
    c.unlockWindowSamples = static_cast<int>(optionalInt(v, "unlockWindowSamples", c.unlockWindowSamples));
    c.stableRmsNs = optionalInt(v, "stableRmsNs", c.stableRmsNs);
    c.stableSamples = static_cast<int>(optionalInt(v, "stableSamples", c.stableSamples));
    c.sampleTimeoutNs = optionalInt(v, "sampleTimeoutNs", c.sampleTimeoutNs);
    c.kp = numberOr(v, "kp", c.kp);
    c.ki = numberOr(v, "ki", c.ki);
  }
  return p;
}

// sap: { listen, groups: ['a.b.c.d:port'], minimumTimeoutNs, assumedIntervalNs,
// announceGroup: 'a.b.c.d:port', announceIntervalNs, announceTtl }
DutSapConfig sapOf(const Napi::Object& o) {
  DutSapConfig s;
  s.listen = o.Has("listen") && o.Get("listen").ToBoolean().Value();
  if (o.Has("groups") && o.Get("groups").IsArray()) {
    Napi::Array a = o.Get("groups").As<Napi::Array>();
    s.listener.groups.clear();
    for (std::uint32_t i = 0; i < a.Length(); ++i) s.listener.groups.push_back(toEndpoint(a.Get(i), "sap.groups[]"));
  }
  s.listener.minimumTimeout = optionalInt(o, "minimumTimeoutNs", s.listener.minimumTimeout);
  s.listener.assumedInterval = optionalInt(o, "assumedIntervalNs", s.listener.assumedInterval);
  if (o.Has("announceGroup") && o.Get("announceGroup").IsString()) s.announcer.group = toEndpoint(o.Get("announceGroup"), "sap.announceGroup");
  s.announcer.interval = optionalInt(o, "announceIntervalNs", s.announcer.interval);
  s.announcer.ttl = static_cast<int>(optionalInt(o, "announceTtl", s.announcer.ttl));
  return s;
}

EmulatedDutConfig configOf(const Napi::Object& o) {
  EmulatedDutConfig c;
  if (o.Has("device") && o.Get("device").IsObject()) {
    const Napi::Object d = o.Get("device").As<Napi::Object>();
    c.device.name = optionalString(d, "name", c.device.name);
    c.device.uid = optionalString(d, "uid", c.device.uid);
    c.device.inputChannels = static_cast<std::uint32_t>(optionalInt(d, "inputChannels", c.device.inputChannels));
    c.device.outputChannels = static_cast<std::uint32_t>(optionalInt(d, "outputChannels", c.device.outputChannels));
    c.device.sampleRate = static_cast<std::uint32_t>(optionalInt(d, "sampleRate", c.device.sampleRate));
    c.device.zeroTimeStampPeriod = static_cast<std::uint32_t>(optionalInt(d, "zeroTimeStampPeriod", c.device.zeroTimeStampPeriod));
  }
  c.ioBufferFrames = static_cast<std::uint32_t>(optionalInt(o, "ioBufferFrames", c.ioBufferFrames));
  c.linkOffsetFrames = static_cast<std::uint32_t>(optionalInt(o, "linkOffsetFrames", c.linkOffsetFrames));
  c.ioWakeDelayMaxNs = optionalInt(o, "ioWakeDelayMaxNs", 0);
  if (c.ioWakeDelayMaxNs < 0) throw Napi::RangeError::New(o.Env(), "ioWakeDelayMaxNs must be >= 0");
  c.ioWakeSeed = static_cast<std::uint64_t>(optionalInt(o, "ioWakeSeed", 1));
  if (o.Has("reuseTransmitDue")) c.reuseTransmitDue = o.Get("reuseTransmitDue").ToBoolean().Value();
  c.cycleLogCapacity = static_cast<std::size_t>(optionalInt(o, "cycleLogCapacity", static_cast<std::int64_t>(c.cycleLogCapacity)));
  if (c.cycleLogCapacity < 1 || c.cycleLogCapacity > (1u << 24)) throw Napi::RangeError::New(o.Env(), "cycleLogCapacity must be 1 to 16777216");
  c.packetLogCapacity = static_cast<std::size_t>(optionalInt(o, "packetLogCapacity", static_cast<std::int64_t>(c.packetLogCapacity)));
  if (c.packetLogCapacity < 1 || c.packetLogCapacity > (1u << 24)) throw Napi::RangeError::New(o.Env(), "packetLogCapacity must be 1 to 16777216");
  auto streams = [&](const char* key, auto&& each) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) return;
    if (!o.Get(key).IsArray()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be an array of streams");
    Napi::Array a = o.Get(key).As<Napi::Array>();
    for (std::uint32_t i = 0; i < a.Length(); ++i) {
      const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
      if (!a.Get(i).IsObject()) throw Napi::TypeError::New(o.Env(), where + " must be an object");
      each(a.Get(i).As<Napi::Object>(), where);
    }
  };
  streams("receive", [&](const Napi::Object& s, const std::string& where) { c.receive.push_back(receiveOf(s, where)); });
  streams("transmit", [&](const Napi::Object& s, const std::string& where) { c.transmit.push_back(transmitOf(s, where)); });
  if (o.Has("ptp") && o.Get("ptp").IsObject()) c.ptp = ptpOf(o.Get("ptp").As<Napi::Object>());
  if (o.Has("sap") && o.Get("sap").IsObject()) c.sap = sapOf(o.Get("sap").As<Napi::Object>());
  if (o.Has("loopbackMap") && o.Get("loopbackMap").IsArray()) {
    Napi::Array a = o.Get("loopbackMap").As<Napi::Array>();
    for (std::uint32_t i = 0; i < a.Length(); ++i) c.loopbackMap.push_back(static_cast<std::int32_t>(toInt64(a.Get(i), "loopbackMap")));
  }
  return c;
}

double num(std::int64_t v) { return static_cast<double>(v); }
double num(std::uint64_t v) { return static_cast<double>(v); }

// new EmulatedDut(network, hostAddress, config)
class JsEmulatedDut : public Napi::ObjectWrap<JsEmulatedDut> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "EmulatedDut",
                       {InstanceMethod("start", &JsEmulatedDut::start), InstanceMethod("stop", &JsEmulatedDut::stop),
                        InstanceMethod("poll", &JsEmulatedDut::poll), InstanceMethod("properties", &JsEmulatedDut::properties),
                        InstanceMethod("counters", &JsEmulatedDut::counters),
                        InstanceMethod("timeline", &JsEmulatedDut::timeline),
                        InstanceMethod("cycleStamps", &JsEmulatedDut::cycleStamps),
                        InstanceMethod("packetStamps", &JsEmulatedDut::packetStamps),
                        InstanceMethod("ptpStatus", &JsEmulatedDut::ptpStatus),
                        InstanceMethod("txSdp", &JsEmulatedDut::txSdp),
                        InstanceMethod("streams", &JsEmulatedDut::streams),
                        InstanceMethod("sapSessions", &JsEmulatedDut::sapSessions),
                        InstanceMethod("addReceive", &JsEmulatedDut::addReceive),
                        InstanceMethod("addTransmit", &JsEmulatedDut::addTransmit),
                        InstanceMethod("removeStream", &JsEmulatedDut::removeStream),
                        InstanceMethod("mediaTimeAt", &JsEmulatedDut::mediaTimeAt),
                        InstanceMethod("ptpTimeAt", &JsEmulatedDut::ptpTimeAt),
                        InstanceMethod("provideSdp", &JsEmulatedDut::provideSdp),
                        InstanceMethod("events", &JsEmulatedDut::events),
                        InstanceMethod("nativeActor", &JsEmulatedDut::nativeActor),
                        InstanceMethod("stampColumns", &JsEmulatedDut::stampColumns),
                        InstanceMethod("discardStamps", &JsEmulatedDut::discardStamps),
                        InstanceMethod("startStampFold", &JsEmulatedDut::startStampFold),
                        InstanceMethod("foldStamps", &JsEmulatedDut::foldStamps),
                        InstanceMethod("stampFold", &JsEmulatedDut::stampFold),
                        InstanceMethod("ptpBrief", &JsEmulatedDut::ptpBrief),
                        InstanceMethod("playoutFills", &JsEmulatedDut::playoutFills)});
  }

  explicit JsEmulatedDut(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsEmulatedDut>(info) {
    Napi::Env env = info.Env();
    JsVirtualNetwork* network = JsVirtualNetwork::from(info[0]);
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    if (!info[2].IsObject()) throw Napi::TypeError::New(env, "new EmulatedDut(network, hostAddress, config)");
    const Napi::Object o = info[2].As<Napi::Object>();
    const EmulatedDutConfig config = configOf(o);
    // The DUT's media clock: PTP time = local time + ptpEpochNs (a perfectly locked stand-in
    // for the PTP-derived clock), media time = PTP time x rate (AES67 / ST 2110-10).
    const Nanoseconds ptpEpoch = optionalInt(o, "ptpEpochNs", 0);
    const double ppm = o.Has("mediaClockPpm") ? o.Get("mediaClockPpm").ToNumber().DoubleValue() : 0.0;
    // With `ptp`, the engine's PTP slave on the DUT's host gives the media clock instead.
    try {
      Transport& transport = network->network().host(toAddress(info[1], "hostAddress"));
      network_ = &network->network();
      transport_ = &transport;
      if (config.ptp.enabled) {
        dut_ = std::make_unique<EmulatedDut>(transport, config);
      } else {
        mediaClock_ = std::make_unique<StandInMediaClock>(config.device.sampleRate, ptpEpoch, ppm);
        dut_ = std::make_unique<EmulatedDut>(transport, *mediaClock_, config);
      }
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(env, e.what());
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(env, e.what());
    }
    clock_ = &network->network().clock();
    dut_->setEventCallback([this](const std::string& what) {
      if (events_.size() < 4096) events_.push_back({clock_->now(), what});
    });
  }

 private:
  void start(const Napi::CallbackInfo& info) {
    changed();
    try {
      dut_->start();
    } catch (const std::logic_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }
  void stop(const Napi::CallbackInfo&) {
    changed();
    dut_->stop();
  }
  // The DUT as the virtual scheduler polls it (native_actor.hpp): when something it said
  // was due is due, when a datagram reached one of its host's sockets, after every change
  // made to it from outside (start, streams, an SDP handed over), and at every step while a
  // TX packet waits for its audio — every moment its poll could do or count anything. Everything timed it does is in the next time its poll returns
  // (PTP, SAP, IO cycles, transmit), so the steps it sits out are polls that would have
  // done nothing: lab/scenario/fast-bookkeeping.test.ts runs scenarios both ways. With
  // everyStep, at every step (the reference way).
  class DutActor final : public NativeActor {
   public:
    DutActor(EmulatedDut& dut, const std::uint64_t& deliveries, bool everyStep) : dut_(dut), deliveries_(deliveries), everyStep_(everyStep) {}
    double poll(Nanoseconds) override {
      // Read before polling: what arrives while it polls (its receives deliver what is
      // due) may land in a socket it already drained, so it counts as new.
      seen_ = deliveries_;
      changed_ = false;
      const Nanoseconds next = dut_.poll();
      return next == std::numeric_limits<Nanoseconds>::max() ? INFINITY : static_cast<double>(next);
    }
    PollOn pollOn() const override { return everyStep_ ? PollOn::kEveryStep : PollOn::kDueOrPending; }
    // A TX packet due and waiting for its audio is counted at every poll
    // (waitingForAudio): polled at every step meanwhile, it counts what it always did.
    bool pending() const override { return changed_ || deliveries_ != seen_ || dut_.transmitWaiting(); }
    void changed() { changed_ = true; }
    bool everyStep() const { return everyStep_; }

   private:
    EmulatedDut& dut_;
    const std::uint64_t& deliveries_;
    std::uint64_t seen_ = 0;
    bool changed_ = true;
    bool everyStep_;
  };
  // nativeActor(everyStep = false): one per DUT; everyStep must be the same at every call.
  Napi::Value nativeActor(const Napi::CallbackInfo& info) {
    const bool everyStep = info.Length() > 0 && info[0].ToBoolean().Value();
    if (!actor_) actor_ = std::make_unique<DutActor>(*dut_, network_->deliveriesTo(*transport_), everyStep);
    if (actor_->everyStep() != everyStep) throw Napi::Error::New(info.Env(), "nativeActor: asked for everyStep " + std::string(everyStep ? "true" : "false") + " after the other");
    return nativeActorHandle(info.Env(), actor_.get());
  }
  // Something outside its polls changed it: the scheduler polls it at the next step.
  void changed() {
    if (actor_) actor_->changed();
  }

  Napi::Value poll(const Napi::CallbackInfo& info) {
    const Nanoseconds next = dut_->poll();
    if (next == std::numeric_limits<Nanoseconds>::max()) return info.Env().Null();
    return Napi::Number::New(info.Env(), num(next));
  }

  Napi::Value properties(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Device& d = dut_->device();
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", d.name());
    o.Set("uid", d.uid());
    o.Set("inputChannels", d.inputChannels());
    o.Set("outputChannels", d.outputChannels());
    o.Set("sampleRate", d.sampleRate());
    o.Set("ioBufferFrames", dut_->host().ioBufferFrames());
    o.Set("minIoBufferFrames", d.minIoBufferFrames());
    o.Set("maxIoBufferFrames", d.maxIoBufferFrames());
    o.Set("zeroTimeStampPeriod", d.zeroTimeStampPeriod());
    o.Set("inputLatencyFrames", d.inputLatencyFrames());
    o.Set("inputSafetyOffsetFrames", d.inputSafetyOffsetFrames());
    o.Set("outputLatencyFrames", d.outputLatencyFrames());
    o.Set("outputSafetyOffsetFrames", d.outputSafetyOffsetFrames());
    Napi::Array in = Napi::Array::New(env, d.inputChannels());
    for (std::uint32_t c = 0; c < d.inputChannels(); ++c) in.Set(c, d.inputChannelName(c));
    Napi::Array out = Napi::Array::New(env, d.outputChannels());
    for (std::uint32_t c = 0; c < d.outputChannels(); ++c) out.Set(c, d.outputChannelName(c));
    o.Set("inputChannelNames", in);
    o.Set("outputChannelNames", out);
    return o;
  }

  Napi::Value timeline(const Napi::CallbackInfo& info) {
    const DeviceTimeline& t = dut_->device().timeline();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("running", dut_->running());
    o.Set("anchor", num(t.anchor()));
    o.Set("seed", num(t.seed()));
    o.Set("hostTicksPerFrame", t.hostTicksPerFrame());
    o.Set("rateScalar", t.rateScalar());
    o.Set("zeroTimeStampsPublished", num(t.stampsPublished()));
    return o;
  }

  Napi::Value counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    const DeviceCounters d = dut_->device().counters();
    Napi::Object device = Napi::Object::New(env);
    device.Set("ioCycles", num(d.ioCycles));
    device.Set("zeroTimeStampCalls", num(d.zeroTimeStampCalls));
    device.Set("readInputCalls", num(d.readInputCalls));
    device.Set("writeMixCalls", num(d.writeMixCalls));
    device.Set("framesRead", num(d.framesRead));
    device.Set("framesWritten", num(d.framesWritten));
    device.Set("inputDiscontinuities", num(d.inputDiscontinuities));
    device.Set("outputDiscontinuities", num(d.outputDiscontinuities));
    device.Set("oversizeRequests", num(d.oversizeRequests));
    device.Set("callsWhileStopped", num(d.callsWhileStopped));
    device.Set("unsupportedOperations", num(d.unsupportedOperations));
    o.Set("device", device);
    const HalHostStats h = dut_->host().stats();
    Napi::Object host = Napi::Object::New(env);
    host.Set("cycles", num(h.cycles));
    host.Set("zeroTimeStampCalls", num(h.zeroTimeStampCalls));
    host.Set("zeroTimeStampsSeen", num(h.zeroTimeStampsSeen));
    host.Set("ioErrors", num(h.ioErrors));
    host.Set("maxLatenessNs", num(h.maxLatenessNs));
    host.Set("cycleLogDropped", num(dut_->host().cycleLog().dropped()));
    o.Set("host", host);
    Napi::Array receivers = Napi::Array::New(env, dut_->receiverCount());
    for (std::size_t i = 0; i < dut_->receiverCount(); ++i) {
      const RtpReceiverStats& s = dut_->receiverStats(i);
      Napi::Object r = Napi::Object::New(env);
      r.Set("received", num(s.received));
      r.Set("accepted", num(s.accepted));
      r.Set("lost", num(s.lost));
      r.Set("reordered", num(s.reordered));
      r.Set("ssrcChanges", num(s.ssrcChanges));
      r.Set("transitMinNs", num(s.transitMinNs));
      r.Set("transitMaxNs", num(s.transitMaxNs));
      r.Set("socketOverflows", num(dut_->socketOverflows(i)));
      r.Set("oversizeDatagrams", num(dut_->oversizeDatagrams(i)));
      Napi::Object dropped = Napi::Object::New(env);
      for (std::size_t k = 0; k < s.dropped.size(); ++k) dropped.Set(toString(static_cast<RtpDropReason>(k)), num(s.dropped[k]));
      r.Set("dropped", dropped);
      const PlayoutStats p = dut_->playoutStats(i);
      Napi::Object playout = Napi::Object::New(env);
      playout.Set("framesWritten", num(p.framesWritten));
      playout.Set("framesPlayed", num(p.framesPlayed));
      playout.Set("framesMissing", num(p.framesMissing));
      playout.Set("framesPriming", num(p.framesPriming));
      playout.Set("glitches", num(p.glitches));
      playout.Set("latePackets", num(p.latePackets));
      playout.Set("earlyPackets", num(p.earlyPackets));
      playout.Set("duplicatePackets", num(p.duplicatePackets));
      playout.Set("fillFrames", num(dut_->playoutFill(i)));
      r.Set("playout", playout);
      const DutReceiveState& st = dut_->receiveState(i);
      r.Set("id", st.id);
      r.Set("active", st.active);
      r.Set("senderClocked", st.senderClocked);
      r.Set("problem", st.problem);
      r.Set("activations", num(st.activations));
      if (const SenderClockAlignerStats* a = dut_->alignerStats(i)) {
        Napi::Object al = Napi::Object::New(env);
        al.Set("anchors", num(a->anchors));
        al.Set("driftRealigns", num(a->driftRealigns));
        al.Set("continued", num(a->continued));
        al.Set("ssrcRealigns", num(a->ssrcRealigns));
        al.Set("transitMinFrames", num(a->transitMinFrames));
        al.Set("transitMaxFrames", num(a->transitMaxFrames));
        r.Set("aligner", al);
      } else {
        r.Set("aligner", env.Null());
      }
      receivers.Set(static_cast<std::uint32_t>(i), r);
    }
    o.Set("receivers", receivers);
    Napi::Array transmitters = Napi::Array::New(env, dut_->transmitterCount());
    for (std::size_t i = 0; i < dut_->transmitterCount(); ++i) {
      const RtpTransmitterStats& s = dut_->transmitterStats(i);
      const RingOutputSink& sink = dut_->transmitSink(i);
      const TransmitRingCounters ring = dut_->transmitRingCounters(i);
      Napi::Object t = Napi::Object::New(env);
      t.Set("packetsSent", num(s.packetsSent));
      t.Set("sendErrors", num(s.sendErrors));
      t.Set("framesSent", num(s.framesSent));
      t.Set("latenessMaxNs", num(s.latenessMaxNs));
      t.Set("waitingForAudio", num(s.waitingForAudio));
      t.Set("ringOverflowFrames", num(ring.overflowFrames));
      t.Set("ringGaps", num(ring.gaps));
      t.Set("ringGapFrames", num(ring.gapFrames));
      t.Set("firstMediaTime", sink.started() ? Napi::Value(Napi::Number::New(env, num(sink.firstMediaTime()))) : env.Null());
      const DutTransmitState& st = dut_->transmitState(i);
      t.Set("id", st.id);
      t.Set("announced", st.announced);
      t.Set("sapUpdates", num(st.sapUpdates));
      transmitters.Set(static_cast<std::uint32_t>(i), t);
    }
    o.Set("transmitters", transmitters);
    o.Set("packetLogDropped", num(dut_->packetLog().dropped()));
    const DutResyncCounters& rs = dut_->resyncCounters();
    Napi::Object resync = Napi::Object::New(env);
    resync.Set("clockSteps", num(rs.clockSteps));
    resync.Set("absorbedSteps", num(rs.absorbedSteps));
    resync.Set("largestStepNs", num(rs.largestStepNs));
    resync.Set("configurationChanges", num(h.configurationChanges));
    resync.Set("timelineJumps", num(h.timelineJumps));
    o.Set("resync", resync);
    return o;
  }

  Napi::Value ptpStatus(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const DutClock& clock = dut_->clock();
    const PtpSlave* slave = clock.slave();
    if (!slave) return env.Null();
    const PtpSlaveStatus st = slave->status();
    const DutClockCounters& cc = clock.counters();
    Napi::Object o = Napi::Object::New(env);
    o.Set("clockIdentity", formatPtp4l(slave->port().config().clockIdentity));
    o.Set("domain", clock.domain());
    o.Set("portState", toString(st.portState));
    o.Set("servoState", toString(st.servoState));
    o.Set("locked", clock.locked());
    o.Set("grandmaster", st.hasParent ? Napi::Value(Napi::String::New(env, formatPtp4l(st.grandmasterIdentity))) : env.Null());
    o.Set("followedGrandmaster", clock.grandmaster() ? Napi::Value(Napi::String::New(env, formatPtp4l(*clock.grandmaster()))) : env.Null());
    o.Set("parentPort", st.hasParent ? Napi::Value(Napi::String::New(env, formatPtp4l(st.parentPortIdentity))) : env.Null());
    o.Set("hasOffset", st.hasOffset);
    o.Set("offsetNs", num(st.offset));
    o.Set("pathDelayNs", num(st.pathDelay));
    o.Set("frequencyPpb", st.frequencyPpb);
    const Nanoseconds since = slave->synchronizer().servo().lockedSince();
    o.Set("lockedSince", since < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, num(since))));
    o.Set("startedAt", num(cc.startedAt));
    o.Set("firstLockAt", cc.firstLockAt < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, num(cc.firstLockAt))));
    o.Set("grandmasterSince", cc.grandmasterChangedAt < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, num(cc.grandmasterChangedAt))));
    o.Set("resyncThresholdNs", num(clock.resyncThresholdNs()));
    o.Set("rateScalar", dut_->device().timeline().rateScalar());
    o.Set("driftPpm", clock.ptpMediaClock()->driftPpm());
    Napi::Object c = Napi::Object::New(env);
    const PtpPortCounters& pc = slave->port().counters();
    const PtpServoCounters& sc = slave->synchronizer().servo().counters();
    c.Set("syncSamples", num(pc.syncSamples));
    c.Set("delaySamples", num(pc.delaySamples));
    c.Set("announceTimeouts", num(pc.announceTimeouts));
    c.Set("parentChanges", num(pc.parentChanges));
    c.Set("grandmasterChanges", num(cc.grandmasterChanges));
    c.Set("servoSamples", num(sc.samples));
    c.Set("steps", num(cc.steps));
    c.Set("lastStepNs", num(cc.lastStepNs));
    c.Set("locks", num(cc.locks));
    c.Set("lockLosses", num(cc.lockLosses));
    c.Set("spikes", num(sc.spikes));
    c.Set("sampleTimeouts", num(sc.sampleTimeouts));
    c.Set("sendFailures", num(slave->sendFailures()));
    o.Set("counters", c);
    return o;
  }

  std::size_t txIndex(const Napi::Value& v) {
    if (v.IsString()) {
      const auto i = dut_->transmitterIndex(v.As<Napi::String>().Utf8Value());
      if (!i) throw Napi::Error::New(v.Env(), "no TX stream '" + v.As<Napi::String>().Utf8Value() + "'");
      return *i;
    }
    const std::int64_t i = toInt64(v, "stream");
    if (i < 0 || static_cast<std::size_t>(i) >= dut_->transmitterCount()) {
      throw Napi::RangeError::New(v.Env(), "no TX stream " + std::to_string(i) + " (the DUT has " + std::to_string(dut_->transmitterCount()) + ")");
    }
    return static_cast<std::size_t>(i);
  }

  Napi::Value txSdp(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), dut_->transmitSdp(txIndex(info[0])));
  }

  Napi::Value streams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    Napi::Array rx = Napi::Array::New(env, dut_->receiverCount());
    for (std::size_t i = 0; i < dut_->receiverCount(); ++i) {
      const DutReceiveState& st = dut_->receiveState(i);
      Napi::Object r = Napi::Object::New(env);
      r.Set("id", st.id);
      r.Set("active", st.active);
      r.Set("sapName", st.sapSessionName.empty() ? env.Null() : Napi::Value(Napi::String::New(env, st.sapSessionName)));
      r.Set("senderClocked", st.senderClocked);
      r.Set("problem", st.problem);
      r.Set("activations", num(st.activations));
      r.Set("name", st.active ? Napi::Value(Napi::String::New(env, st.stream.name)) : env.Null());
      r.Set("destination", st.active ? Napi::Value(Napi::String::New(env, formatEndpoint(st.stream.destination))) : env.Null());
      Napi::Array ch = Napi::Array::New(env, st.deviceChannels.size());
      for (std::size_t k = 0; k < st.deviceChannels.size(); ++k) ch.Set(static_cast<std::uint32_t>(k), st.deviceChannels[k]);
      r.Set("deviceChannels", ch);
      rx.Set(static_cast<std::uint32_t>(i), r);
    }
    o.Set("receive", rx);
    Napi::Array tx = Napi::Array::New(env, dut_->transmitterCount());
    for (std::size_t i = 0; i < dut_->transmitterCount(); ++i) {
      const DutTransmitState& st = dut_->transmitState(i);
      Napi::Object t = Napi::Object::New(env);
      t.Set("id", st.id);
      t.Set("announced", st.announced);
      t.Set("sapUpdates", num(st.sapUpdates));
      t.Set("sdp", dut_->transmitSdp(i));
      tx.Set(static_cast<std::uint32_t>(i), t);
    }
    o.Set("transmit", tx);
    return o;
  }

  Napi::Value sapSessions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    const SapListener* l = dut_->sapListener();
    if (!l) return a;
    std::uint32_t i = 0;
    for (const SapSession& s : l->sessions()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("origin", formatIpv4(s.origin));
      o.Set("msgIdHash", s.msgIdHash);
      o.Set("sdp", s.sdp);
      o.Set("lastHeard", num(s.lastHeard));
      o.Set("announcements", num(s.announcements));
      a.Set(i++, o);
    }
    return a;
  }

  template <typename F>
  auto guarded(Napi::Env env, F&& f) {
    try {
      return f();
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(env, e.what());
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  Napi::Value addReceive(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "addReceive(stream)");
    const DutReceiveStream r = receiveOf(info[0].As<Napi::Object>(), "stream");
    changed();
    return Napi::Number::New(info.Env(), static_cast<double>(guarded(info.Env(), [&] { return dut_->addReceive(r); })));
  }
  Napi::Value addTransmit(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "addTransmit(stream)");
    const DutTransmitStream t = transmitOf(info[0].As<Napi::Object>(), "stream");
    changed();
    return Napi::Number::New(info.Env(), static_cast<double>(guarded(info.Env(), [&] { return dut_->addTransmit(t); })));
  }
  void removeStream(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    changed();
    guarded(info.Env(), [&] {
      dut_->removeStream(id);
      return 0;
    });
  }
  // The DUT's media clock at a local time (its PTP media time when on PTP).
  Napi::Value mediaTimeAt(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), num(dut_->mediaClock().sampleAt(toInt64(info[0], "localNs"))));
  }
  // The DUT's PTP time at a local time (its slave's mapping), as a bigint; null without PTP
  // or before the slave has an offset.
  Napi::Value ptpTimeAt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const PtpSlave* slave = dut_->clock().slave();
    if (!slave || !slave->status().hasOffset) return env.Null();
    return Napi::BigInt::New(env, static_cast<std::int64_t>(slave->mapping().ptpTimeAt(toInt64(info[0], "localNs"))));
  }
  // An RTSP stream's description (DESCRIBE) or its change (ANNOUNCE), from whoever runs the
  // RTSP client for the DUT (the DUT's Transport carries UDP only).
  void provideSdp(const Napi::CallbackInfo& info) {
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "provideSdp(id, sdp)");
    const std::string id = info[0].As<Napi::String>().Utf8Value();
    const std::string sdp = info[1].As<Napi::String>().Utf8Value();
    changed();
    guarded(info.Env(), [&] {
      dut_->provideSdp(id, sdp);
      return 0;
    });
  }
  // Drains what the DUT reported (stream activations, clock steps, grandmaster changes).
  Napi::Value events(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env, events_.size());
    for (std::size_t i = 0; i < events_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("at", num(events_[i].at));
      o.Set("what", events_[i].what);
      a.Set(static_cast<std::uint32_t>(i), o);
    }
    events_.clear();
    return a;
  }

  Napi::Value cycleStamps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    IoCycleStamp s;
    for (std::uint32_t i = 0; dut_->host().cycleLog().pop(s); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("cycle", num(s.cycle));
      o.Set("predictedHostTime", num(s.predictedHostTime));
      o.Set("wakeHostTime", num(s.wakeHostTime));
      o.Set("currentTime", num(s.currentTime));
      o.Set("inputTime", num(s.inputTime));
      o.Set("outputTime", num(s.outputTime));
      o.Set("mediaCurrentTime", num(s.mediaCurrentTime));
      o.Set("frames", s.frames);
      o.Set("hostTicksPerFrame", s.hostTicksPerFrame);
      a.Set(i, o);
    }
    return a;
  }

  // packetStamps() and cycleStamps() drained together as two Float64Arrays of rows (one
  // JS object per call instead of one per stamp; the runner drains every 10 ms slice):
  //   packets: [received 1 / sent 0, accepted, stream, sequence, rtpTimestamp, frames,
  //             mediaTime, hostTime, deviceTime] per packet;
  //   cycles:  [cycle, predictedHostTime, wakeHostTime, currentTime, inputTime, outputTime,
  //             mediaCurrentTime, frames, hostTicksPerFrame] per IO cycle.
  Napi::Value stampColumns(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    rows_.clear();
    PacketStamp p;
    while (dut_->packetLog().pop(p)) {
      rows_.insert(rows_.end(), {p.direction == PacketStamp::Direction::kReceived ? 1.0 : 0.0, p.accepted ? 1.0 : 0.0, static_cast<double>(p.stream),
                                 static_cast<double>(p.sequence), num(static_cast<std::uint64_t>(p.rtpTimestamp)), static_cast<double>(p.frames),
                                 num(p.mediaTime), num(p.hostTime), num(p.deviceTime)});
    }
    Napi::Float64Array packets = Napi::Float64Array::New(env, rows_.size());
    std::copy(rows_.begin(), rows_.end(), packets.Data());
    rows_.clear();
    IoCycleStamp c;
    while (dut_->host().cycleLog().pop(c)) {
      rows_.insert(rows_.end(), {num(c.cycle), num(c.predictedHostTime), num(c.wakeHostTime), num(c.currentTime), num(c.inputTime), num(c.outputTime),
                                 num(c.mediaCurrentTime), static_cast<double>(c.frames), static_cast<double>(c.hostTicksPerFrame)});
    }
    Napi::Float64Array cycles = Napi::Float64Array::New(env, rows_.size());
    std::copy(rows_.begin(), rows_.end(), cycles.Data());
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", packets);
    o.Set("cycles", cycles);
    return o;
  }

  // Empties both stamp rings (what came before the measurement starts).
  void discardStamps(const Napi::CallbackInfo&) {
    PacketStamp p;
    while (dut_->packetLog().pop(p)) {
    }
    IoCycleStamp c;
    while (dut_->host().cycleLog().pop(c)) {
    }
  }

  // startStampFold({framesPerPacket, transmitStreams, time: {kind, epochNs, ppm, rate}}):
  // from now on foldStamps() drains the stamp rings into a DeviceLog fold in C++
  // (device_stamp_fold.hpp) instead of handing them over (stampColumns).
  void startStampFold(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* usage = "startStampFold({framesPerPacket: number[], transmitStreams: number, time: {kind: 'linear-ptp' | 'stand-in', epochNs: bigint, ppm: number, rate: number}})";
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, usage);
    const Napi::Object o = info[0].As<Napi::Object>();
    if (!o.Get("framesPerPacket").IsArray() || !o.Get("time").IsObject()) throw Napi::TypeError::New(env, usage);
    const Napi::Array f = o.Get("framesPerPacket").As<Napi::Array>();
    std::vector<double> frames;
    for (std::uint32_t i = 0; i < f.Length(); ++i) frames.push_back(f.Get(i).ToNumber().DoubleValue());
    const Napi::Object t = o.Get("time").As<Napi::Object>();
    DeviceLocalTime time;
    const std::string kind = t.Get("kind").ToString().Utf8Value();
    if (kind == "linear-ptp") time.kind = DeviceLocalTime::Kind::kLinearPtp;
    else if (kind == "stand-in") time.kind = DeviceLocalTime::Kind::kStandIn;
    else throw Napi::TypeError::New(env, std::string("startStampFold: time.kind must be 'linear-ptp' or 'stand-in', not '") + kind + "'");
    time.epochNs = toInt64(t.Get("epochNs"), "time.epochNs");
    time.ppm = t.Get("ppm").ToNumber().DoubleValue();
    time.rate = toInt64(t.Get("rate"), "time.rate");
    if (time.rate <= 0 || !std::isfinite(time.ppm)) throw Napi::RangeError::New(env, "startStampFold: time.rate must be positive and time.ppm finite");
    fold_ = std::make_unique<DeviceStampFold>(frames, static_cast<std::size_t>(toInt64(o.Get("transmitStreams"), "transmitStreams")), time);
  }
  // Drains the stamp rings into the fold: one slice (the runner's), as DeviceLog.addSlice.
  void foldStamps(const Napi::CallbackInfo& info) {
    if (!fold_) throw Napi::Error::New(info.Env(), "foldStamps: no fold (startStampFold first)");
    foldPackets_.clear();
    foldCycles_.clear();
    PacketStamp p;
    while (dut_->packetLog().pop(p)) foldPackets_.push_back(p);
    IoCycleStamp c;
    while (dut_->host().cycleLog().pop(c)) foldCycles_.push_back(c);
    fold_->add(foldPackets_, foldCycles_);
  }
  // What the fold holds, as DeviceLog's fields (lab/scenario/device-log.ts absorb).
  Napi::Value stampFold(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!fold_) throw Napi::Error::New(env, "stampFold: no fold (startStampFold first)");
    const auto ranges = [&](const std::vector<FoldedRange>& v) {
      Napi::Float64Array a = Napi::Float64Array::New(env, v.size() * 2);
      for (std::size_t i = 0; i < v.size(); ++i) {
        a[2 * i] = v[i].from;
        a[2 * i + 1] = v[i].to;
      }
      return a;
    };
    const auto span = [&](const Span& x) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("min", x.min);
      o.Set("max", x.max);
      return o;
    };
    Napi::Object o = Napi::Object::New(env);
    Napi::Array rx = Napi::Array::New(env, fold_->receive().size());
    for (std::size_t i = 0; i < fold_->receive().size(); ++i) {
      const ReceiveFold& r = fold_->receive()[i];
      Napi::Object x = Napi::Object::New(env);
      x.Set("framesPerPacket", r.framesPerPacket);
      if (r.hasAccepted) {
        x.Set("firstAccepted", r.firstAccepted);
        x.Set("acceptedEnd", r.acceptedEnd);
      }
      x.Set("gaps", ranges(r.gaps));
      x.Set("refused", ranges(r.refused));
      x.Set("duplicates", r.duplicates);
      x.Set("packets", r.packets);
      x.Set("transitCount", r.transitCount);
      x.Set("transitSum", r.transitSum);
      x.Set("transitMin", r.transitMin);
      x.Set("transitMax", r.transitMax);
      Napi::Object g = Napi::Object::New(env);
      g.Set("n", r.regN);
      g.Set("sx", r.regSx);
      g.Set("sy", r.regSy);
      g.Set("sxx", r.regSxx);
      g.Set("sxy", r.regSxy);
      g.Set("x0", r.regX0);
      x.Set("reg", g);
      rx.Set(static_cast<std::uint32_t>(i), x);
    }
    o.Set("receive", rx);
    Napi::Array sent = Napi::Array::New(env, fold_->sentPackets().size());
    for (std::size_t i = 0; i < fold_->sentPackets().size(); ++i) sent.Set(static_cast<std::uint32_t>(i), fold_->sentPackets()[i]);
    o.Set("sentPackets", sent);
    o.Set("cycles", fold_->cycles());
    o.Set("inputSpan", span(fold_->inputSpan()));
    o.Set("outputSpan", span(fold_->outputSpan()));
    o.Set("cycleFrames", span(fold_->cycleFrames()));
    return o;
  }

  // ptpBrief(out: Float64Array(6)) -> false without PTP: what the runner samples every slice,
  // without ptpStatus()'s object of formatted strings:
  //   [locked, hasOffset, firstLockAt (-1: none), syncSamples, parent version, unused]
  // The parent version changes whenever ptpStatus()'s grandmaster or grandmasterSince would
  // (read ptpStatus() then).
  Napi::Value ptpBrief(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[0].As<Napi::Float64Array>().ElementLength() < 6) {
      throw Napi::TypeError::New(env, "ptpBrief(out: Float64Array(6))");
    }
    const DutClock& clock = dut_->clock();
    const PtpSlave* slave = clock.slave();
    if (!slave) return Napi::Boolean::New(env, false);
    const PtpSlaveStatus st = slave->status();
    const DutClockCounters& cc = clock.counters();
    if (st.hasParent != briefHasParent_ || (st.hasParent && st.grandmasterIdentity.bytes != briefGrandmaster_.bytes) || cc.grandmasterChangedAt != briefSince_) {
      briefHasParent_ = st.hasParent;
      if (st.hasParent) briefGrandmaster_ = st.grandmasterIdentity;
      briefSince_ = cc.grandmasterChangedAt;
      ++briefVersion_;
    }
    double* out = info[0].As<Napi::Float64Array>().Data();
    out[0] = clock.locked() ? 1 : 0;
    out[1] = st.hasOffset ? 1 : 0;
    out[2] = cc.firstLockAt < 0 ? -1 : num(cc.firstLockAt);
    out[3] = num(slave->port().counters().syncSamples);
    out[4] = static_cast<double>(briefVersion_);
    out[5] = 0;
    return Napi::Boolean::New(env, true);
  }

  // playoutFills(out: Float64Array(receivers)): counters().receivers[i].playout.fillFrames.
  void playoutFills(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[0].As<Napi::Float64Array>().ElementLength() < dut_->receiverCount()) {
      throw Napi::TypeError::New(info.Env(), "playoutFills(out: Float64Array(receive streams))");
    }
    double* out = info[0].As<Napi::Float64Array>().Data();
    for (std::size_t i = 0; i < dut_->receiverCount(); ++i) out[i] = num(dut_->playoutFill(i));
  }

  Napi::Value packetStamps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    PacketStamp s;
    for (std::uint32_t i = 0; dut_->packetLog().pop(s); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("direction", s.direction == PacketStamp::Direction::kReceived ? "received" : "sent");
      o.Set("accepted", s.accepted);
      o.Set("stream", s.stream);
      o.Set("sequence", s.sequence);
      o.Set("rtpTimestamp", num(static_cast<std::uint64_t>(s.rtpTimestamp)));
      o.Set("frames", s.frames);
      o.Set("mediaTime", num(s.mediaTime));
      o.Set("hostTime", num(s.hostTime));
      o.Set("deviceTime", num(s.deviceTime));
      a.Set(i, o);
    }
    return a;
  }

  struct Event {
    Nanoseconds at;
    std::string what;
  };
  Napi::ObjectReference networkRef_;  // the network (and its clock) outlive the DUT
  std::unique_ptr<MediaClock> mediaClock_;
  std::unique_ptr<EmulatedDut> dut_;
  std::unique_ptr<DutActor> actor_;
  VirtualNetwork* network_ = nullptr;   // the DUT's network and host (alive: networkRef_)
  const Transport* transport_ = nullptr;
  std::vector<double> rows_;  // stampColumns' scratch
  std::unique_ptr<DeviceStampFold> fold_;
  std::vector<PacketStamp> foldPackets_;  // foldStamps' scratch
  std::vector<IoCycleStamp> foldCycles_;
  bool briefHasParent_ = false;  // ptpBrief's view of the parent
  ClockIdentity briefGrandmaster_{};
  Nanoseconds briefSince_ = -1;
  std::uint64_t briefVersion_ = 0;
  const Clock* clock_ = nullptr;
  std::vector<Event> events_;
};

// measureIoCycle({channels, bufferFrames, cycles}): bench/io-cycle.ts's figures.
Napi::Value measureIoCycleJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "measureIoCycle({channels, bufferFrames, cycles})");
  const Napi::Object o = info[0].As<Napi::Object>();
  IoCycleBenchmarkResult r;
  try {
    r = measureIoCycle(static_cast<std::uint32_t>(optionalInt(o, "channels", 2)),
                       static_cast<std::uint32_t>(optionalInt(o, "bufferFrames", 256)),
                       static_cast<std::uint64_t>(optionalInt(o, "cycles", 20000)));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("channels", r.channels);
  out.Set("bufferFrames", r.bufferFrames);
  out.Set("cycles", num(r.cycles));
  out.Set("ioNsPerCycle", r.ioNsPerCycle);
  out.Set("memcpyNsPerCycle", r.memcpyNsPerCycle);
  out.Set("bytesPerCycle", num(r.bytesPerCycle));
  return out;
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("EmulatedDut", JsEmulatedDut::define(env));
  exports.Set("measureIoCycle", Napi::Function::New(env, measureIoCycleJs, "measureIoCycle"));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
