// engine/mdns for TypeScript: the DNS codec (shaped so it can be compared with
// dns-packet, which the lab's mDNS peers use) and the DNS-SD browser on a host of the
// VirtualNetwork ({ network, host }) or on real UDP ({ interfaceName }).
#include <napi.h>

#include <limits>
#include <memory>

#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/mdns/dns_sd_browser.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::Value recordData(Napi::Env env, const DnsRecord& r) {
  switch (r.type) {
    case dns::kA: return Napi::String::New(env, formatIpv4(r.address));
    case dns::kPtr: return Napi::String::New(env, formatDnsName(r.target));
    case dns::kSrv: {
      Napi::Object o = Napi::Object::New(env);
      o.Set("priority", r.priority);
      o.Set("weight", r.weight);
      o.Set("port", r.port);
      o.Set("target", formatDnsName(r.target));
      return o;
    }
    case dns::kTxt: {
      Napi::Array a = Napi::Array::New(env, r.txt.size());
      for (std::uint32_t i = 0; i < r.txt.size(); ++i) {
        a.Set(i, Napi::Buffer<std::uint8_t>::Copy(env, reinterpret_cast<const std::uint8_t*>(r.txt[i].data()), r.txt[i].size()));
      }
      return a;
    }
    default: return Napi::Buffer<std::uint8_t>::Copy(env, r.rdata.data(), r.rdata.size());
  }
}

Napi::Array recordsToJs(Napi::Env env, const std::vector<DnsRecord>& list) {
  Napi::Array a = Napi::Array::New(env, list.size());
  for (std::uint32_t i = 0; i < list.size(); ++i) {
    const DnsRecord& r = list[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", formatDnsName(r.name));
    o.Set("type", r.type);
    o.Set("class", r.klass);
    o.Set("flush", r.cacheFlush);
    o.Set("ttl", static_cast<double>(r.ttl));
    o.Set("data", recordData(env, r));
    a.Set(i, o);
  }
  return a;
}

Napi::Value parseDnsJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "parseDns(data: Uint8Array)");
  const Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  DnsMessage m;
  const DnsParseError e = parseDns(data.Data(), data.ByteLength(), m);
  Napi::Object o = Napi::Object::New(info.Env());
  if (e != DnsParseError::kNone) {
    o.Set("error", toString(e));
    return o;
  }
  o.Set("id", m.id);
  o.Set("flags", m.flags);
  o.Set("response", m.isResponse());
  Napi::Array questions = Napi::Array::New(info.Env(), m.questions.size());
  for (std::uint32_t i = 0; i < m.questions.size(); ++i) {
    Napi::Object q = Napi::Object::New(info.Env());
    q.Set("name", formatDnsName(m.questions[i].name));
    q.Set("type", m.questions[i].type);
    q.Set("class", m.questions[i].klass);
    q.Set("unicastResponse", m.questions[i].unicastResponse);
    questions.Set(i, q);
  }
  o.Set("questions", questions);
  o.Set("answers", recordsToJs(info.Env(), m.answers));
  o.Set("authorities", recordsToJs(info.Env(), m.authorities));
  o.Set("additionals", recordsToJs(info.Env(), m.additionals));
  return o;
}

// The transport a browser runs on: a virtual host (kept alive through the network's JS
// object) or its own real UDP transport.
struct Where {
  Napi::ObjectReference networkRef;
  Transport* transport = nullptr;
  std::unique_ptr<RealClock> clock;
  std::unique_ptr<UdpTransport> udp;

  void init(const Napi::Value& where) {
    Napi::Env env = where.Env();
    if (!where.IsObject()) throw Napi::TypeError::New(env, "expected { network, host } or { interfaceName }");
    const Napi::Object o = where.As<Napi::Object>();
    try {
      if (o.Has("network")) {
        JsVirtualNetwork* network = JsVirtualNetwork::from(o.Get("network"));
        networkRef = Napi::Persistent(o.Get("network").As<Napi::Object>());
        transport = &network->network().host(toAddress(o.Get("host"), "host"));
        return;
      }
      clock = std::make_unique<RealClock>();
      udp = std::make_unique<UdpTransport>(*clock, optionalString(o, "interfaceName", ""));
      transport = udp.get();
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }
};

Napi::Object instanceToJs(Napi::Env env, const DnsSdInstance& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", i.name);
  o.Set("fqdn", formatDnsName(i.fqdn));
  if (!i.host.empty()) o.Set("host", formatDnsName(i.host));
  if (i.address != 0) o.Set("address", formatIpv4(i.address));
  o.Set("port", i.port);
  Napi::Array txt = Napi::Array::New(env, i.txt.size());
  for (std::uint32_t k = 0; k < i.txt.size(); ++k) txt.Set(k, i.txt[k]);
  o.Set("txt", txt);
  return o;
}

class JsDnsSdBrowser : public Napi::ObjectWrap<JsDnsSdBrowser> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "DnsSdBrowser",
                       {InstanceMethod("poll", &JsDnsSdBrowser::poll), InstanceMethod("instances", &JsDnsSdBrowser::instances),
                        InstanceMethod("find", &JsDnsSdBrowser::find), InstanceMethod("stats", &JsDnsSdBrowser::stats),
                        InstanceMethod("close", &JsDnsSdBrowser::close)});
  }
  // new DnsSdBrowser(where, { service?, subtype?, interfaceName?, firstIntervalNs?, maxIntervalNs?, maxRecords? })
  explicit JsDnsSdBrowser(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsDnsSdBrowser>(info) {
    where_.init(info[0]);
    DnsSdBrowserConfig c;
    if (info.Length() > 1 && info[1].IsObject()) {
      const Napi::Object o = info[1].As<Napi::Object>();
      c.service = optionalString(o, "service", c.service);
      if (o.Has("subtype")) c.subtype = o.Get("subtype").IsNull() ? std::string() : optionalString(o, "subtype", c.subtype);
      c.interfaceName = optionalString(o, "interfaceName", "");
      c.firstInterval = optionalInt(o, "firstIntervalNs", c.firstInterval);
      c.maxInterval = optionalInt(o, "maxIntervalNs", c.maxInterval);
      c.maxRecords = static_cast<std::size_t>(optionalInt(o, "maxRecords", static_cast<std::int64_t>(c.maxRecords)));
    }
    try {
      browser_ = std::make_unique<DnsSdBrowser>(*where_.transport, c);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  DnsSdBrowser& browser(Napi::Env env) {
    if (!browser_) throw Napi::Error::New(env, "DnsSdBrowser is closed");
    return *browser_;
  }
  Napi::Value poll(const Napi::CallbackInfo& info) {
    const Nanoseconds next = browser(info.Env()).poll();
    if (next == std::numeric_limits<Nanoseconds>::max()) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(next));
  }
  Napi::Value instances(const Napi::CallbackInfo& info) {
    const auto list = browser(info.Env()).instances();
    Napi::Array a = Napi::Array::New(info.Env(), list.size());
    for (std::uint32_t i = 0; i < list.size(); ++i) a.Set(i, instanceToJs(info.Env(), list[i]));
    return a;
  }
  Napi::Value find(const Napi::CallbackInfo& info) {
    const auto i = browser(info.Env()).find(info[0].ToString().Utf8Value());
    return i ? Napi::Value(instanceToJs(info.Env(), *i)) : info.Env().Null();
  }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    const DnsSdBrowserStats& s = browser(info.Env()).stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("received", static_cast<double>(s.received));
    o.Set("responses", static_cast<double>(s.responses));
    o.Set("queriesSent", static_cast<double>(s.queriesSent));
    o.Set("recordsCached", static_cast<double>(s.recordsCached));
    o.Set("cacheFull", static_cast<double>(s.cacheFull));
    o.Set("goodbyes", static_cast<double>(s.goodbyes));
    o.Set("sendErrors", static_cast<double>(s.sendErrors));
    Napi::Object dropped = Napi::Object::New(info.Env());
    for (std::size_t r = 1; r < s.dropped.size(); ++r) dropped.Set(toString(static_cast<DnsParseError>(r)), static_cast<double>(s.dropped[r]));
    o.Set("dropped", dropped);
    return o;
  }
  void close(const Napi::CallbackInfo&) { browser_.reset(); }

  Where where_;
  std::unique_ptr<DnsSdBrowser> browser_;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("parseDns", Napi::Function::New(env, parseDnsJs, "parseDns"));
  exports.Set("DnsSdBrowser", JsDnsSdBrowser::define(env));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
