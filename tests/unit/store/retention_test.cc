#include "store/retention.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.h"
#include "test_store.h"

namespace allmende::store {
namespace {

constexpr Micros kDay = 86'400'000'000;
const Micros kNow = *parseDateTime("2026-06-01T00:00:00Z");

struct FixedClock : Clock {
  Micros now() const override { return kNow; }
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/allmende-retention-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = openTestStore(dir_);
    ASSERT_TRUE(s.isOk());
    store_ = std::move(s).value();
    // Each tenant: one instance per day for the last 10 days.
    for (const TenantId t : {"", "a", "b"}) {
      std::vector<model::HistoryInstance> days;
      for (int d = 1; d <= 10; ++d) {
        model::HistoryInstance h;
        h.attr = "p";
        h.observedAt = kNow - d * kDay;
        h.recordedAt = *h.observedAt;
        h.number = d;
        days.push_back(h);
      }
      ASSERT_TRUE(store_->temporal()->appendInstances(t, "urn:e:1", R"(["T"])", days).isOk());
    }
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  size_t count(const TenantId& t) {
    auto h = store_->temporal()->history(t, "urn:e:1", {});
    return h.isOk() && !h->attrs.empty() ? h->attrs[0].instances.size() : 0;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  FixedClock clock_;
};

TEST_F(RetentionTest, EachTenantKeepsItsPeriod) {
  RetentionOptions o;
  o.keep = 5 * kDay + 1;            // the default: days 1..5
  o.perTenant["a"] = 2 * kDay + 1;  // a: days 1..2
  o.perTenant["b"] = 0;             // b: forever
  RetentionJob job(*store_->temporal(), clock_, o);
  auto removed = job.runOnce();
  ASSERT_TRUE(removed.isOk()) << removed.status().toString();
  EXPECT_EQ(*removed, 5u + 8u);
  EXPECT_EQ(count(""), 5u);
  EXPECT_EQ(count("a"), 2u);
  EXPECT_EQ(count("b"), 10u);
  EXPECT_EQ(*job.runOnce(), 0u);  // nothing more to remove
}

TEST_F(RetentionTest, TheBackgroundJobRunsAtStart) {
  RetentionOptions o;
  o.keep = 3 * kDay + 1;
  o.intervalSeconds = 3600;
  {
    RetentionJob job(*store_->temporal(), clock_, o);
    job.start();
    job.stop();  // the first run happens before the wait, stop waits for it
  }
  EXPECT_EQ(count("b"), 3u);
}

}  // namespace
}  // namespace allmende::store
