#include "native/src/js_math.hpp"

namespace aes67::native {

ScalarMath javaScriptMath(Napi::Env env) {
  const Napi::Object m = env.Global().Get("Math").As<Napi::Object>();
  auto unary = [env, m](const char* name) {
    const Napi::Function f = m.Get(name).As<Napi::Function>();
    return [env, f](double v) { return f.Call({Napi::Number::New(env, v)}).As<Napi::Number>().DoubleValue(); };
  };
  auto binary = [env, m](const char* name) {
    const Napi::Function f = m.Get(name).As<Napi::Function>();
    return [env, f](double a, double b) { return f.Call({Napi::Number::New(env, a), Napi::Number::New(env, b)}).As<Napi::Number>().DoubleValue(); };
  };
  return ScalarMath{unary("cos"), unary("sin"), unary("acos"), unary("log10"), binary("pow"), binary("atan2"), binary("hypot")};
}

}  // namespace aes67::native
