// engine/rtp and engine/jitter for TypeScript: the RTP parser and PCM codecs (so the lab's
// own codecs can be checked against them), and PlayoutBuffer / RtpReceiver /
// RtpTransmitter on the VirtualNetwork for virtual-time runs. An RtpReceiver can also run
// on real UDP sockets (engine/base UdpTransport on a named interface) for live tests.
#include <napi.h>

#include <limits>
#include <memory>
#include <vector>

#include "engine/base/clock.hpp"
#include "engine/base/media_clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/jitter/playout_buffer.hpp"
#include "engine/rtp/pcm_codec.hpp"
#include "engine/rtp/pcm_kernels.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::FunctionReference* gPlayoutConstructor = nullptr;

PcmEncoding toEncoding(const Napi::Value& v) {
  const auto e = parsePcmEncoding(v.ToString().Utf8Value());
  if (!e) throw Napi::TypeError::New(v.Env(), "encoding must be 'L16', 'L24' or 'L32'");
  return *e;
}

Napi::Value parseRtpJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "parseRtp(data: Uint8Array)");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  RtpPacketView p;
  const RtpParseError err = parseRtp(data.Data(), data.ByteLength(), p);
  Napi::Object o = Napi::Object::New(info.Env());
  if (err != RtpParseError::kNone) {
    o.Set("error", toString(err));
    return o;
  }
  o.Set("padding", p.padding);
  o.Set("marker", p.marker);
  o.Set("payloadType", p.payloadType);
  o.Set("sequenceNumber", p.sequenceNumber);
  o.Set("timestamp", static_cast<double>(p.timestamp));
  o.Set("ssrc", static_cast<double>(p.ssrc));
  Napi::Array csrcs = Napi::Array::New(info.Env(), p.csrcCount);
  for (std::uint32_t i = 0; i < p.csrcCount; ++i) csrcs.Set(i, static_cast<double>(p.csrcs[i]));
  o.Set("csrcs", csrcs);
  if (p.extension) {
    Napi::Object ext = Napi::Object::New(info.Env());
    ext.Set("profile", p.extensionProfile);
    ext.Set("data", Napi::Buffer<std::uint8_t>::Copy(info.Env(), p.extensionData, p.extensionLength));
    o.Set("extension", ext);
  }
  o.Set("payload", Napi::Buffer<std::uint8_t>::Copy(info.Env(), p.payload, p.payloadSize));
  return o;
}

// The optional `kernels` argument of decodePcm/encodePcm: absent or 'dispatched', what the
// engine runs (decodePcm/encodePcm); else one kernel set by name, so that the lab's codecs
// can be crossed with each set this CPU has (pcm_kernels.hpp), not only the fastest.
const PcmKernels* toKernelsOrDispatched(const Napi::Value& v) {
  if (v.IsUndefined()) return nullptr;
  const std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  if (name == "dispatched") return nullptr;
  for (PcmKernelSet s : {PcmKernelSet::kScalar, PcmKernelSet::kAvx2, PcmKernelSet::kAvx512}) {
    if (name != toString(s)) continue;
    if (const PcmKernels* k = pcmKernels(s)) return k;
    throw Napi::Error::New(v.Env(), "kernels '" + name + "' are not built or not supported by this CPU");
  }
  throw Napi::TypeError::New(v.Env(), "kernels must be 'dispatched', 'scalar', 'avx2' or 'avx512', not '" + name + "'");
}

Napi::Value decodePcmJs(const Napi::CallbackInfo& info) {
  const PcmEncoding e = toEncoding(info[0]);
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  const PcmKernels* kernels = toKernelsOrDispatched(info[2]);
  const std::size_t samples = bytes.ByteLength() / bytesPerSample(e);
  if (samples * bytesPerSample(e) != bytes.ByteLength()) {
    throw Napi::RangeError::New(info.Env(), "decodePcm: byte count is not a whole number of samples");
  }
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), samples);
  if (kernels) kernels->decode[static_cast<std::size_t>(e)](bytes.Data(), samples, out.Data());
  else decodePcm(e, bytes.Data(), samples, out.Data());
  return out;
}

Napi::Value encodePcmJs(const Napi::CallbackInfo& info) {
  const PcmEncoding e = toEncoding(info[0]);
  Napi::Float32Array in = info[1].As<Napi::Float32Array>();
  const PcmKernels* kernels = toKernelsOrDispatched(info[2]);
  auto out = Napi::Buffer<std::uint8_t>::New(info.Env(), in.ElementLength() * bytesPerSample(e));
  if (kernels) kernels->encode[static_cast<std::size_t>(e)](in.Data(), in.ElementLength(), out.Data());
  else encodePcm(e, in.Data(), in.ElementLength(), out.Data());
  return out;
}

// The kernel sets this build and CPU run, slowest first (scalar always).
Napi::Value pcmKernelSetsJs(const Napi::CallbackInfo& info) {
  Napi::Array sets = Napi::Array::New(info.Env());
  std::uint32_t i = 0;
  for (PcmKernelSet s : {PcmKernelSet::kScalar, PcmKernelSet::kAvx2, PcmKernelSet::kAvx512}) {
    if (pcmKernels(s) != nullptr) sets.Set(i++, toString(s));
  }
  return sets;
}

RtpStreamFormat toFormat(const Napi::Object& o) {
  RtpStreamFormat f;
  f.encoding = toEncoding(o.Get("encoding"));
  f.channels = static_cast<std::uint32_t>(optionalInt(o, "channels", 2));
  f.sampleRate = static_cast<std::uint32_t>(optionalInt(o, "sampleRate", 48000));
  f.payloadType = static_cast<std::uint8_t>(optionalInt(o, "payloadType", 96));
  f.mediaclkOffset = static_cast<std::uint32_t>(optionalInt(o, "mediaclkOffset", 0));
  if (f.channels < 1 || f.channels > 64) throw Napi::RangeError::New(o.Env(), "channels must be 1-64");
  return f;
}

Napi::Object playoutStatsToJs(Napi::Env env, const PlayoutStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("framesWritten", static_cast<double>(s.framesWritten));
  o.Set("framesPlayed", static_cast<double>(s.framesPlayed));
  o.Set("framesMissing", static_cast<double>(s.framesMissing));
  o.Set("framesPriming", static_cast<double>(s.framesPriming));
  o.Set("glitches", static_cast<double>(s.glitches));
  o.Set("latePackets", static_cast<double>(s.latePackets));
  o.Set("earlyPackets", static_cast<double>(s.earlyPackets));
  o.Set("duplicatePackets", static_cast<double>(s.duplicatePackets));
  return o;
}

class JsPlayoutBuffer : public Napi::ObjectWrap<JsPlayoutBuffer> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "PlayoutBuffer",
                       {InstanceMethod("write", &JsPlayoutBuffer::write), InstanceMethod("read", &JsPlayoutBuffer::read),
                        InstanceMethod("stats", &JsPlayoutBuffer::stats), InstanceMethod("glitches", &JsPlayoutBuffer::glitches),
                        InstanceMethod("fillFrames", &JsPlayoutBuffer::fillFrames),
                        InstanceMethod("newestWritten", &JsPlayoutBuffer::newestWritten)});
  }
  explicit JsPlayoutBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsPlayoutBuffer>(info) {
    const Napi::Object o = info[0].As<Napi::Object>();
    PlayoutConfig c;
    c.channels = static_cast<std::size_t>(optionalInt(o, "channels", 2));
    c.capacityFrames = static_cast<std::size_t>(optionalInt(o, "capacityFrames", 8192));
    c.linkOffset = optionalInt(o, "linkOffset", 48);
    try {
      buffer_ = std::make_unique<PlayoutBuffer>(c);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(info.Env(), e.what());
    }
  }
  PlayoutBuffer& buffer() { return *buffer_; }
  static JsPlayoutBuffer* from(const Napi::Value& v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(gPlayoutConstructor->Value())) {
      throw Napi::TypeError::New(v.Env(), "expected a PlayoutBuffer");
    }
    return Unwrap(v.As<Napi::Object>());
  }

 private:
  Napi::Value write(const Napi::CallbackInfo& info) {
    Napi::Float32Array a = info[1].As<Napi::Float32Array>();
    const auto r = buffer_->write(toInt64(info[0], "mediaTime"), a.Data(), a.ElementLength() / buffer_->channels());
    static const char* names[] = {"stored", "late", "too-early", "duplicate"};
    return Napi::String::New(info.Env(), names[static_cast<int>(r)]);
  }
  Napi::Value read(const Napi::CallbackInfo& info) {
    const std::size_t frames = static_cast<std::size_t>(toInt64(info[1], "frames"));
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), frames * buffer_->channels());
    buffer_->read(toInt64(info[0], "mediaTime"), out.Data(), frames);
    return out;
  }
  Napi::Value stats(const Napi::CallbackInfo& info) { return playoutStatsToJs(info.Env(), buffer_->stats()); }
  Napi::Value glitches(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env());
    PlayoutGlitch g;
    for (std::uint32_t i = 0; buffer_->popGlitch(g); ++i) {
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("start", static_cast<double>(g.start));
      o.Set("frames", static_cast<double>(g.frames));
      a.Set(i, o);
    }
    return a;
  }
  Napi::Value fillFrames(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(buffer_->fillFrames()));
  }
  // The newest frame's media time, or null before the first write.
  Napi::Value newestWritten(const Napi::CallbackInfo& info) {
    const SampleTime n = buffer_->newestWritten();
    if (n == std::numeric_limits<SampleTime>::min()) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }
  std::unique_ptr<PlayoutBuffer> buffer_;
};

// RtpReceiver(network, hostAddress, {destination, sourceFilter?, format, ssrcHoldoffNs?}, playout)
// on the virtual network, or RtpReceiver({interfaceName}, null, config, playout) on real UDP
// sockets pinned to that interface ("" lets the routing table choose).
class JsRtpReceiver : public Napi::ObjectWrap<JsRtpReceiver> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "RtpReceiver",
                       {InstanceMethod("poll", &JsRtpReceiver::poll), InstanceMethod("stats", &JsRtpReceiver::stats)});
  }
  explicit JsRtpReceiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsRtpReceiver>(info) {
    const bool real = info[0].IsObject() && info[0].As<Napi::Object>().Has("interfaceName");
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    playoutRef_ = Napi::Persistent(info[3].As<Napi::Object>());
    const Napi::Object o = info[2].As<Napi::Object>();
    RtpReceiverConfig c;
    c.destination = toEndpoint(o.Get("destination"), "destination");
    if (o.Has("sourceFilter") && o.Get("sourceFilter").IsString()) c.sourceFilter = toAddress(o.Get("sourceFilter"), "sourceFilter");
    c.format = toFormat(o.Get("format").As<Napi::Object>());
    if (o.Has("ssrcHoldoffNs") && !o.Get("ssrcHoldoffNs").IsUndefined()) c.ssrcHoldoff = toInt64(o.Get("ssrcHoldoffNs"), "ssrcHoldoffNs");
    try {
      if (real) {
        const std::string interfaceName = info[0].As<Napi::Object>().Get("interfaceName").ToString().Utf8Value();
        udp_ = std::make_unique<UdpTransport>(clock_, interfaceName);
        receiver_ = std::make_unique<RtpReceiver>(*udp_, c, JsPlayoutBuffer::from(info[3])->buffer());
      } else {
        JsVirtualNetwork* network = JsVirtualNetwork::from(info[0]);
        receiver_ = std::make_unique<RtpReceiver>(network->network().host(toAddress(info[1], "host")), c,
                                                  JsPlayoutBuffer::from(info[3])->buffer());
      }
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  Napi::Value poll(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(receiver_->poll()));
  }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    const RtpReceiverStats& s = receiver_->stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("received", static_cast<double>(s.received));
    o.Set("accepted", static_cast<double>(s.accepted));
    o.Set("lost", static_cast<double>(s.lost));
    o.Set("reordered", static_cast<double>(s.reordered));
    o.Set("ssrcChanges", static_cast<double>(s.ssrcChanges));
    o.Set("sequenceResyncs", static_cast<double>(s.sequenceResyncs));
    o.Set("timestampResyncs", static_cast<double>(s.timestampResyncs));
    o.Set("held", static_cast<double>(s.held));
    o.Set("longestGapNs", static_cast<double>(s.longestGapNs));
    o.Set("locked", s.locked);
    o.Set("ssrc", static_cast<double>(s.ssrc));
    Napi::Object dropped = Napi::Object::New(info.Env());
    for (std::size_t r = 0; r < s.dropped.size(); ++r) {
      dropped.Set(toString(static_cast<RtpDropReason>(r)), static_cast<double>(s.dropped[r]));
    }
    o.Set("dropped", dropped);
    return o;
  }
  Napi::ObjectReference networkRef_, playoutRef_;
  RealClock clock_;
  std::unique_ptr<UdpTransport> udp_;  // only on real UDP
  std::unique_ptr<RtpReceiver> receiver_;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("parseRtp", Napi::Function::New(env, parseRtpJs, "parseRtp"));
  exports.Set("decodePcm", Napi::Function::New(env, decodePcmJs, "decodePcm"));
  exports.Set("encodePcm", Napi::Function::New(env, encodePcmJs, "encodePcm"));
  exports.Set("pcmKernelSets", Napi::Function::New(env, pcmKernelSetsJs, "pcmKernelSets"));
  Napi::Function playout = JsPlayoutBuffer::define(env);
  gPlayoutConstructor = new Napi::FunctionReference(Napi::Persistent(playout));
  exports.Set("PlayoutBuffer", playout);
  exports.Set("RtpReceiver", JsRtpReceiver::define(env));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
