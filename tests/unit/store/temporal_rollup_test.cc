// Aggregation reads whole hours from the rollups and the ends of periods from the instances:
// its answers must equal a brute-force computation over the instances, for aligned and unaligned
// periods, every time relation, and after instances are modified, deleted and purged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "store/sqlite/sqlite_store.h"
#include "store/temporal.h"

namespace allmende::store {
namespace {

constexpr Micros kMinute = 60'000'000;
constexpr Micros kHour = 60 * kMinute;
const Micros kT0 = *parseDateTime("2026-01-01T00:00:00Z");

class RollupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/allmende-rollup-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = openSqliteStore({dir_ + "/db", "normal"});
    ASSERT_TRUE(s.isOk());
    store_ = std::move(s).value();
    t_ = store_->temporal();
    // 600 instances at random minutes over 12 hours, random values; some with the same time.
    std::mt19937 rng(7);
    std::vector<model::HistoryInstance> batch;
    for (int i = 0; i < 600; ++i) {
      model::HistoryInstance h;
      h.attr = "p";
      h.observedAt = kT0 + static_cast<Micros>(rng() % (12 * 60)) * kMinute + (i % 3) * 1'000'000;
      h.recordedAt = *h.observedAt;
      h.number = static_cast<double>(rng() % 1000) / 10.0;
      batch.push_back(h);
    }
    ASSERT_TRUE(t_->appendInstances("", "urn:e:1", R"(["T"])", batch).isOk());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The current instances, from the store's raw history.
  std::vector<std::pair<Micros, double>> points() {
    InstanceQuery q;
    q.limit = 100000;
    auto h = t_->history("", "urn:e:1", q);
    std::vector<std::pair<Micros, double>> out;
    if (!h.isOk() || h->attrs.empty()) return out;
    for (const auto& i : h->attrs[0].instances) out.emplace_back(*i.h.observedAt, *i.h.number);
    return out;
  }

  // Compares aggregate() with a brute-force computation per period.
  void check(const TimeFilter& time, Period period, Micros lo, Micros hi) {
    AggregationQuery q;
    q.time = time;
    q.period = period;
    q.methods = {AggrMethod::kTotalCount, AggrMethod::kSum, AggrMethod::kMin, AggrMethod::kMax};
    auto a = t_->aggregate("", "urn:e:1", q);
    ASSERT_TRUE(a.isOk()) << a.status().toString();
    std::map<Micros, PeriodAggregate> expected;
    for (const auto& [t, v] : points()) {
      bool in = time.rel == TimeFilter::Rel::kNone || (time.rel == TimeFilter::Rel::kBefore && t < time.timeAt) ||
                (time.rel == TimeFilter::Rel::kAfter && t > time.timeAt) ||
                (time.rel == TimeFilter::Rel::kBetween && t >= time.timeAt && t < time.endTimeAt);
      if (!in || t < lo || t >= hi) continue;
      Micros start = period.zero() ? lo : lo + (t - lo) / period.micros * period.micros;
      PeriodAggregate& p = expected[start];
      p.count++;
      p.sum += v;
      p.min = p.min ? std::min(*p.min, v) : v;
      p.max = p.max ? std::max(*p.max, v) : v;
    }
    const auto& got = a->attrs.empty() ? std::vector<PeriodAggregate>{} : a->attrs[0].periods;
    ASSERT_EQ(got.size(), expected.size());
    size_t k = 0;
    for (const auto& [start, e] : expected) {
      const PeriodAggregate& g = got[k++];
      EXPECT_EQ(g.start, start);
      EXPECT_EQ(g.count, e.count) << formatDateTime(start);
      EXPECT_NEAR(g.sum, e.sum, 1e-6);
      EXPECT_EQ(g.min, e.min);
      EXPECT_EQ(g.max, e.max);
    }
  }
  void checkAll() {
    TimeFilter none;
    check(none, {0, kHour}, points().front().first, points().back().first + 1);
    TimeFilter between{TimeFilter::Rel::kBetween, TimeFilter::Property::kObservedAt, kT0 + 90 * kMinute,
                       kT0 + 11 * kHour};
    check(between, {0, kHour}, between.timeAt, between.endTimeAt);          // unaligned hours
    check(between, {0, 150 * kMinute}, between.timeAt, between.endTimeAt);  // periods of 2.5 h
    check(between, {0, 0}, between.timeAt, between.endTimeAt);              // one period
    TimeFilter after{TimeFilter::Rel::kAfter, TimeFilter::Property::kObservedAt, kT0 + 3 * kHour, 0};
    check(after, {0, 2 * kHour}, after.timeAt, points().back().first + 1);  // exclusive at an hour
    TimeFilter before{TimeFilter::Rel::kBefore, TimeFilter::Property::kObservedAt, kT0 + 7 * kHour + 7 * kMinute, 0};
    check(before, {0, 3 * kHour}, points().front().first, before.timeAt);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  TemporalStore* t_ = nullptr;
};

TEST_F(RollupTest, AggregatesEqualBruteForce) { checkAll(); }

TEST_F(RollupTest, StayEqualAfterModifyDeleteAndPurge) {
  InstanceQuery q;
  q.limit = 100000;
  auto h = t_->history("", "urn:e:1", q);
  ASSERT_TRUE(h.isOk());
  const auto& list = h->attrs[0].instances;
  model::HistoryInstance big = list[10].h;
  big.number = 5000;  // a new maximum in its hour
  ASSERT_TRUE(t_->modifyInstance("", "urn:e:1", "p", list[10].instanceId, big, kT0).isOk());
  ASSERT_TRUE(t_->deleteHistory("", "urn:e:1", "p", std::nullopt, list[20].instanceId).isOk());
  ASSERT_TRUE(t_->deleteHistory("", "urn:e:1", "p", std::nullopt, list[300].instanceId).isOk());
  checkAll();
  auto purged = t_->purgeHistoryBefore("", kT0 + 2 * kHour + 30 * kMinute);
  ASSERT_TRUE(purged.isOk());
  EXPECT_GT(*purged, 0u);
  checkAll();
}

}  // namespace
}  // namespace allmende::store
