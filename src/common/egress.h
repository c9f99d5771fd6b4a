// Which hosts and addresses Allmende may connect to on behalf of a request (remote @context
// documents, notification endpoints): the rule against server-side request forgery (SSRF).
// Callers resolve a host name, check every resolved address here and connect only to the
// addresses that pass, so a name cannot resolve to an allowed address at the check and to a
// forbidden one at the connect (DNS rebinding).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace allmende {

struct EgressOptions {
  // Rules: an address ("192.0.2.7", "::1"), a CIDR block ("10.20.0.0/16", "fd00::/8"), a host
  // name ("ctx.example.org", matched case-insensitively) or a host name suffix ("*.example.org"
  // or ".example.org": every name below example.org).
  std::vector<std::string> allow;  // always allowed (wins over deny and denyPrivate)
  std::vector<std::string> deny;   // refused unless allowed
  // Refuse loopback, private (RFC 1918, unique-local), link-local, carrier-grade NAT,
  // unspecified, multicast and reserved addresses unless allowed. On in production mode.
  bool denyPrivate = false;
};

class EgressPolicy {
 public:
  // Fails (BadRequestData) on a malformed rule.
  static Result<std::shared_ptr<const EgressPolicy>> make(const EgressOptions& options);
  // A policy that allows everything.
  static std::shared_ptr<const EgressPolicy> allowAll();

  // May Allmende connect to `address` (textual IPv4 or IPv6), reached through the host name
  // `host` of a URL (which may itself be an address literal)? Order: allow rules, deny rules,
  // denyPrivate. Refusal: BadRequestData naming the host, the address and the reason.
  Status check(std::string_view host, std::string_view address) const;
  // The check that needs no name resolution: the host name against the rules, and when `host`
  // is an address literal, the full check. Used to refuse obvious cases at once (subscription
  // creation); connections must still call check() with the resolved address.
  Status checkHost(std::string_view host) const;

  // The host of an absolute URL "scheme://[user@]host[:port]/..." (IPv6 without brackets); ""
  // when there is none.
  static std::string hostOf(std::string_view url);

  struct Block {  // an address block; IPv4 as IPv4-mapped IPv6
    std::array<uint8_t, 16> bytes{};
    int prefix = 128;
    bool contains(const std::array<uint8_t, 16>& a) const;
  };

 private:
  struct Rules {
    std::vector<Block> blocks;
    std::vector<std::string> names;     // exact, lower-case
    std::vector<std::string> suffixes;  // ".example.org"
    bool matchesName(std::string_view host) const;
  };
  Rules allow_, deny_;
  bool denyPrivate_ = false;
};

}  // namespace allmende
