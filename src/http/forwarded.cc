#include "http/forwarded.h"

#include <boost/asio/ip/address.hpp>
#include <optional>

namespace allmende::http {

namespace {

namespace ip = boost::asio::ip;

// An address as IPv6 bytes (IPv4 mapped), also "[v6]", "[v6]:port" and "v4:port" as some
// proxies write them (RFC 7239 6.3 node syntax).
std::optional<ip::address_v6> parseAddress(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (size_t colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);  // v4:port
  }
  boost::system::error_code ec;
  ip::address a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (a.is_v4()) return ip::make_address_v6(ip::v4_mapped, a.to_v4());
  return a.to_v6();
}

std::string show(const ip::address_v6& a) {
  if (a.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a).to_string();
  return a.to_string();
}

}  // namespace

Result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& rules) {
  TrustedProxies out;
  for (const std::string& rule : rules) {
    std::string_view text = rule;
    int prefix = -1;
    if (size_t slash = text.find('/'); slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string_view::npos)
        return Status(ErrorType::kBadRequestData, "trusted proxy '" + rule + "': the prefix length is not a number");
      prefix = std::stoi(std::string(digits));
      text = text.substr(0, slash);
    }
    boost::system::error_code ec;
    ip::address a = ip::make_address(std::string(text), ec);
    if (ec) return Status(ErrorType::kBadRequestData, "trusted proxy '" + rule + "' is no address or CIDR block");
    const int bits = a.is_v4() ? 32 : 128;
    if (prefix < 0) prefix = bits;
    if (prefix > bits)
      return Status(ErrorType::kBadRequestData, "trusted proxy '" + rule + "': prefix longer than the address");
    Block b;
    b.bytes = (a.is_v4() ? ip::make_address_v6(ip::v4_mapped, a.to_v4()) : a.to_v6()).to_bytes();
    b.prefix = a.is_v4() ? prefix + 96 : prefix;
    out.blocks_.push_back(b);
  }
  return out;
}

bool TrustedProxies::trusts(std::string_view address) const {
  auto a = parseAddress(address);
  if (!a) return false;
  const auto bytes = a->to_bytes();
  for (const Block& b : blocks_) {
    const int full = b.prefix / 8, rest = b.prefix % 8;
    bool in = std::equal(b.bytes.begin(), b.bytes.begin() + full, bytes.begin());
    if (in && rest > 0) {
      const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
      in = (b.bytes[full] & mask) == (bytes[full] & mask);
    }
    if (in) return true;
  }
  return false;
}

std::string TrustedProxies::clientOf(const std::string& peer, const std::vector<std::string_view>& forwardedFor) const {
  if (blocks_.empty() || forwardedFor.empty() || !trusts(peer)) return peer;
  std::vector<std::string_view> hops;  // left (client) to right (nearest proxy)
  for (std::string_view value : forwardedFor) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      hops.push_back(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  std::string client = peer;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto a = parseAddress(*it);
    if (!a) break;
    client = show(*a);
    if (!trusts(client)) break;
  }
  return client;
}

}  // namespace allmende::http
