// The client address of a request that came through reverse proxies or load balancers we trust
// (`serve --trusted-proxy CIDR`): X-Forwarded-For lists the addresses each proxy saw, the
// client first; read from the right, the first address that is not a trusted proxy is the
// client. Only the peer and addresses appended by trusted proxies are believed: a client may
// write any X-Forwarded-For itself, so its entries left of the first untrusted one are ignored.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace allmende::http {

class TrustedProxies {
 public:
  // Each rule an address ("10.0.0.7", "::1") or a CIDR block ("10.0.0.0/8", "fd00::/8").
  static Result<TrustedProxies> parse(const std::vector<std::string>& rules);

  bool empty() const { return blocks_.empty(); }
  // Whether `address` (textual IPv4 or IPv6) lies in one of the blocks.
  bool trusts(std::string_view address) const;
  // The client of a request from `peer` with these X-Forwarded-For header values (in the order
  // received; each a comma-separated list). `peer` itself when it is not trusted or nothing was
  // forwarded; an entry that is no address ends the walk (the last trusted hop is then taken).
  std::string clientOf(const std::string& peer, const std::vector<std::string_view>& forwardedFor) const;

 private:
  struct Block {
    std::array<uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 128;
  };
  std::vector<Block> blocks_;
};

}  // namespace allmende::http
