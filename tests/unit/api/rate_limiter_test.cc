// The per-tenant token bucket (api/rate_limiter.h) against a clock the test moves.
#include "api/rate_limiter.h"

#include <gtest/gtest.h>

namespace allmende::api {
namespace {

class FakeClock : public Clock {
 public:
  Micros now() const override { return t; }
  Micros t = 1'000'000'000;
};

TEST(RateLimiter, BurstThenOnePerPeriodWithRetryAfter) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{2, 3});  // 2/s, bucket of 3
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("a"), 0);
  EXPECT_EQ(limiter.take("a"), 1) << "empty: the next token comes in 0.5 s, rounded up to 1 s";
  clock.t += 500'000;
  EXPECT_EQ(limiter.take("a"), 0);
  EXPECT_EQ(limiter.take("a"), 1);
  clock.t += 60'000'000;  // a minute later the bucket is full again, not fuller
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("a"), 0);
  EXPECT_GT(limiter.take("a"), 0);
  EXPECT_EQ(limiter.admitted("a"), 7u);
  EXPECT_EQ(limiter.rejected("a"), 3u);
}

TEST(RateLimiter, TenantsHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{1, 1});
  EXPECT_EQ(limiter.take("a"), 0);
  EXPECT_GT(limiter.take("a"), 0);
  EXPECT_EQ(limiter.take("b"), 0);
}

TEST(RateLimiter, RetryAfterGrowsWithSlowRates) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{0.01, 1});
  EXPECT_EQ(limiter.take("a"), 0);
  EXPECT_EQ(limiter.take("a"), 100);
}

TEST(RateLimiter, TenantQuotaOverridesTheDefaultAndZeroIsUnlimited) {
  FakeClock clock;
  RateLimiter unlimited(clock, RateLimit{0, 0});
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(unlimited.take("a"), 0);
  // A tenant's own rate applies even when the platform has none; its burst defaults to 2 x rate.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(unlimited.take("b", RateLimit{2, 0}), 0);
  EXPECT_GT(unlimited.take("b", RateLimit{2, 0}), 0);
}

}  // namespace
}  // namespace allmende::api
