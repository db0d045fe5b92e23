// engine/base for TypeScript: VirtualClock, VirtualNetwork, DatagramSocket (of any
// Transport), FrameRingBuffer and Prng. Times are nanoseconds as JS numbers (exact up to 104 days).
#include <napi.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "engine/base/prng.hpp"
#include "engine/base/ring_buffer.hpp"
#include "engine/base/virtual_network.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

Napi::FunctionReference* gClockConstructor = nullptr;
Napi::FunctionReference* gNetworkConstructor = nullptr;
Napi::FunctionReference* gSocketConstructor = nullptr;

}  // namespace

JsVirtualClock::JsVirtualClock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsVirtualClock>(info) {
  const Nanoseconds start = info.Length() > 0 ? toInt64(info[0], "start") : 0;
  clock_ = std::make_unique<VirtualClock>(start);
}

Napi::Function JsVirtualClock::define(Napi::Env env) {
  return DefineClass(env, "VirtualClock",
                     {InstanceMethod("now", &JsVirtualClock::now), InstanceMethod("advanceTo", &JsVirtualClock::advanceTo),
                      InstanceMethod("advanceBy", &JsVirtualClock::advanceBy)});
}

Napi::Value JsVirtualClock::now(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(clock_->now()));
}

void JsVirtualClock::advanceTo(const Napi::CallbackInfo& info) {
  try {
    clock_->advanceTo(toInt64(info[0], "time"));
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  }
}

void JsVirtualClock::advanceBy(const Napi::CallbackInfo& info) {
  try {
    clock_->advanceBy(toInt64(info[0], "step"));
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  }
}

JsVirtualClock* JsVirtualClock::from(const Napi::Value& value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(gClockConstructor->Value())) {
    throw Napi::TypeError::New(value.Env(), "expected a VirtualClock");
  }
  return Unwrap(value.As<Napi::Object>());
}

// ---------------------------------------------------------------- VirtualNetwork
JsVirtualNetwork::JsVirtualNetwork(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsVirtualNetwork>(info) {
  JsVirtualClock* clock = JsVirtualClock::from(info[0]);
  clockRef_ = Napi::Persistent(info[0].As<Napi::Object>());
  const Nanoseconds baseDelay = info.Length() > 1 ? toInt64(info[1], "baseDelay") : 0;
  network_ = std::make_unique<VirtualNetwork>(clock->clock(), baseDelay);
}

Napi::Function JsVirtualNetwork::define(Napi::Env env) {
  return DefineClass(env, "VirtualNetwork",
                     {InstanceMethod("addHost", &JsVirtualNetwork::addHost),
                      InstanceMethod("openSocket", &JsVirtualNetwork::openSocket),
                      InstanceMethod("setImpairment", &JsVirtualNetwork::setImpairment),
                      InstanceMethod("setBaseDelay", &JsVirtualNetwork::setBaseDelay),
                      InstanceMethod("deliverDue", &JsVirtualNetwork::deliverDue),
                      InstanceMethod("nextDeliveryTime", &JsVirtualNetwork::nextDeliveryTime),
                      InstanceMethod("stats", &JsVirtualNetwork::stats)});
}

void JsVirtualNetwork::addHost(const Napi::CallbackInfo& info) {
  try {
    network_->addHost(info[0].ToString().Utf8Value(), toAddress(info[1], "address"));
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Value JsVirtualNetwork::openSocket(const Napi::CallbackInfo& info) {
  const SocketOptions options = toSocketOptions(info.Length() > 1 ? info[1] : info.Env().Undefined());
  std::unique_ptr<DatagramSocket> socket;
  try {
    socket = network_->host(toAddress(info[0], "host")).open(options);
    network_->watch(*socket);  // a TypeScript actor reads it (virtual_actors_binding.cc wakes it)
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return JsDatagramSocket::wrap(info.Env(), Value(), std::move(socket));
}

void JsVirtualNetwork::setImpairment(const Napi::CallbackInfo& info) {
  if (info[0].IsNull() || info[0].IsUndefined()) {
    impairment_.Reset();
    network_->setImpairment(nullptr);
    return;
  }
  impairment_ = Napi::Persistent(info[0].As<Napi::Function>());
  Napi::Env env = info.Env();
  // Called synchronously inside send(), which JS invoked, so we are on the JS thread.
  network_->setImpairment([this, env](const VirtualPacket& p, std::vector<Nanoseconds>& delays) {
    Napi::Object packet = Napi::Object::New(env);
    packet.Set("source", formatEndpoint(p.source));
    packet.Set("destination", formatEndpoint(p.destination));
    packet.Set("size", static_cast<double>(p.size));
    packet.Set("sentAt", static_cast<double>(p.sentAt));
    packet.Set("dscp", p.dscp);
    packet.Set("data", Napi::Buffer<std::uint8_t>::Copy(env, p.data, p.size));
    Napi::Value result = impairment_.Call({packet});
    if (!result.IsArray()) {
      throw Napi::TypeError::New(env, "impairment must return an array of extra delays (ns)");
    }
    Napi::Array array = result.As<Napi::Array>();
    delays.clear();
    for (std::uint32_t i = 0; i < array.Length(); ++i) delays.push_back(toInt64(array.Get(i), "delay"));
  });
}

void JsVirtualNetwork::setBaseDelay(const Napi::CallbackInfo& info) {
  network_->setBaseDelay(toInt64(info[0], "baseDelay"));
}

void JsVirtualNetwork::deliverDue(const Napi::CallbackInfo&) { network_->deliverDue(); }

Napi::Value JsVirtualNetwork::nextDeliveryTime(const Napi::CallbackInfo& info) {
  const Nanoseconds t = network_->nextDeliveryTime();
  if (t == std::numeric_limits<Nanoseconds>::max()) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(t));
}

Napi::Value JsVirtualNetwork::stats(const Napi::CallbackInfo& info) {
  const VirtualNetworkStats& s = network_->stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("sent", static_cast<double>(s.sent));
  o.Set("delivered", static_cast<double>(s.delivered));
  o.Set("droppedByImpairment", static_cast<double>(s.droppedByImpairment));
  o.Set("duplicatedByImpairment", static_cast<double>(s.duplicatedByImpairment));
  o.Set("noReceiver", static_cast<double>(s.noReceiver));
  o.Set("queueOverflow", static_cast<double>(s.queueOverflow));
  return o;
}

JsVirtualNetwork* JsVirtualNetwork::from(const Napi::Value& value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(gNetworkConstructor->Value())) {
    throw Napi::TypeError::New(value.Env(), "expected a VirtualNetwork");
  }
  return Unwrap(value.As<Napi::Object>());
}

// ---------------------------------------------------------------- DatagramSocket
SocketOptions toSocketOptions(const Napi::Value& value) {
  SocketOptions options;
  if (!value.IsObject()) return options;
  const Napi::Object o = value.As<Napi::Object>();
  options.localPort = static_cast<std::uint16_t>(optionalInt(o, "port", 0));
  options.dscp = static_cast<int>(optionalInt(o, "dscp", 0));
  options.multicastTtl = static_cast<int>(optionalInt(o, "ttl", options.multicastTtl));
  options.multicastLoop = optionalBool(o, "multicastLoop", true);
  options.transmitTimestamps = optionalBool(o, "transmitTimestamps", false);
  options.receiveQueueLimit = static_cast<std::size_t>(optionalInt(o, "receiveQueueLimit", 4096));
  options.interfaceName = optionalString(o, "interfaceName", "");
  options.receiveBufferBytes = static_cast<std::size_t>(optionalInt(o, "receiveBufferBytes", static_cast<std::int64_t>(options.receiveBufferBytes)));
  const std::string bind = optionalString(o, "bindAddress", "");
  if (!bind.empty()) options.bindAddress = toAddress(Napi::String::New(value.Env(), bind), "bindAddress");
  return options;
}

// The socket travels into the constructor as an External: JS cannot construct one itself.
JsDatagramSocket::JsDatagramSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsDatagramSocket>(info) {
  if (info.Length() < 2 || !info[1].IsExternal()) throw Napi::TypeError::New(info.Env(), "sockets are made by openSocket()/open()");
  ownerRef_ = Napi::Persistent(info[0].As<Napi::Object>());
  socket_.reset(info[1].As<Napi::External<DatagramSocket>>().Data());
}

Napi::Object JsDatagramSocket::wrap(Napi::Env env, Napi::Object owner, std::unique_ptr<DatagramSocket> socket) {
  return gSocketConstructor->New({owner, Napi::External<DatagramSocket>::New(env, socket.release())});
}

Napi::Function JsDatagramSocket::define(Napi::Env env) {
  return DefineClass(env, "DatagramSocket",
                     {InstanceMethod("send", &JsDatagramSocket::send), InstanceMethod("receive", &JsDatagramSocket::receive),
                      InstanceMethod("join", &JsDatagramSocket::join), InstanceMethod("leave", &JsDatagramSocket::leave),
                      InstanceMethod("localEndpoint", &JsDatagramSocket::localEndpoint),
                      InstanceMethod("receiveOverflows", &JsDatagramSocket::receiveOverflows),
                      InstanceMethod("lastTransmitTime", &JsDatagramSocket::lastTransmitTime),
                      InstanceMethod("close", &JsDatagramSocket::close)});
}

DatagramSocket& JsDatagramSocket::socket(Napi::Env env) {
  if (!socket_) throw Napi::Error::New(env, "socket is closed");
  return *socket_;
}

void JsDatagramSocket::send(const Napi::CallbackInfo& info) {
  const Ipv4Endpoint to = toEndpoint(info[0], "destination");
  if (!info[1].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "send(destination, data: Uint8Array)");
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  socket(info.Env()).send(to, data.Data(), data.ByteLength());
}

Napi::Value JsDatagramSocket::receive(const Napi::CallbackInfo& info) {
  auto got = socket(info.Env()).receive(buffer_.data(), buffer_.size());
  if (!got) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("source", formatEndpoint(got->source));
  o.Set("destination", formatEndpoint(got->destination));
  o.Set("receivedAt", static_cast<double>(got->receivedAt));
  o.Set("dscp", got->dscp);
  o.Set("truncated", got->truncated);
  o.Set("data", Napi::Buffer<std::uint8_t>::Copy(info.Env(), buffer_.data(), std::min(got->size, buffer_.size())));
  return o;
}

void JsDatagramSocket::join(const Napi::CallbackInfo& info) {
  const Ipv4Address source = info.Length() > 1 && info[1].IsString() ? toAddress(info[1], "source") : 0;
  try {
    socket(info.Env()).joinMulticast(toAddress(info[0], "group"), source);
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

void JsDatagramSocket::leave(const Napi::CallbackInfo& info) {
  const Ipv4Address source = info.Length() > 1 && info[1].IsString() ? toAddress(info[1], "source") : 0;
  socket(info.Env()).leaveMulticast(toAddress(info[0], "group"), source);
}

Napi::Value JsDatagramSocket::localEndpoint(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), formatEndpoint(socket(info.Env()).localEndpoint()));
}

Napi::Value JsDatagramSocket::receiveOverflows(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(socket(info.Env()).receiveOverflows()));
}

// lastTransmitTime(timeoutNs = 0): when the last datagram sent left (the kernel's transmit
// stamp, transport time), or null: none yet within the time-out, or a socket without them.
Napi::Value JsDatagramSocket::lastTransmitTime(const Napi::CallbackInfo& info) {
  const double timeout = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  if (!(timeout >= 0 && timeout <= 1e9)) throw Napi::RangeError::New(info.Env(), "lastTransmitTime(timeoutNs): give 0..1e9 ns");
  const auto sent = socket(info.Env()).lastTransmitTime(static_cast<Nanoseconds>(timeout));
  if (!sent) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(*sent));
}

void JsDatagramSocket::close(const Napi::CallbackInfo&) { socket_.reset(); }

// ---------------------------------------------------------------- FrameRingBuffer
namespace {

class JsFrameRingBuffer : public Napi::ObjectWrap<JsFrameRingBuffer> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "FrameRingBuffer",
                       {InstanceMethod("push", &JsFrameRingBuffer::push), InstanceMethod("pop", &JsFrameRingBuffer::pop),
                        InstanceAccessor("fill", &JsFrameRingBuffer::fill, nullptr),
                        InstanceAccessor("capacity", &JsFrameRingBuffer::capacity, nullptr),
                        InstanceAccessor("channels", &JsFrameRingBuffer::channels, nullptr)});
  }
  explicit JsFrameRingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsFrameRingBuffer>(info) {
    try {
      ring_ = std::make_unique<FrameRingBuffer>(static_cast<std::size_t>(toInt64(info[0], "capacityFrames")),
                                                static_cast<std::size_t>(toInt64(info[1], "channels")));
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(info.Env(), e.what());
    }
  }

 private:
  Napi::Value push(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "push(frames: Float32Array)");
    Napi::Float32Array a = info[0].As<Napi::Float32Array>();
    if (a.ElementLength() % ring_->channels() != 0) {
      throw Napi::RangeError::New(info.Env(), "push: sample count is not a whole number of frames");
    }
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->push(a.Data(), a.ElementLength() / ring_->channels())));
  }
  Napi::Value pop(const Napi::CallbackInfo& info) {
    const std::size_t want = static_cast<std::size_t>(toInt64(info[0], "frames"));
    std::vector<float> tmp(want * ring_->channels());
    const std::size_t got = ring_->pop(tmp.data(), want);
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), got * ring_->channels());
    std::copy(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(got * ring_->channels()), out.Data());
    return out;
  }
  Napi::Value fill(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ring_->fill())); }
  Napi::Value capacity(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->capacity()));
  }
  Napi::Value channels(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->channels()));
  }
  std::unique_ptr<FrameRingBuffer> ring_;
};

// ---------------------------------------------------------------- Prng
class JsPrng : public Napi::ObjectWrap<JsPrng> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Prng",
                       {InstanceMethod("next", &JsPrng::next), InstanceMethod("uniform", &JsPrng::uniform),
                        InstanceMethod("normal", &JsPrng::normal)});
  }
  explicit JsPrng(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<JsPrng>(info), prng_(static_cast<std::uint64_t>(toInt64(info[0], "seed"))) {}

 private:
  Napi::Value next(const Napi::CallbackInfo& info) { return Napi::BigInt::New(info.Env(), prng_.next()); }
  Napi::Value uniform(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), prng_.uniform()); }
  Napi::Value normal(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), prng_.normal()); }
  Prng prng_;
};

void init(Napi::Env env, Napi::Object exports) {
  Napi::Function clock = JsVirtualClock::define(env);
  Napi::Function network = JsVirtualNetwork::define(env);
  Napi::Function socket = JsDatagramSocket::define(env);
  gClockConstructor = new Napi::FunctionReference(Napi::Persistent(clock));
  gNetworkConstructor = new Napi::FunctionReference(Napi::Persistent(network));
  gSocketConstructor = new Napi::FunctionReference(Napi::Persistent(socket));
  exports.Set("VirtualClock", clock);
  exports.Set("VirtualNetwork", network);
  exports.Set("FrameRingBuffer", JsFrameRingBuffer::define(env));
  exports.Set("Prng", JsPrng::define(env));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
