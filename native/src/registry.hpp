// Self-registration of binding files and the conversions they share. Each binding file
// defines `static const bool registered = registerBinding(&init)`; addon.cc calls them all.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "engine/base/endpoint.hpp"

namespace aes67::native {

using BindingInit = void (*)(Napi::Env env, Napi::Object exports);
bool registerBinding(BindingInit init);
void initBindings(Napi::Env env, Napi::Object exports);

// A number or bigint argument as int64; throws a TypeError naming `what`.
std::int64_t toInt64(const Napi::Value& value, const char* what);
// "a.b.c.d:port" -> endpoint; throws a TypeError naming `what`.
Ipv4Endpoint toEndpoint(const Napi::Value& value, const char* what);
Ipv4Address toAddress(const Napi::Value& value, const char* what);
// Optional property of an options object, or the fallback when absent/undefined.
std::int64_t optionalInt(const Napi::Object& options, const char* key, std::int64_t fallback);
bool optionalBool(const Napi::Object& options, const char* key, bool fallback);
std::string optionalString(const Napi::Object& options, const char* key, const std::string& fallback);

}  // namespace aes67::native
