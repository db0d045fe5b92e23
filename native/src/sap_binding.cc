// engine/sap for TypeScript: the packet codec (shaped like lab/net/sap.ts so the two can
// be compared), and SapListener / SapAnnouncer on the VirtualNetwork or on real UDP.
// The first constructor argument picks the transport: { network, host } for a host of
// the virtual network, or { interfaceName } for real sockets (RealClock + UdpTransport
// owned by the object).
#include <napi.h>

#include <memory>

#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/sap/sap_announcer.hpp"
#include "engine/sap/sap_listener.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::Value parseSapJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "parseSap(data: Uint8Array)");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  SapPacket p;
  const SapParseError err = parseSap(data.Data(), data.ByteLength(), p);
  Napi::Object o = Napi::Object::New(info.Env());
  if (err != SapParseError::kNone) {
    o.Set("error", toString(err));
    return o;
  }
  o.Set("version", p.version);
  o.Set("messageType", p.deletion ? "delete" : "announce");
  o.Set("encrypted", p.encrypted);
  o.Set("compressed", p.compressed);
  o.Set("msgIdHash", p.msgIdHash);
  o.Set("origin", formatSapOrigin(p));
  o.Set("payloadType", p.payloadType);
  o.Set("sdp", p.sdp);
  o.Set("sdpBytes", Napi::Buffer<std::uint8_t>::Copy(info.Env(), reinterpret_cast<const std::uint8_t*>(p.sdp.data()), p.sdp.size()));
  return o;
}

Napi::Value buildSapJs(const Napi::CallbackInfo& info) {
  const Napi::Object o = info[0].As<Napi::Object>();
  SapBuildOptions b;
  b.deletion = optionalString(o, "messageType", "announce") == "delete";
  const std::int64_t hash = optionalInt(o, "msgIdHash", 0);
  if (hash < 0 || hash > 0xFFFF) throw Napi::RangeError::New(info.Env(), "msgIdHash must be 0..65535");
  b.msgIdHash = static_cast<std::uint16_t>(hash);
  b.origin = toAddress(o.Get("origin"), "origin");
  b.sdp = optionalString(o, "sdp", "");
  b.payloadType = optionalString(o, "payloadType", "application/sdp");
  b.omitPayloadType = optionalBool(o, "omitPayloadType", false);
  b.compressed = optionalBool(o, "compressed", false);
  try {
    const auto bytes = buildSap(b);
    return Napi::Buffer<std::uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// The transport an object runs on: a virtual host (kept alive through the network's JS
// object) or its own real UDP transport.
struct TransportHolder {
  Napi::ObjectReference networkRef;
  Transport* transport = nullptr;
  std::unique_ptr<RealClock> clock;
  std::unique_ptr<UdpTransport> udp;

  void init(const Napi::Value& where) {
    Napi::Env env = where.Env();
    if (!where.IsObject()) throw Napi::TypeError::New(env, "expected { network, host } or { interfaceName }");
    const Napi::Object o = where.As<Napi::Object>();
    if (o.Has("network")) {
      JsVirtualNetwork* network = JsVirtualNetwork::from(o.Get("network"));
      networkRef = Napi::Persistent(o.Get("network").As<Napi::Object>());
      try {
        transport = &network->network().host(toAddress(o.Get("host"), "host"));
      } catch (const std::exception& e) {
        throw Napi::Error::New(env, e.what());
      }
      return;
    }
    clock = std::make_unique<RealClock>();
    try {
      udp = std::make_unique<UdpTransport>(*clock, optionalString(o, "interfaceName", ""));
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    transport = udp.get();
  }
};

Napi::Object sessionToJs(Napi::Env env, const SapSession& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("origin", formatIpv4(s.origin));
  o.Set("msgIdHash", s.msgIdHash);
  o.Set("sdp", s.sdp);
  o.Set("source", formatEndpoint(s.source));
  o.Set("firstHeard", static_cast<double>(s.firstHeard));
  o.Set("lastHeard", static_cast<double>(s.lastHeard));
  o.Set("interval", static_cast<double>(s.interval));
  o.Set("announcements", static_cast<double>(s.announcements));
  return o;
}

class JsSapListener : public Napi::ObjectWrap<JsSapListener> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "SapListener",
                       {InstanceMethod("poll", &JsSapListener::poll), InstanceMethod("sessions", &JsSapListener::sessions),
                        InstanceMethod("stats", &JsSapListener::stats), InstanceMethod("events", &JsSapListener::events),
                        InstanceMethod("close", &JsSapListener::close)});
  }
  // new SapListener(where, { groups?, maxSessions?, minimumTimeoutNs?, interfaceName? })
  explicit JsSapListener(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsSapListener>(info) {
    holder_.init(info[0]);
    SapListenerConfig c;
    if (info.Length() > 1 && info[1].IsObject()) {
      const Napi::Object o = info[1].As<Napi::Object>();
      c.maxSessions = static_cast<std::size_t>(optionalInt(o, "maxSessions", 1024));
      c.minimumTimeout = optionalInt(o, "minimumTimeoutNs", c.minimumTimeout);
      c.interfaceName = optionalString(o, "interfaceName", "");
      if (o.Has("groups") && o.Get("groups").IsArray()) {
        Napi::Array g = o.Get("groups").As<Napi::Array>();
        c.groups.clear();
        for (std::uint32_t i = 0; i < g.Length(); ++i) c.groups.push_back(toEndpoint(g.Get(i), "groups[]"));
      }
    }
    try {
      listener_ = std::make_unique<SapListener>(*holder_.transport, c);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    listener_->setCallback([this](SapEvent e, const SapSession& s) {
      if (events_.size() < 4096) events_.push_back({e, s});  // drained by events(); bounded
    });
  }

 private:
  SapListener& listener(Napi::Env env) {
    if (!listener_) throw Napi::Error::New(env, "SapListener is closed");
    return *listener_;
  }
  Napi::Value poll(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(listener(info.Env()).poll()));
  }
  Napi::Value sessions(const Napi::CallbackInfo& info) {
    const auto list = listener(info.Env()).sessions();
    Napi::Array a = Napi::Array::New(info.Env(), list.size());
    for (std::uint32_t i = 0; i < list.size(); ++i) a.Set(i, sessionToJs(info.Env(), list[i]));
    return a;
  }
  Napi::Value events(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env(), events_.size());
    for (std::uint32_t i = 0; i < events_.size(); ++i) {
      Napi::Object o = sessionToJs(info.Env(), events_[i].second);
      o.Set("event", toString(events_[i].first));
      a.Set(i, o);
    }
    events_.clear();
    return a;
  }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    const SapListenerStats& s = listener(info.Env()).stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("received", static_cast<double>(s.received));
    o.Set("announcements", static_cast<double>(s.announcements));
    o.Set("deletions", static_cast<double>(s.deletions));
    o.Set("added", static_cast<double>(s.added));
    o.Set("changed", static_cast<double>(s.changed));
    o.Set("deleted", static_cast<double>(s.deleted));
    o.Set("timedOut", static_cast<double>(s.timedOut));
    o.Set("evicted", static_cast<double>(s.evicted));
    o.Set("unknownDeletions", static_cast<double>(s.unknownDeletions));
    Napi::Object dropped = Napi::Object::New(info.Env());
    for (std::size_t r = 0; r < s.dropped.size(); ++r) dropped.Set(toString(static_cast<SapDropReason>(r)), static_cast<double>(s.dropped[r]));
    o.Set("dropped", dropped);
    return o;
  }
  void close(const Napi::CallbackInfo&) { listener_.reset(); }

  TransportHolder holder_;
  std::unique_ptr<SapListener> listener_;
  std::vector<std::pair<SapEvent, SapSession>> events_;
};

class JsSapAnnouncer : public Napi::ObjectWrap<JsSapAnnouncer> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "SapAnnouncer",
                       {InstanceMethod("add", &JsSapAnnouncer::add), InstanceMethod("update", &JsSapAnnouncer::update),
                        InstanceMethod("remove", &JsSapAnnouncer::remove), InstanceMethod("stop", &JsSapAnnouncer::stop),
                        InstanceMethod("poll", &JsSapAnnouncer::poll), InstanceMethod("hashOf", &JsSapAnnouncer::hashOf),
                        InstanceMethod("stats", &JsSapAnnouncer::stats)});
  }
  // new SapAnnouncer(where, { group?, intervalNs?, useBandwidthRule?, compress?, origin?, ttl?, seed? })
  explicit JsSapAnnouncer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsSapAnnouncer>(info) {
    holder_.init(info[0]);
    SapAnnouncerConfig c;
    if (info.Length() > 1 && info[1].IsObject()) {
      const Napi::Object o = info[1].As<Napi::Object>();
      if (o.Has("group")) c.group = toEndpoint(o.Get("group"), "group");
      if (o.Has("origin")) c.origin = toAddress(o.Get("origin"), "origin");
      c.interval = optionalInt(o, "intervalNs", c.interval);
      c.useBandwidthRule = optionalBool(o, "useBandwidthRule", false);
      c.compress = optionalBool(o, "compress", false);
      c.ttl = static_cast<int>(optionalInt(o, "ttl", c.ttl));
      c.seed = static_cast<std::uint64_t>(optionalInt(o, "seed", 1));
      c.interfaceName = optionalString(o, "interfaceName", "");
    }
    try {
      announcer_ = std::make_unique<SapAnnouncer>(*holder_.transport, c);
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
  Napi::Value add(const Napi::CallbackInfo& info) {
    const std::string sdp = info[0].ToString().Utf8Value();
    return Napi::Number::New(info.Env(), guard(info.Env(), [&] { return announcer_->add(sdp); }));
  }
  void update(const Napi::CallbackInfo& info) {
    const auto h = static_cast<SapAnnouncer::Handle>(toInt64(info[0], "handle"));
    const std::string sdp = info[1].ToString().Utf8Value();
    guard(info.Env(), [&] { announcer_->update(h, sdp); });
  }
  void remove(const Napi::CallbackInfo& info) {
    const auto h = static_cast<SapAnnouncer::Handle>(toInt64(info[0], "handle"));
    guard(info.Env(), [&] { announcer_->remove(h); });
  }
  void stop(const Napi::CallbackInfo&) { announcer_->stop(); }
  Napi::Value poll(const Napi::CallbackInfo& info) {
    const Nanoseconds next = announcer_->poll();
    if (next == std::numeric_limits<Nanoseconds>::max()) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(next));
  }
  Napi::Value hashOf(const Napi::CallbackInfo& info) {
    const auto h = static_cast<SapAnnouncer::Handle>(toInt64(info[0], "handle"));
    return Napi::Number::New(info.Env(), guard(info.Env(), [&] { return announcer_->hashOf(h); }));
  }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    const auto& s = announcer_->stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("announcementsSent", static_cast<double>(s.announcementsSent));
    o.Set("deletionsSent", static_cast<double>(s.deletionsSent));
    o.Set("sendErrors", static_cast<double>(s.sendErrors));
    return o;
  }

  TransportHolder holder_;
  std::unique_ptr<SapAnnouncer> announcer_;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("parseSap", Napi::Function::New(env, parseSapJs, "parseSap"));
  exports.Set("buildSap", Napi::Function::New(env, buildSapJs, "buildSap"));
  exports.Set("sapHasZlib", Napi::Boolean::New(env, sapHasZlib()));
  exports.Set("SapListener", JsSapListener::define(env));
  exports.Set("SapAnnouncer", JsSapAnnouncer::define(env));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
