// engine/rtsp for TypeScript: the message parser and writer (shaped so they can be
// crossed with lab/net/rtsp-message.ts), the sans-IO RtspClient (bytes in, bytes out,
// time given by the caller, so the lab can carry it over its VirtualStreamHub in virtual
// time), and RtspTcpClient, the same client on a real TCP socket, polled.
#include <napi.h>

#include <limits>
#include <memory>

#include "engine/base/clock.hpp"
#include "engine/rtsp/rtsp_client.hpp"
#include "engine/rtsp/rtsp_message.hpp"
#include "engine/rtsp/rtsp_tcp_client.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::Buffer<std::uint8_t> bytes(Napi::Env env, const std::string& s) {
  return Napi::Buffer<std::uint8_t>::Copy(env, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string bytesArg(const Napi::Value& v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (v.IsTypedArray()) {
    const Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    return std::string(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
  }
  throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a string or Uint8Array");
}

Napi::Object messageToJs(Napi::Env env, const RtspMessage& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", m.isRequest ? "request" : "response");
  if (m.isRequest) {
    o.Set("method", m.method);
    o.Set("url", m.url);
  } else {
    o.Set("status", m.status);
    o.Set("reason", bytes(env, m.reason));
  }
  o.Set("version", m.version);
  Napi::Array headers = Napi::Array::New(env, m.headers.size());
  for (std::uint32_t i = 0; i < m.headers.size(); ++i) {
    Napi::Array h = Napi::Array::New(env, 2);
    h.Set(0u, bytes(env, m.headers[i].name));
    h.Set(1u, bytes(env, m.headers[i].value));
    headers.Set(i, h);
  }
  o.Set("headers", headers);
  o.Set("body", bytes(env, m.body));
  return o;
}

std::vector<std::pair<std::string, std::string>> headersArg(const Napi::Value& v) {
  std::vector<std::pair<std::string, std::string>> out;
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "headers must be an array of [name, value]");
  const Napi::Array a = v.As<Napi::Array>();
  for (std::uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value e = a.Get(i);
    if (!e.IsArray() || e.As<Napi::Array>().Length() != 2) throw Napi::TypeError::New(v.Env(), "headers must be an array of [name, value]");
    out.emplace_back(e.As<Napi::Array>().Get(0u).ToString().Utf8Value(), e.As<Napi::Array>().Get(1u).ToString().Utf8Value());
  }
  return out;
}

Napi::Object parserStatsToJs(Napi::Env env, const RtspParserStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("messages", static_cast<double>(s.messages));
  o.Set("requests", static_cast<double>(s.requests));
  o.Set("responses", static_cast<double>(s.responses));
  o.Set("bytes", static_cast<double>(s.bytes));
  o.Set("blankLines", static_cast<double>(s.blankLines));
  Napi::Object refused = Napi::Object::New(env);
  for (std::size_t r = 1; r < s.refused.size(); ++r) refused.Set(toString(static_cast<RtspParseError>(r)), static_cast<double>(s.refused[r]));
  o.Set("refused", refused);
  return o;
}

class JsRtspParser : public Napi::ObjectWrap<JsRtspParser> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "RtspParser",
                       {InstanceMethod("push", &JsRtspParser::push), InstanceMethod("reset", &JsRtspParser::reset),
                        InstanceMethod("idle", &JsRtspParser::idle), InstanceMethod("stats", &JsRtspParser::stats)});
  }
  explicit JsRtspParser(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsRtspParser>(info) {}

 private:
  // push(bytes) -> { messages, error?, detail? }: every message completed by these bytes.
  Napi::Value push(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "RtspParser.push(bytes: Uint8Array)");
    const Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    const RtspParseResult r = parseRtspMessages(parser_, data.Data(), data.ByteLength());
    Napi::Object o = Napi::Object::New(info.Env());
    Napi::Array messages = Napi::Array::New(info.Env(), r.messages.size());
    for (std::uint32_t i = 0; i < r.messages.size(); ++i) messages.Set(i, messageToJs(info.Env(), r.messages[i]));
    o.Set("messages", messages);
    if (r.error != RtspParseError::kNone) {
      o.Set("error", toString(r.error));
      o.Set("detail", parser_.errorDetail());
    }
    return o;
  }
  void reset(const Napi::CallbackInfo&) { parser_.reset(); }
  Napi::Value idle(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), parser_.idle()); }
  Napi::Value stats(const Napi::CallbackInfo& info) { return parserStatsToJs(info.Env(), parser_.stats()); }

  RtspParser parser_;
};

Napi::Value writeRequestJs(const Napi::CallbackInfo& info) {
  try {
    return bytes(info.Env(), writeRtspRequest(info[0].ToString().Utf8Value(), info[1].ToString().Utf8Value(), headersArg(info[2]),
                                              bytesArg(info[3], "body")));
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Value writeResponseJs(const Napi::CallbackInfo& info) {
  try {
    return bytes(info.Env(), writeRtspResponse(static_cast<int>(toInt64(info[0], "status")), info[1].ToString().Utf8Value(),
                                               headersArg(info[2]), bytesArg(info[3], "body")));
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

RtspClientConfig configFromJs(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "expected { url, ... }");
  const Napi::Object o = v.As<Napi::Object>();
  RtspClientConfig c;
  c.url = optionalString(o, "url", "");
  c.sendOptions = optionalBool(o, "sendOptions", c.sendOptions);
  c.userAgent = optionalString(o, "userAgent", c.userAgent);
  c.connectTimeout = optionalInt(o, "connectTimeoutNs", c.connectTimeout);
  c.responseTimeout = optionalInt(o, "responseTimeoutNs", c.responseTimeout);
  c.retryInitial = optionalInt(o, "retryNs", c.retryInitial);
  c.retryMax = optionalInt(o, "retryMaxNs", c.retryMax);
  c.keepaliveInterval = optionalInt(o, "keepaliveNs", c.keepaliveInterval);
  c.maxOutgoingBytes = static_cast<std::size_t>(optionalInt(o, "maxOutgoingBytes", static_cast<std::int64_t>(c.maxOutgoingBytes)));
  c.maxQueuedEvents = static_cast<std::size_t>(optionalInt(o, "maxQueuedEvents", static_cast<std::int64_t>(c.maxQueuedEvents)));
  return c;
}

Napi::Value timeToJs(Napi::Env env, Nanoseconds t) {
  if (t == std::numeric_limits<Nanoseconds>::max()) return env.Null();
  return Napi::Number::New(env, static_cast<double>(t));
}

Napi::Object eventToJs(Napi::Env env, const RtspClientEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", toString(e.kind));
  o.Set("at", static_cast<double>(e.at));
  if (e.kind == RtspClientEvent::Kind::kError) {
    o.Set("error", toString(e.error));
    o.Set("message", e.message);
    if (e.status) o.Set("status", e.status);
  } else {
    o.Set("sdp", e.sdp);
    o.Set("changed", e.changed);
  }
  return o;
}

Napi::Object clientStatsToJs(Napi::Env env, const RtspClient& c) {
  const RtspClientStats& s = c.stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("connects", static_cast<double>(s.connects));
  o.Set("connected", static_cast<double>(s.connected));
  o.Set("requests", static_cast<double>(s.requests));
  o.Set("describes", static_cast<double>(s.describes));
  o.Set("announcements", static_cast<double>(s.announcements));
  o.Set("unchangedAnnouncements", static_cast<double>(s.unchangedAnnouncements));
  o.Set("serverRequests", static_cast<double>(s.serverRequests));
  o.Set("refusedServerRequests", static_cast<double>(s.refusedServerRequests));
  o.Set("unexpectedResponses", static_cast<double>(s.unexpectedResponses));
  o.Set("ignoredBytes", static_cast<double>(s.ignoredBytes));
  o.Set("droppedEvents", static_cast<double>(s.droppedEvents));
  Napi::Object errors = Napi::Object::New(env);
  for (std::size_t e = 0; e < s.errors.size(); ++e) {
    if (s.errors[e]) errors.Set(toString(static_cast<RtspClientError>(e)), static_cast<double>(s.errors[e]));
  }
  o.Set("errors", errors);
  o.Set("parser", parserStatsToJs(env, c.parserStats()));
  return o;
}

// What both JS client classes show of an RtspClient.
template <typename Derived>
class ClientView : public Napi::ObjectWrap<Derived> {
 public:
  using Napi::ObjectWrap<Derived>::ObjectWrap;

 protected:
  virtual RtspClient& client() = 0;
  Napi::Value events(const Napi::CallbackInfo& info) {
    const auto list = client().takeEvents();
    Napi::Array a = Napi::Array::New(info.Env(), list.size());
    for (std::uint32_t i = 0; i < list.size(); ++i) a.Set(i, eventToJs(info.Env(), list[i]));
    return a;
  }
  Napi::Value state(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), toString(client().state())); }
  Napi::Value current(const Napi::CallbackInfo& info) {
    const auto& sdp = client().currentSdp();
    return sdp ? Napi::String::New(info.Env(), *sdp) : info.Env().Null();
  }
  Napi::Value stats(const Napi::CallbackInfo& info) { return clientStatsToJs(info.Env(), client()); }
  Napi::Value host(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), client().url().host); }
  Napi::Value port(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), client().url().port); }
  Napi::Value url(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), client().config().url); }
};

#define AES67_CLIENT_VIEW_METHODS(T)                                                                      \
  T::InstanceMethod("events", &T::events), T::InstanceMethod("state", &T::state),                        \
      T::InstanceMethod("current", &T::current), T::InstanceMethod("stats", &T::stats),                 \
      T::InstanceAccessor("host", &T::host, nullptr), T::InstanceAccessor("port", &T::port, nullptr),    \
      T::InstanceAccessor("url", &T::url, nullptr)

class JsRtspClient : public ClientView<JsRtspClient> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "RtspClient",
                       {AES67_CLIENT_VIEW_METHODS(JsRtspClient), InstanceMethod("takeLinkCommand", &JsRtspClient::takeLinkCommand),
                        InstanceMethod("connected", &JsRtspClient::connected), InstanceMethod("connectFailed", &JsRtspClient::connectFailed),
                        InstanceMethod("closed", &JsRtspClient::closed), InstanceMethod("receive", &JsRtspClient::receive),
                        InstanceMethod("takeOutgoing", &JsRtspClient::takeOutgoing), InstanceMethod("poll", &JsRtspClient::poll),
                        InstanceMethod("stop", &JsRtspClient::stop)});
  }
  explicit JsRtspClient(const Napi::CallbackInfo& info) : ClientView<JsRtspClient>(info) {
    try {
      client_ = std::make_unique<RtspClient>(configFromJs(info[0]));
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  friend class ClientView<JsRtspClient>;
  RtspClient& client() override { return *client_; }
  Napi::Value takeLinkCommand(const Napi::CallbackInfo& info) {
    switch (client_->takeLinkCommand()) {
      case RtspClient::LinkCommand::kConnect: return Napi::String::New(info.Env(), "connect");
      case RtspClient::LinkCommand::kClose: return Napi::String::New(info.Env(), "close");
      case RtspClient::LinkCommand::kNone: break;
    }
    return info.Env().Null();
  }
  void connected(const Napi::CallbackInfo& info) { client_->connected(toInt64(info[0], "now")); }
  void connectFailed(const Napi::CallbackInfo& info) { client_->connectFailed(toInt64(info[0], "now"), info[1].ToString().Utf8Value()); }
  void closed(const Napi::CallbackInfo& info) {
    client_->closed(toInt64(info[0], "now"), info[1].IsUndefined() ? std::string() : info[1].ToString().Utf8Value());
  }
  void receive(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "RtspClient.receive(bytes: Uint8Array, now)");
    const Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    client_->receive(data.Data(), data.ByteLength(), toInt64(info[1], "now"));
  }
  Napi::Value takeOutgoing(const Napi::CallbackInfo& info) { return bytes(info.Env(), client_->takeOutgoing()); }
  Napi::Value poll(const Napi::CallbackInfo& info) { return timeToJs(info.Env(), client_->poll(toInt64(info[0], "now"))); }
  void stop(const Napi::CallbackInfo&) { client_->stop(); }

  std::unique_ptr<RtspClient> client_;
};

class JsRtspTcpClient : public ClientView<JsRtspTcpClient> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "RtspTcpClient",
                       {AES67_CLIENT_VIEW_METHODS(JsRtspTcpClient), InstanceMethod("poll", &JsRtspTcpClient::poll),
                        InstanceMethod("now", &JsRtspTcpClient::now), InstanceMethod("stop", &JsRtspTcpClient::stop),
                        InstanceMethod("local", &JsRtspTcpClient::local)});
  }
  // new RtspTcpClient({ url, ..., bindAddress?, dscp? }): time is CLOCK_MONOTONIC (UdpTransport's).
  explicit JsRtspTcpClient(const Napi::CallbackInfo& info) : ClientView<JsRtspTcpClient>(info) {
    TcpStreamOptions o;
    if (info[0].IsObject()) {
      const Napi::Object opts = info[0].As<Napi::Object>();
      if (opts.Has("bindAddress") && !opts.Get("bindAddress").IsUndefined()) o.bindAddress = toAddress(opts.Get("bindAddress"), "bindAddress");
      o.dscp = static_cast<int>(optionalInt(opts, "dscp", 0));
    }
    try {
      tcp_ = std::make_unique<RtspTcpClient>(clock_, configFromJs(info[0]), o);
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  friend class ClientView<JsRtspTcpClient>;
  RtspClient& client() override { return tcp_->client(); }
  Napi::Value poll(const Napi::CallbackInfo& info) { return timeToJs(info.Env(), tcp_->poll()); }
  Napi::Value now(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(clock_.now())); }
  void stop(const Napi::CallbackInfo&) { tcp_->stop(); }
  Napi::Value local(const Napi::CallbackInfo& info) {
    if (!tcp_->stream()) return info.Env().Null();
    return Napi::String::New(info.Env(), formatEndpoint(tcp_->stream()->local()));
  }

  RealClock clock_;
  std::unique_ptr<RtspTcpClient> tcp_;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("RtspParser", JsRtspParser::define(env));
  exports.Set("writeRtspRequest", Napi::Function::New(env, writeRequestJs, "writeRtspRequest"));
  exports.Set("writeRtspResponse", Napi::Function::New(env, writeResponseJs, "writeRtspResponse"));
  exports.Set("RtspClient", JsRtspClient::define(env));
  exports.Set("RtspTcpClient", JsRtspTcpClient::define(env));
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxLineBytes", static_cast<double>(kRtspMaxLineBytes));
  limits.Set("maxHeaderBlockBytes", static_cast<double>(kRtspMaxHeaderBlockBytes));
  limits.Set("maxHeaders", static_cast<double>(kRtspMaxHeaders));
  limits.Set("maxBodyBytes", static_cast<double>(kRtspMaxBodyBytes));
  exports.Set("rtspLimits", limits);
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
