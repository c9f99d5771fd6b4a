#include "common/egress.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace allmende {

namespace {

using Bytes = std::array<uint8_t, 16>;

std::string lowerHost(std::string_view host) {
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  while (!h.empty() && h.back() == '.') h.pop_back();  // "example.org." is example.org
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}

// An IPv4 or IPv6 address; IPv4 becomes IPv4-mapped IPv6 (::ffff:a.b.c.d).
std::optional<Bytes> parseAddress(std::string_view text) {
  std::string s = lowerHost(text);
  size_t zone = s.find('%');  // fe80::1%eth0
  if (zone != std::string::npos) s.resize(zone);
  Bytes b{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    b[10] = b[11] = 0xff;
    std::memcpy(&b[12], &v4, 4);
    return b;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(b.data(), &v6, 16);
    return b;
  }
  return std::nullopt;
}

EgressPolicy::Block block(std::string_view address, int prefix) {
  EgressPolicy::Block k;
  k.bytes = *parseAddress(address);
  k.prefix = address.find(':') == std::string_view::npos ? prefix + 96 : prefix;
  return k;
}

// The ranges that are not the public internet (IANA special-purpose registries): what an
// attacker aims a forged request at. IPv4-mapped addresses are covered through the IPv4 blocks.
const std::vector<EgressPolicy::Block>& privateBlocks() {
  static const std::vector<EgressPolicy::Block> kBlocks = {
      block("0.0.0.0", 8),      block("10.0.0.0", 8),    block("100.64.0.0", 10), block("127.0.0.0", 8),
      block("169.254.0.0", 16), block("172.16.0.0", 12), block("192.0.0.0", 24),  block("192.168.0.0", 16),
      block("198.18.0.0", 15),  block("224.0.0.0", 4),   block("240.0.0.0", 4),   block("::", 128),
      block("::1", 128),        block("fc00::", 7),      block("fe80::", 10),     block("fec0::", 10),
      block("ff00::", 8),       block("100::", 64),
  };
  return kBlocks;
}

// An IPv6 address that carries an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16,
// IPv4-compatible ::/96): that IPv4 address as mapped, so the IPv4 rules apply to it too.
std::optional<Bytes> embeddedV4(const Bytes& a) {
  Bytes m{};
  m[10] = m[11] = 0xff;
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(a.data(), kNat64, 12) == 0) {
    std::memcpy(&m[12], &a[12], 4);
    return m;
  }
  if (a[0] == 0x20 && a[1] == 0x02) {
    std::memcpy(&m[12], &a[2], 4);
    return m;
  }
  static const uint8_t kZero[12] = {};
  if (std::memcmp(a.data(), kZero, 12) == 0 && (a[12] | a[13] | a[14] | a[15]) != 0 &&
      !(a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 1)) {
    std::memcpy(&m[12], &a[12], 4);
    return m;
  }
  return std::nullopt;
}

bool inAny(const std::vector<EgressPolicy::Block>& blocks, const Bytes& a) {
  return std::any_of(blocks.begin(), blocks.end(), [&](const auto& b) { return b.contains(a); });
}

Status refused(std::string_view host, std::string_view address, const std::string& why) {
  std::string what = "host " + std::string(host);
  if (!address.empty() && lowerHost(host) != lowerHost(address)) what += " (address " + std::string(address) + ")";
  return badRequestData(what + " is refused by the egress policy: " + why);
}

}  // namespace

bool EgressPolicy::Block::contains(const Bytes& a) const {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.data(), bytes.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (bytes[full] & mask);
}

bool EgressPolicy::Rules::matchesName(std::string_view host) const {
  std::string h = lowerHost(host);
  if (std::find(names.begin(), names.end(), h) != names.end()) return true;
  return std::any_of(suffixes.begin(), suffixes.end(), [&](const std::string& s) {
    return h.size() > s.size() && h.compare(h.size() - s.size(), s.size(), s) == 0;
  });
}

Result<std::shared_ptr<const EgressPolicy>> EgressPolicy::make(const EgressOptions& options) {
  auto policy = std::make_shared<EgressPolicy>();
  policy->denyPrivate_ = options.denyPrivate;
  auto addRules = [](const std::vector<std::string>& specs, Rules& into) -> Status {
    for (const auto& spec : specs) {
      std::string s = lowerHost(spec);
      size_t slash = s.find('/');
      std::optional<Bytes> address = parseAddress(s.substr(0, slash));
      if (address) {
        const bool v4 = s.substr(0, slash).find(':') == std::string::npos;
        int prefix = v4 ? 32 : 128;
        if (slash != std::string::npos) {
          char* end = nullptr;
          long p = std::strtol(s.c_str() + slash + 1, &end, 10);
          if (slash + 1 == s.size() || *end || p < 0 || p > prefix)
            return badRequestData("malformed CIDR block " + spec);
          prefix = static_cast<int>(p);
        }
        into.blocks.push_back(Block{*address, v4 ? prefix + 96 : prefix});
        continue;
      }
      if (s.starts_with("*.")) s.erase(0, 1);
      bool suffix = s.starts_with(".");
      std::string_view name = suffix ? std::string_view(s).substr(1) : std::string_view(s);
      bool valid = !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
      });
      if (!valid)
        return badRequestData("egress rule '" + spec + "' is neither an address, a CIDR block nor a host name");
      (suffix ? into.suffixes : into.names).push_back(s);
    }
    return Status::ok();
  };
  ALLMENDE_RETURN_IF_ERROR(addRules(options.allow, policy->allow_));
  ALLMENDE_RETURN_IF_ERROR(addRules(options.deny, policy->deny_));
  return std::shared_ptr<const EgressPolicy>(std::move(policy));
}

std::shared_ptr<const EgressPolicy> EgressPolicy::allowAll() {
  static const auto kAll = std::make_shared<const EgressPolicy>();
  return kAll;
}

Status EgressPolicy::check(std::string_view host, std::string_view address) const {
  std::optional<Bytes> a = parseAddress(address);
  if (!a) return refused(host, address, "not an IP address");
  std::optional<Bytes> inner = embeddedV4(*a);
  auto inBlocks = [&](const std::vector<Block>& blocks) {
    return inAny(blocks, *a) || (inner && inAny(blocks, *inner));
  };
  if (allow_.matchesName(host) || inBlocks(allow_.blocks)) return Status::ok();
  if (deny_.matchesName(host)) return refused(host, address, "the host name is denied");
  if (inBlocks(deny_.blocks)) return refused(host, address, "the address is in a denied range");
  if (denyPrivate_ && inBlocks(privateBlocks())) {
    return refused(host, address, "loopback, private and link-local addresses are denied in production mode");
  }
  return Status::ok();
}

std::string EgressPolicy::hostOf(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? "" : std::string(authority.substr(1, close - 1));
  }
  return std::string(authority.substr(0, authority.rfind(':')));
}

Status EgressPolicy::checkHost(std::string_view host) const {
  std::string h = lowerHost(host);
  if (parseAddress(h)) return check(host, h);
  if (allow_.matchesName(h)) return Status::ok();
  if (deny_.matchesName(h)) return refused(host, "", "the host name is denied");
  // "localhost" resolves to loopback without asking DNS (RFC 6761).
  if (denyPrivate_ && (h == "localhost" || h.ends_with(".localhost"))) return check(host, "127.0.0.1");
  return Status::ok();
}

}  // namespace allmende
