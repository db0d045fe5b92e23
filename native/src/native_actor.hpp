// A lab actor that lives in C++ (lab/net/lab-transport.ts TimedActor, native side): the
// virtual scheduler (virtual_actors_binding.cc) polls it without crossing into JavaScript.
// A binding that owns one hands it to TypeScript as `nativeActor()`, an External the
// scheduler unwraps; the owning JS object stays alive while the scheduler holds it.
#pragma once

#include <napi.h>

#include "engine/base/clock.hpp"

namespace aes67::native {

class NativeActor {
 public:
  // What TimedActor.pollOn says: polled at every step, only when due, or when due and on
  // every step the network delivered datagrams; or (native actors only) when due and on
  // every step on which pending() says something came for it.
  enum class PollOn { kEveryStep = 0, kDue = 1, kDueOrDelivery = 2, kDueOrPending = 3 };

  virtual ~NativeActor() = default;
  // Does what is due at `now` (ns); returns when it next wants to run (ns, may be
  // fractional as the TypeScript actors' are; +infinity: only when datagrams come).
  virtual double poll(Nanoseconds now) = 0;
  virtual PollOn pollOn() const = 0;
  // kDueOrPending: whether it has something to do besides what it said was due (datagrams
  // for its own sockets, a change made to it since its last poll).
  virtual bool pending() const { return false; }
};

// The handle a binding gives TypeScript for `actor` (valid as long as its owner lives).
inline Napi::Value nativeActorHandle(Napi::Env env, NativeActor* actor) { return Napi::External<NativeActor>::New(env, actor); }

}  // namespace aes67::native
