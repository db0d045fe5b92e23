// libFuzzer: the DNS message reader and the DNS-SD browser on arbitrary datagrams. What
// parses must write back into bytes that parse to the same message; the browser's cache
// stays within its bound whatever arrives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "engine/mdns/dns_message.hpp"
#include "engine/mdns/dns_sd_browser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static aes67::DnsSdBrowser browser([] {
    aes67::DnsSdBrowserConfig c;
    c.maxRecords = 64;
    return c;
  }());
  static aes67::Nanoseconds now = 0;
  now += 100'000'000;
  browser.handle(data, size, now);
  browser.update(now);
  browser.takeQueries();
  if (browser.cachedRecords() > 64) std::abort();
  (void)browser.instances();

  aes67::DnsMessage m;
  if (aes67::parseDns(data, size, m) != aes67::DnsParseError::kNone) return 0;
  std::vector<std::uint8_t> again;
  try {
    again = aes67::writeDns(m);
  } catch (const std::invalid_argument&) {
    return 0;  // e.g. a label the reader took that the writer's stricter limits refuse
  }
  aes67::DnsMessage back;
  if (aes67::parseDns(again.data(), again.size(), back) != aes67::DnsParseError::kNone) std::abort();
  if (aes67::writeDns(back) != again) std::abort();
  return 0;
}
