// engine/sdp for TypeScript: parse (as the engine's session and as its stream
// description, shaped like lab/net/sdp.ts's Aes67StreamDescription so the two can be
// compared field for field), write (parse then write: the engine's normal form), lint.
// Refusals come back as { error: reason, line, message } rather than exceptions, so a
// test can compare them with the lab's SdpError.
#include <napi.h>

#include "engine/sdp/sdp_attributes.hpp"
#include "engine/sdp/sdp_lint.hpp"
#include "engine/sdp/sdp_session.hpp"
#include "engine/sdp/sdp_stream.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::Object errorObject(Napi::Env env, const SdpError& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("error", toString(e.reason()));
  o.Set("line", e.line());
  o.Set("message", e.what());
  return o;
}

std::string textArg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), std::string(fn) + "(text: string)");
  return info[0].As<Napi::String>().Utf8Value();
}

Napi::Array attributesToJs(Napi::Env env, const std::vector<SdpAttribute>& list) {
  Napi::Array a = Napi::Array::New(env, list.size());
  for (std::uint32_t i = 0; i < list.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", list[i].name);
    if (list[i].hasValue) o.Set("value", list[i].value);
    o.Set("line", list[i].line);
    a.Set(i, o);
  }
  return a;
}

Napi::Object connectionToJs(Napi::Env env, const SdpConnection& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("netType", c.netType);
  o.Set("addrType", c.addrType);
  o.Set("address", c.address);
  if (c.ttl) o.Set("ttl", *c.ttl);
  if (c.count) o.Set("count", *c.count);
  o.Set("line", c.line);
  return o;
}

// parseSdp(text) -> the session as the engine holds it, or { error, line, message }.
Napi::Value parseSdpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SdpSession s;
  try {
    s = parseSdp(textArg(info, "parseSdp"));
  } catch (const SdpError& e) {
    return errorObject(env, e);
  }
  Napi::Object o = Napi::Object::New(env);
  Napi::Object origin = Napi::Object::New(env);
  origin.Set("username", s.origin.username);
  origin.Set("sessionId", s.origin.sessionId);
  origin.Set("sessionVersion", s.origin.sessionVersion);
  origin.Set("netType", s.origin.netType);
  origin.Set("addrType", s.origin.addrType);
  origin.Set("address", s.origin.address);
  o.Set("origin", origin);
  o.Set("name", s.name);
  if (s.information) o.Set("information", *s.information);
  if (s.connection) o.Set("connection", connectionToJs(env, *s.connection));
  o.Set("attributes", attributesToJs(env, s.attributes));
  Napi::Array media = Napi::Array::New(env, s.media.size());
  for (std::uint32_t i = 0; i < s.media.size(); ++i) {
    const SdpMedia& m = s.media[i];
    Napi::Object mo = Napi::Object::New(env);
    mo.Set("media", m.media);
    mo.Set("port", m.port);
    if (m.portCount) mo.Set("portCount", *m.portCount);
    mo.Set("proto", m.proto);
    Napi::Array formats = Napi::Array::New(env, m.formats.size());
    for (std::uint32_t f = 0; f < m.formats.size(); ++f) formats.Set(f, m.formats[f]);
    mo.Set("formats", formats);
    if (m.information) mo.Set("information", *m.information);
    Napi::Array conns = Napi::Array::New(env, m.connections.size());
    for (std::uint32_t c = 0; c < m.connections.size(); ++c) conns.Set(c, connectionToJs(env, m.connections[c]));
    mo.Set("connections", conns);
    mo.Set("attributes", attributesToJs(env, m.attributes));
    mo.Set("line", m.line);
    media.Set(i, mo);
  }
  o.Set("media", media);
  return o;
}

// writeSdp(text) -> the engine's writing of what it parsed (RFC order, CRLF), or an error object.
Napi::Value writeSdpJs(const Napi::CallbackInfo& info) {
  try {
    return Napi::String::New(info.Env(), writeSdp(parseSdp(textArg(info, "writeSdp"))));
  } catch (const SdpError& e) {
    return errorObject(info.Env(), e);
  }
}

// describeSdp(text, mediaIndex?) -> the stream as lab/net/sdp.ts describeAes67 shapes it.
Napi::Value describeSdpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string text = textArg(info, "describeSdp");
  std::optional<std::size_t> index;
  if (info.Length() > 1 && info[1].IsNumber()) index = static_cast<std::size_t>(toInt64(info[1], "mediaIndex"));
  SdpSession s;
  SdpStream d;
  try {
    s = parseSdp(text);
    d = describeStream(s, index);
  } catch (const SdpError& e) {
    return errorObject(env, e);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", d.name);
  Napi::Object origin = Napi::Object::New(env);
  origin.Set("username", d.origin.username);
  origin.Set("sessionId", d.origin.sessionId);
  origin.Set("sessionVersion", d.origin.sessionVersion);
  origin.Set("address", d.origin.address);
  o.Set("origin", origin);
  o.Set("destination", formatIpv4(d.destination.address));
  o.Set("port", d.destination.port);
  if (d.ttl) o.Set("ttl", *d.ttl);
  if (d.sourceFilter != 0) o.Set("sourceFilter", formatIpv4(d.sourceFilter));
  o.Set("encoding", toString(d.format.encoding));
  o.Set("sampleRate", d.format.sampleRate);
  o.Set("channels", d.format.channels);
  o.Set("ptimeUs", d.ptimeUs);
  o.Set("framesPerPacket", d.framesPerPacket);
  if (d.maxptimeUs) o.Set("maxptimeUs", *d.maxptimeUs);
  o.Set("payloadType", d.format.payloadType);
  if (d.ptpRefclk) {
    if (d.ptpRefclk->kind == SdpTsRefclk::Kind::kPtpTraceable) {
      o.Set("ptpRefclk", "traceable");
    } else {
      Napi::Object r = Napi::Object::New(env);
      r.Set("gmid", d.ptpRefclk->gmid);
      r.Set("domain", d.ptpRefclk->domain.value_or(0));
      o.Set("ptpRefclk", r);
    }
  }
  if (d.mediaclkOffset) o.Set("mediaclkOffset", static_cast<double>(*d.mediaclkOffset));
  const SdpMedia& m = s.media[d.mediaIndex];
  if (m.information && !m.information->empty()) {
    Napi::Array labels = Napi::Array::New(env, d.channelLabels.size());
    for (std::uint32_t i = 0; i < d.channelLabels.size(); ++i) labels.Set(i, d.channelLabels[i]);
    o.Set("channelLabels", labels);
  }
  if (d.direction == "sendonly" || d.direction == "recvonly" || d.direction == "sendrecv") o.Set("direction", d.direction);
  if (d.keywords) o.Set("keywords", *d.keywords);
  if (d.clockDomain) o.Set("clockDomain", *d.clockDomain);
  Napi::Array notes = Napi::Array::New(env, d.notes.size());
  for (std::uint32_t i = 0; i < d.notes.size(); ++i) {
    Napi::Object n = Napi::Object::New(env);
    n.Set("message", d.notes[i].message);
    n.Set("line", d.notes[i].line);
    notes.Set(i, n);
  }
  // Not enumerable: keeps the object comparable with the lab's description.
  o.DefineProperty(Napi::PropertyDescriptor::Value("notes", notes, napi_default));
  return o;
}

Napi::Value lintSdpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto findings = lintSdp(textArg(info, "lintSdp"));
  Napi::Array a = Napi::Array::New(env, findings.size());
  for (std::uint32_t i = 0; i < findings.size(); ++i) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("severity", toString(findings[i].severity));
    f.Set("code", findings[i].code);
    f.Set("clause", findings[i].clause);
    f.Set("message", findings[i].message);
    if (findings[i].line > 0) f.Set("line", findings[i].line);
    a.Set(i, f);
  }
  return a;
}

// ptimeFrames(ptimeText, rate) -> samples per packet, or an error object.
Napi::Value ptimeFramesJs(const Napi::CallbackInfo& info) {
  const std::string text = textArg(info, "ptimeFrames");
  const auto rate = static_cast<std::uint32_t>(toInt64(info[1], "rate"));
  try {
    return Napi::Number::New(info.Env(), static_cast<double>(parsePtime(SdpAttribute{"ptime", text, true, 0}).framesAt(rate)));
  } catch (const SdpError& e) {
    return errorObject(info.Env(), e);
  }
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("parseSdp", Napi::Function::New(env, parseSdpJs, "parseSdp"));
  exports.Set("writeSdp", Napi::Function::New(env, writeSdpJs, "writeSdp"));
  exports.Set("describeSdp", Napi::Function::New(env, describeSdpJs, "describeSdp"));
  exports.Set("lintSdp", Napi::Function::New(env, lintSdpJs, "lintSdp"));
  exports.Set("ptimeFrames", Napi::Function::New(env, ptimeFramesJs, "ptimeFrames"));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
