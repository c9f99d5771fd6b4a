// Per-tenant request quota: a token bucket per tenant (rate tokens per second, at most burst
// tokens saved up). In memory, so a restart refills every bucket.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "common/time.h"

namespace allmende::api {

struct RateLimit {
  double perSecond = 0;  // 0 = unlimited
  double burst = 0;      // bucket size; at least 1
};

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimit defaults) : clock_(clock), defaults_(defaults) {}

  // Takes one token from the tenant's bucket: 0 when there was one, else the whole seconds until
  // one is available (for Retry-After, at least 1). `limit` overrides the defaults where its
  // members are > 0. Thread-safe.
  int take(const std::string& tenant, RateLimit limit = {});
  // Requests answered 429 for the tenant since start.
  uint64_t rejected(const std::string& tenant);
  // Requests admitted for the tenant since start.
  uint64_t admitted(const std::string& tenant);
  const RateLimit& defaults() const { return defaults_; }

 private:
  struct Bucket {
    double tokens = 0;
    Micros last = 0;
    uint64_t admitted = 0, rejected = 0;
  };
  const Clock& clock_;
  RateLimit defaults_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace allmende::api
