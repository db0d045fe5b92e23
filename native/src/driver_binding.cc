// driver/core and driver/host for TypeScript: the emulated DUT (receivers, playout, device,
// HAL host emulator with the loopback client, transmitters) on a VirtualNetwork host,
// stepped in virtual time by the caller, with its properties, counters and stage stamps.
#include <napi.h>

#include <limits>
#include <memory>
#include <vector>

#include "driver/host/emulated_dut.hpp"
#include "driver/host/io_cycle_benchmark.hpp"
#include "engine/base/media_clock.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

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
  streams("receive", [&](const Napi::Object& s, const std::string& where) {
    c.receive.push_back({streamOf(s, where), uintArray(s.Get("deviceChannels"), where + ".deviceChannels")});
  });
  streams("transmit", [&](const Napi::Object& s, const std::string& where) {
    DutTransmitStream t{streamOf(s, where), uintArray(s.Get("deviceChannels"), where + ".deviceChannels")};
    t.ssrc = static_cast<std::uint32_t>(optionalInt(s, "ssrc", t.ssrc));
    t.dscp = static_cast<int>(optionalInt(s, "dscp", t.dscp));
    c.transmit.push_back(std::move(t));
  });
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
                        InstanceMethod("packetStamps", &JsEmulatedDut::packetStamps)});
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
    mediaClock_ = std::make_unique<LocalMediaClock>(config.device.sampleRate, -ptpEpoch, ppm);
    try {
      Transport& transport = network->network().host(toAddress(info[1], "hostAddress"));
      dut_ = std::make_unique<EmulatedDut>(transport, *mediaClock_, config);
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(env, e.what());
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  void start(const Napi::CallbackInfo& info) {
    try {
      dut_->start();
    } catch (const std::logic_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }
  void stop(const Napi::CallbackInfo&) { dut_->stop(); }
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
      receivers.Set(static_cast<std::uint32_t>(i), r);
    }
    o.Set("receivers", receivers);
    Napi::Array transmitters = Napi::Array::New(env, dut_->transmitterCount());
    for (std::size_t i = 0; i < dut_->transmitterCount(); ++i) {
      const RtpTransmitterStats& s = dut_->transmitterStats(i);
      const RingOutputSink& sink = dut_->transmitSink(i);
      Napi::Object t = Napi::Object::New(env);
      t.Set("packetsSent", num(s.packetsSent));
      t.Set("sendErrors", num(s.sendErrors));
      t.Set("framesSent", num(s.framesSent));
      t.Set("latenessMaxNs", num(s.latenessMaxNs));
      t.Set("waitingForAudio", num(s.waitingForAudio));
      t.Set("ringOverflowFrames", num(sink.overflowFrames()));
      t.Set("ringGaps", num(sink.gaps()));
      t.Set("ringGapFrames", num(sink.gapFrames()));
      t.Set("firstMediaTime", sink.started() ? Napi::Value(Napi::Number::New(env, num(sink.firstMediaTime()))) : env.Null());
      transmitters.Set(static_cast<std::uint32_t>(i), t);
    }
    o.Set("transmitters", transmitters);
    o.Set("packetLogDropped", num(dut_->packetLog().dropped()));
    return o;
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

  Napi::ObjectReference networkRef_;  // the network (and its clock) outlive the DUT
  std::unique_ptr<LocalMediaClock> mediaClock_;
  std::unique_ptr<EmulatedDut> dut_;
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
