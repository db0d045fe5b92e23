#include "native/src/registry.hpp"

#include <stdexcept>
#include <vector>

namespace aes67::native {

namespace {
std::vector<BindingInit>& bindings() {
  static std::vector<BindingInit> list;
  return list;
}
}  // namespace

bool registerBinding(BindingInit init) {
  bindings().push_back(init);
  return true;
}

void initBindings(Napi::Env env, Napi::Object exports) {
  for (BindingInit init : bindings()) init(env, exports);
}

std::int64_t toInt64(const Napi::Value& value, const char* what) {
  if (value.IsBigInt()) {
    bool lossless = false;
    const std::int64_t v = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throw Napi::TypeError::New(value.Env(), std::string(what) + " does not fit in 64 bits");
    return v;
  }
  if (value.IsNumber()) {
    const double d = value.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<std::int64_t>(d))) {
      throw Napi::TypeError::New(value.Env(), std::string(what) + " must be an integer, got " + std::to_string(d));
    }
    return static_cast<std::int64_t>(d);
  }
  throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a number or bigint");
}

Ipv4Endpoint toEndpoint(const Napi::Value& value, const char* what) {
  if (!value.IsString()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be 'a.b.c.d:port'");
  try {
    return parseEndpoint(value.As<Napi::String>().Utf8Value());
  } catch (const std::invalid_argument& e) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + ": " + e.what());
  }
}

Ipv4Address toAddress(const Napi::Value& value, const char* what) {
  if (!value.IsString()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be 'a.b.c.d'");
  try {
    return parseIpv4(value.As<Napi::String>().Utf8Value());
  } catch (const std::invalid_argument& e) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + ": " + e.what());
  }
}

std::int64_t optionalInt(const Napi::Object& options, const char* key, std::int64_t fallback) {
  if (!options.Has(key) || options.Get(key).IsUndefined()) return fallback;
  return toInt64(options.Get(key), key);
}

bool optionalBool(const Napi::Object& options, const char* key, bool fallback) {
  if (!options.Has(key) || options.Get(key).IsUndefined()) return fallback;
  return options.Get(key).ToBoolean().Value();
}

std::string optionalString(const Napi::Object& options, const char* key, const std::string& fallback) {
  if (!options.Has(key) || options.Get(key).IsUndefined()) return fallback;
  return options.Get(key).ToString().Utf8Value();
}

}  // namespace aes67::native
