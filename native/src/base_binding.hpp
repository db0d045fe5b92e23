// The JS wrappers of engine/base that other bindings need to reach: a binding that takes
// a VirtualClock or VirtualNetwork argument unwraps it with `from()`.
#pragma once

#include <napi.h>

#include <array>
#include <memory>

#include "engine/base/clock.hpp"
#include "engine/base/virtual_network.hpp"

namespace aes67::native {

class JsVirtualClock : public Napi::ObjectWrap<JsVirtualClock> {
 public:
  static Napi::Function define(Napi::Env env);
  static JsVirtualClock* from(const Napi::Value& value);
  explicit JsVirtualClock(const Napi::CallbackInfo& info);
  VirtualClock& clock() { return *clock_; }

 private:
  Napi::Value now(const Napi::CallbackInfo& info);
  void advanceTo(const Napi::CallbackInfo& info);
  void advanceBy(const Napi::CallbackInfo& info);
  std::unique_ptr<VirtualClock> clock_;
};

class JsVirtualNetwork : public Napi::ObjectWrap<JsVirtualNetwork> {
 public:
  static Napi::Function define(Napi::Env env);
  static JsVirtualNetwork* from(const Napi::Value& value);
  explicit JsVirtualNetwork(const Napi::CallbackInfo& info);
  VirtualNetwork& network() { return *network_; }

 private:
  void addHost(const Napi::CallbackInfo& info);
  Napi::Value openSocket(const Napi::CallbackInfo& info);
  void setImpairment(const Napi::CallbackInfo& info);
  void setBaseDelay(const Napi::CallbackInfo& info);
  void deliverDue(const Napi::CallbackInfo& info);
  Napi::Value nextDeliveryTime(const Napi::CallbackInfo& info);
  Napi::Value stats(const Napi::CallbackInfo& info);
  Napi::ObjectReference clockRef_;  // keeps the clock alive as long as the network
  Napi::FunctionReference impairment_;
  std::unique_ptr<VirtualNetwork> network_;
};

// A DatagramSocket of any Transport (virtual network or real UDP) as a JS object. Made only
// by wrap(): the owner (network or transport object) is kept alive as long as the socket.
class JsDatagramSocket : public Napi::ObjectWrap<JsDatagramSocket> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, Napi::Object owner, std::unique_ptr<DatagramSocket> socket);
  explicit JsDatagramSocket(const Napi::CallbackInfo& info);

 private:
  DatagramSocket& socket(Napi::Env env);
  void send(const Napi::CallbackInfo& info);
  Napi::Value receive(const Napi::CallbackInfo& info);
  void join(const Napi::CallbackInfo& info);
  void leave(const Napi::CallbackInfo& info);
  Napi::Value localEndpoint(const Napi::CallbackInfo& info);
  Napi::Value receiveOverflows(const Napi::CallbackInfo& info);
  Napi::Value lastTransmitTime(const Napi::CallbackInfo& info);
  void close(const Napi::CallbackInfo& info);
  Napi::ObjectReference ownerRef_;
  std::unique_ptr<DatagramSocket> socket_;
  std::array<std::uint8_t, 65536> buffer_{};
};

// SocketOptions from a JS options object ({port, dscp, ttl, multicastLoop, receiveQueueLimit,
// bindAddress, interfaceName, receiveBufferBytes, transmitTimestamps}); absent keys keep the
// defaults.
SocketOptions toSocketOptions(const Napi::Value& value);

}  // namespace aes67::native
