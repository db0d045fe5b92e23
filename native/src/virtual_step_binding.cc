// One step of lab/net/lab-transport.ts runVirtual in a single call: the next moment
// anything is due (the earliest datagram in flight or the actors' earliest due time), the
// clock advanced to it, the datagrams due then delivered, and whether the network
// delivered anything since the previous step (so the scheduler polls the actors that only
// wake for datagrams on the steps that brought some). Three calls across N-API per step
// become one; what happens is what the three calls did.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "native/src/base_binding.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

// virtualStep(network, clock, untilNs, dueNs, state: Float64Array(3)) -> boolean
//   state[0] <- now after the step; state[1] <- 1 when datagrams were delivered since the
//   previous step (this one's deliveries, and any delivered at once by sends in between);
//   state[2]: the network's delivered count after the previous step (-1 before the first).
// Returns false (and does nothing) when the next moment is after untilNs.
Napi::Value virtualStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsTypedArray()) {
    throw Napi::TypeError::New(env, "virtualStep(network, clock, untilNs: number, dueNs: number, state: Float64Array(3))");
  }
  VirtualNetwork& network = JsVirtualNetwork::from(info[0])->network();
  VirtualClock& clock = JsVirtualClock::from(info[1])->clock();
  const double until = info[2].As<Napi::Number>().DoubleValue();
  const double due = info[3].As<Napi::Number>().DoubleValue();
  Napi::TypedArray array = info[4].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_float64_array || array.ElementLength() < 3) {
    throw Napi::TypeError::New(env, "virtualStep: state must be a Float64Array of 3");
  }
  double* state = reinterpret_cast<double*>(static_cast<std::uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());

  const std::uint64_t before = network.stats().delivered;
  const bool deliveredBetween = state[2] < 0 || static_cast<double>(before) != state[2];
  const Nanoseconds inFlight = network.nextDeliveryTime();
  double next = inFlight == std::numeric_limits<Nanoseconds>::max() ? INFINITY : static_cast<double>(inFlight);
  if (due < next) next = due;
  if (!(next <= until)) return Napi::Boolean::New(env, false);
  if (next > static_cast<double>(clock.now())) clock.advanceTo(static_cast<Nanoseconds>(std::ceil(next)));
  network.deliverDue();
  const std::uint64_t after = network.stats().delivered;
  state[0] = static_cast<double>(clock.now());
  state[1] = deliveredBetween || after != before ? 1 : 0;
  state[2] = static_cast<double>(after);
  return Napi::Boolean::New(env, true);
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("virtualStep", Napi::Function::New(env, virtualStep, "virtualStep")); }

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
