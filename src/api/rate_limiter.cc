#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace allmende::api {

int RateLimiter::take(const std::string& tenant, RateLimit limit) {
  double rate = limit.perSecond > 0 ? limit.perSecond : defaults_.perSecond;
  if (rate <= 0) return 0;
  double burst = std::max(1.0, limit.burst > 0 ? limit.burst : limit.perSecond > 0 ? 2 * rate : defaults_.burst);
  Micros now = clock_.now();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(tenant);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst;
  } else {
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.last) / 1e6 * rate);
  }
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    ++b.admitted;
    return 0;
  }
  ++b.rejected;
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate)));
}

uint64_t RateLimiter::rejected(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(tenant);
  return it == buckets_.end() ? 0 : it->second.rejected;
}

uint64_t RateLimiter::admitted(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(tenant);
  return it == buckets_.end() ? 0 : it->second.admitted;
}

}  // namespace allmende::api
