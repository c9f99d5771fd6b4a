#include "api/header_values.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace allmende::api {

namespace {

constexpr std::string_view kJsonLdContextRel = "http://www.w3.org/ns/json-ld#context";
constexpr size_t kMaxTenantLength = 64;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view trimHeaderValue(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string mediaTypeOfHeader(std::string_view value) {
  return lower(trimHeaderValue(value.substr(0, value.find(';'))));
}

double acceptQuality(std::string_view item) {
  size_t semi = item.find(';');
  while (semi != std::string_view::npos) {
    std::string_view rest = item.substr(semi + 1);
    size_t next = rest.find(';');
    std::string_view param = trimHeaderValue(rest.substr(0, next));
    if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      double q = std::atof(std::string(param.substr(2)).c_str());
      // RFC 9110 12.4.2: qvalues lie in [0, 1]; "q=nan" or "q=1e999" must not win or break ordering.
      if (!(q > 0)) return 0;
      return std::min(q, 1.0);
    }
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return 1.0;
}

std::optional<int> preferredMediaType(std::string_view accept,
                                      const std::function<std::optional<int>(std::string_view type)>& offer) {
  double bestQ = 0;
  std::optional<int> best;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    double q = acceptQuality(item);
    if (q <= bestQ) continue;
    if (std::optional<int> m = offer(mediaTypeOfHeader(item))) {
      bestQ = q;
      best = m;
    }
  }
  return best;
}

bool contextLinkUrl(std::string_view header, std::string& url) {
  url.clear();
  while (true) {
    // RFC 9110 5.6.1: empty list elements are allowed and ignored.
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t' || header.front() == ',')) {
      header.remove_prefix(1);
    }
    if (header.empty()) break;
    if (header.front() != '<') return false;
    size_t close = header.find('>');
    if (close == std::string_view::npos) return false;
    std::string_view candidate = header.substr(1, close - 1);
    size_t next = header.find(',', close);
    std::string_view params =
        header.substr(close + 1, next == std::string_view::npos ? std::string_view::npos : next - close - 1);
    if (params.find(kJsonLdContextRel) != std::string_view::npos) {
      if (trimHeaderValue(candidate).empty()) return false;
      url = std::string(candidate);
      return true;
    }
    if (next == std::string_view::npos) break;
    header = header.substr(next + 1);
  }
  return true;
}

bool isValidTenantName(std::string_view t) {
  if (t.empty() || t.size() > kMaxTenantLength) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

std::optional<std::string_view> bearerToken(std::string_view authorization) {
  authorization = trimHeaderValue(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() + 1 || authorization[kScheme.size()] != ' ') return std::nullopt;
  if (!std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    return std::nullopt;
  }
  std::string_view token = trimHeaderValue(authorization.substr(kScheme.size() + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace allmende::api
