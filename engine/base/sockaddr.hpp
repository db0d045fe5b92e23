// Ipv4Endpoint (host byte order) as the POSIX socket calls take it. Kept out of
// endpoint.hpp, which stays free of system headers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include "engine/base/endpoint.hpp"

namespace aes67 {

inline sockaddr_in toSockaddr(const Ipv4Endpoint& e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(e.address);
  sa.sin_port = htons(e.port);
  return sa;
}

}  // namespace aes67
