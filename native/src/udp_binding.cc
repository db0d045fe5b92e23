// Real UDP sockets for the lab's live peers: engine/base's UdpTransport (interface-pinned
// multicast, DSCP, TTL, kernel receive time stamps) behind the same socket object the
// virtual network gives, so a peer runs unchanged on either. Times are CLOCK_MONOTONIC
// nanoseconds (RealClock).
#include <napi.h>

#include <memory>
#include <stdexcept>

#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

class JsUdpTransport : public Napi::ObjectWrap<JsUdpTransport> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "UdpTransport",
                       {InstanceMethod("open", &JsUdpTransport::open), InstanceMethod("now", &JsUdpTransport::now),
                        InstanceAccessor("address", &JsUdpTransport::address, nullptr)});
  }
  // new UdpTransport(interfaceName?): "" or absent lets the routing table choose.
  explicit JsUdpTransport(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsUdpTransport>(info) {
    const std::string interfaceName = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    try {
      transport_ = std::make_unique<UdpTransport>(clock_, interfaceName);
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  Napi::Value open(const Napi::CallbackInfo& info) {
    const SocketOptions options = toSocketOptions(info.Length() > 0 ? info[0] : info.Env().Undefined());
    try {
      return JsDatagramSocket::wrap(info.Env(), Value(), transport_->open(options));
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }
  Napi::Value now(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(clock_.now())); }
  Napi::Value address(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), formatIpv4(transport_->localAddress()));
  }

  RealClock clock_;
  std::unique_ptr<UdpTransport> transport_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("UdpTransport", JsUdpTransport::define(env)); }

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
