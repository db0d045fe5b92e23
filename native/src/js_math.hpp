// JavaScript's own Math functions, called from C++: where the addon mirrors TypeScript to
// the bit, a scalar transcendental function must be V8's (glibc's may differ in the last ulp).
#pragma once

#include <napi.h>

#include "native/src/glitch_detector.hpp"

namespace aes67::native {

// A handful of calls per use: each is a call into JavaScript.
ScalarMath javaScriptMath(Napi::Env env);

}  // namespace aes67::native
