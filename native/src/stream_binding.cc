// engine/stream for TypeScript: a StreamManager on a host of the VirtualNetwork (media
// clock free-running on the network's virtual clock), with the calls a lab test needs:
// add RX/TX from plain objects, the TX SDP, IO start/stop, poll, push TX audio, read RX
// audio, the configuration as JSON, and the configuration store (save/load in a folder).
#include <napi.h>

#include <memory>

#include "engine/base/media_clock.hpp"
#include "engine/stream/stream_config_store.hpp"
#include "engine/stream/stream_manager.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

std::vector<std::uint32_t> toMap(const Napi::Object& o) {
  std::vector<std::uint32_t> map;
  if (!o.Has("channelMap") || !o.Get("channelMap").IsArray()) return map;
  Napi::Array a = o.Get("channelMap").As<Napi::Array>();
  for (std::uint32_t i = 0; i < a.Length(); ++i) map.push_back(static_cast<std::uint32_t>(toInt64(a.Get(i), "channelMap[]")));
  return map;
}

Napi::Array fromMap(Napi::Env env, const std::vector<std::uint32_t>& map) {
  Napi::Array a = Napi::Array::New(env, map.size());
  for (std::uint32_t i = 0; i < map.size(); ++i) a.Set(i, map[i]);
  return a;
}

class JsStreamManager : public Napi::ObjectWrap<JsStreamManager> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "StreamManager",
        {InstanceMethod("addRx", &JsStreamManager::addRx), InstanceMethod("addTx", &JsStreamManager::addTx),
         InstanceMethod("remove", &JsStreamManager::remove), InstanceMethod("txSdp", &JsStreamManager::txSdp),
         InstanceMethod("startIo", &JsStreamManager::startIo), InstanceMethod("stopIo", &JsStreamManager::stopIo),
         InstanceMethod("ioRunning", &JsStreamManager::ioRunning), InstanceMethod("poll", &JsStreamManager::poll),
         InstanceMethod("pushTx", &JsStreamManager::pushTx), InstanceMethod("readRx", &JsStreamManager::readRx),
         InstanceMethod("channelMap", &JsStreamManager::channelMap),
         InstanceMethod("framesPerPacket", &JsStreamManager::framesPerPacket),
         InstanceMethod("configJson", &JsStreamManager::configJson), InstanceMethod("applyJson", &JsStreamManager::applyJson),
         InstanceMethod("save", &JsStreamManager::save), InstanceMethod("load", &JsStreamManager::load),
         InstanceMethod("stats", &JsStreamManager::stats)});
  }
  // new StreamManager(network, hostAddress, { sampleRate? })
  explicit JsStreamManager(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsStreamManager>(info) {
    JsVirtualNetwork* network = JsVirtualNetwork::from(info[0]);
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    std::uint32_t rate = 48000;
    if (info.Length() > 2 && info[2].IsObject()) rate = static_cast<std::uint32_t>(optionalInt(info[2].As<Napi::Object>(), "sampleRate", 48000));
    try {
      Transport& t = network->network().host(toAddress(info[1], "host"));
      media_ = std::make_unique<LocalMediaClock>(rate);
      manager_ = std::make_unique<StreamManager>(t, *media_);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  template <typename Fn>
  auto guard(Napi::Env env, Fn fn) {
    try {
      return fn();
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }
  // addRx({ id, sdp, channelMap?, linkOffset? })
  void addRx(const Napi::CallbackInfo& info) {
    const Napi::Object o = info[0].As<Napi::Object>();
    RxStreamConfig c;
    c.id = optionalString(o, "id", "");
    c.sdp = optionalString(o, "sdp", "");
    c.channelMap = toMap(o);
    c.linkOffset = optionalInt(o, "linkOffset", 48);
    guard(info.Env(), [&] { manager_->addRx(c); });
  }
  // addTx({ id, name?, destination, ttl?, format, framesPerPacket?, channelMap?, direction?, channelLabels? })
  void addTx(const Napi::CallbackInfo& info) {
    const Napi::Object o = info[0].As<Napi::Object>();
    TxStreamConfig c;
    c.id = optionalString(o, "id", "");
    c.name = optionalString(o, "name", "");
    c.destination = toEndpoint(o.Get("destination"), "destination");
    c.ttl = static_cast<std::uint32_t>(optionalInt(o, "ttl", 32));
    const Napi::Object f = o.Get("format").As<Napi::Object>();
    const auto e = parsePcmEncoding(optionalString(f, "encoding", "L24"));
    if (!e) throw Napi::TypeError::New(info.Env(), "format.encoding must be L16, L24 or L32");
    c.format.encoding = *e;
    c.format.channels = static_cast<std::uint32_t>(optionalInt(f, "channels", 2));
    c.format.sampleRate = static_cast<std::uint32_t>(optionalInt(f, "sampleRate", 48000));
    c.format.payloadType = static_cast<std::uint8_t>(optionalInt(f, "payloadType", 96));
    c.format.mediaclkOffset = static_cast<std::uint32_t>(optionalInt(f, "mediaclkOffset", 0));
    c.framesPerPacket = static_cast<std::uint32_t>(optionalInt(o, "framesPerPacket", 48));
    c.channelMap = toMap(o);
    c.direction = optionalString(o, "direction", "recvonly");
    c.ssrc = static_cast<std::uint32_t>(optionalInt(o, "ssrc", 0));
    if (o.Has("channelLabels") && o.Get("channelLabels").IsArray()) {
      Napi::Array a = o.Get("channelLabels").As<Napi::Array>();
      for (std::uint32_t i = 0; i < a.Length(); ++i) c.channelLabels.push_back(a.Get(i).ToString().Utf8Value());
    }
    guard(info.Env(), [&] { manager_->addTx(c); });
  }
  void remove(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    guard(info.Env(), [&] { manager_->remove(id); });
  }
  Napi::Value txSdp(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    return Napi::String::New(info.Env(), guard(info.Env(), [&] { return manager_->txSdp(id); }));
  }
  void startIo(const Napi::CallbackInfo& info) { guard(info.Env(), [&] { manager_->startIo(false); }); }
  void stopIo(const Napi::CallbackInfo&) { manager_->stopIo(); }
  Napi::Value ioRunning(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), manager_->ioRunning()); }
  Napi::Value poll(const Napi::CallbackInfo& info) {
    const Nanoseconds next = manager_->poll();
    if (next == std::numeric_limits<Nanoseconds>::max()) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(next));
  }
  Napi::Value pushTx(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    Napi::Float32Array a = info[1].As<Napi::Float32Array>();
    return guard(info.Env(), [&] {
      FrameRingBuffer& ring = manager_->txRing(id);
      return Napi::Number::New(info.Env(), static_cast<double>(ring.push(a.Data(), a.ElementLength() / ring.channels())));
    });
  }
  Napi::Value readRx(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    const SampleTime t = toInt64(info[1], "mediaTime");
    const auto frames = static_cast<std::size_t>(toInt64(info[2], "frames"));
    return guard(info.Env(), [&] {
      PlayoutBuffer& p = manager_->playout(id);
      Napi::Float32Array out = Napi::Float32Array::New(info.Env(), frames * p.channels());
      p.read(t, out.Data(), frames);
      return out;
    });
  }
  Napi::Value channelMap(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    return fromMap(info.Env(), guard(info.Env(), [&] { return manager_->channelMap(id); }));
  }
  Napi::Value framesPerPacket(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    return Napi::Number::New(info.Env(), guard(info.Env(), [&] { return manager_->framesPerPacket(id); }));
  }
  Napi::Value configJson(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), streamConfigToJson(manager_->config()));
  }
  void applyJson(const Napi::CallbackInfo& info) {
    const std::string text = info[0].ToString().Utf8Value();
    guard(info.Env(), [&] { manager_->apply(streamConfigFromJson(text)); });
  }
  void save(const Napi::CallbackInfo& info) {
    const std::string folder = info[0].ToString().Utf8Value();
    guard(info.Env(), [&] { StreamConfigStore(folder).save(manager_->config()); });
  }
  // load(folder) -> { source, problem?, movedAside? } and applies what it loaded.
  Napi::Value load(const Napi::CallbackInfo& info) {
    const std::string folder = info[0].ToString().Utf8Value();
    return guard(info.Env(), [&] {
      const StreamConfigLoad l = StreamConfigStore(folder).load();
      manager_->apply(l.config);
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("source", l.source == StreamConfigLoad::Source::kFile ? "file" : l.source == StreamConfigLoad::Source::kPrevious ? "last-good" : "empty");
      if (!l.problem.empty()) o.Set("problem", l.problem);
      if (!l.movedAside.empty()) o.Set("movedAside", l.movedAside);
      return o;
    });
  }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    const std::string id = info[0].ToString().Utf8Value();
    Napi::Object o = Napi::Object::New(info.Env());
    if (const RtpReceiverStats* r = manager_->rxStats(id)) {
      o.Set("received", static_cast<double>(r->received));
      o.Set("accepted", static_cast<double>(r->accepted));
      o.Set("lost", static_cast<double>(r->lost));
    }
    if (const RtpTransmitterStats* t = manager_->txStats(id)) o.Set("packetsSent", static_cast<double>(t->packetsSent));
    return o;
  }

  Napi::ObjectReference networkRef_;
  std::unique_ptr<LocalMediaClock> media_;
  std::unique_ptr<StreamManager> manager_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("StreamManager", JsStreamManager::define(env)); }

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
