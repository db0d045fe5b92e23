// Entry point of the Node addon: every binding file registered itself; call them all.
#include <napi.h>

#include "native/src/registry.hpp"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  aes67::native::initBindings(env, exports);
  exports.Set("addonVersion", Napi::String::New(env, "1"));
  return exports;
}
}  // namespace

NODE_API_MODULE(aes67_native, Init)
