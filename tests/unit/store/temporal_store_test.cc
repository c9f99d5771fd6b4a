#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.h"
#include "test_store.h"
#include "store/temporal.h"

namespace allmende::store {
namespace {

constexpr Micros kHour = 3'600'000'000;
const Micros kT0 = *parseDateTime("2026-01-01T00:00:00Z");

class TemporalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/allmende-temporal-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = openTestStore(dir_);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(s).value();
    temporal_ = store_->temporal();
    ASSERT_NE(temporal_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The entity with attribute "p" = v observed at `at` (and modified at `at` + 1 s).
  static std::string state(const std::string& id, double v, Micros at, const std::string& type = "T") {
    const std::string mod = formatDateTime(at + 1'000'000);
    return R"({"id":")" + id + R"(","type":[")" + type + R"("],"createdAt":")" + mod + R"(","modifiedAt":")" + mod +
           R"(","attrs":{"p":[{"type":"Property","value":)" + std::to_string(v) + R"(,"observedAt":")" +
           formatDateTime(at) + R"(","createdAt":")" + mod + R"(","modifiedAt":")" + mod + R"("}]}})";
  }
  static WriteOp put(const std::string& id, const std::string& json) {
    return {id, [json](const Json*) -> Result<WriteEffect> {
              WriteEffect e;
              e.kind = WriteEffect::Kind::kUpsert;
              e.entity.Parse(json.c_str());
              return e;
            }};
  }
  static WriteOp remove(const std::string& id) {
    return {id, [](const Json*) -> Result<WriteEffect> {
              WriteEffect e;
              e.kind = WriteEffect::Kind::kDelete;
              return e;
            }};
  }
  Status write1(const TenantId& t, WriteOp op) {
    std::vector<WriteOp> ops;
    ops.push_back(std::move(op));
    return store_->write(t, std::move(ops))[0];
  }
  // Writes p = 0, 1, ..., n-1 observed hourly from kT0.
  void series(const std::string& id, int n, const TenantId& t = "") {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(write1(t, put(id, state(id, i, kT0 + i * kHour))).isOk());
  }
  std::vector<double> values(const TemporalEntity& e) {
    std::vector<double> out;
    for (const auto& a : e.attrs)
      for (const auto& i : a.instances) out.push_back(i.h.number.value_or(-1));
    return out;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  TemporalStore* temporal_ = nullptr;
};

TEST_F(TemporalStoreTest, EveryWriteIsAnInstanceInTimeOrder) {
  series("urn:e:1", 5);
  auto h = temporal_->history("", "urn:e:1", {});
  ASSERT_TRUE(h.isOk()) << h.status().toString();
  EXPECT_EQ(h->types, R"(["T"])");
  ASSERT_EQ(h->attrs.size(), 1u);
  EXPECT_EQ(h->attrs[0].attr, "p");
  EXPECT_EQ(values(*h), (std::vector<double>{0, 1, 2, 3, 4}));
  const StoredInstance& first = h->attrs[0].instances[0];
  EXPECT_EQ(first.h.observedAt, kT0);
  EXPECT_EQ(first.h.recordedAt, kT0 + 1'000'000);
  EXPECT_LT(first.instanceId, h->attrs[0].instances[1].instanceId);
}

TEST_F(TemporalStoreTest, TimeFiltersAndLastN) {
  series("urn:e:1", 10);
  InstanceQuery q;
  q.time.rel = TimeFilter::Rel::kBetween;
  q.time.timeAt = kT0 + 2 * kHour;
  q.time.endTimeAt = kT0 + 5 * kHour;
  EXPECT_EQ(values(*temporal_->history("", "urn:e:1", q)), (std::vector<double>{2, 3, 4}));
  q.time.rel = TimeFilter::Rel::kBefore;
  EXPECT_EQ(values(*temporal_->history("", "urn:e:1", q)), (std::vector<double>{0, 1}));
  q.time.rel = TimeFilter::Rel::kAfter;
  q.time.timeAt = kT0 + 7 * kHour;
  EXPECT_EQ(values(*temporal_->history("", "urn:e:1", q)), (std::vector<double>{8, 9}));
  // createdAt: recorded one second after the observation.
  q.time.property = TimeFilter::Property::kCreatedAt;
  q.time.timeAt = kT0 + 7 * kHour + 500'000;
  EXPECT_EQ(values(*temporal_->history("", "urn:e:1", q)), (std::vector<double>{7, 8, 9}));
  InstanceQuery last;
  last.limit = 3;
  last.fromEnd = true;
  auto h = temporal_->history("", "urn:e:1", last);
  EXPECT_EQ(values(*h), (std::vector<double>{7, 8, 9}));
  EXPECT_TRUE(h->attrs[0].truncated);
}

TEST_F(TemporalStoreTest, DeletionAndRecreationContinueOneHistory) {
  series("urn:e:1", 2);
  ASSERT_TRUE(write1("", remove("urn:e:1")).isOk());
  ASSERT_TRUE(write1("", put("urn:e:1", state("urn:e:1", 9, kT0 + 5 * kHour, "U"))).isOk());
  auto h = temporal_->history("", "urn:e:1", {});
  ASSERT_TRUE(h.isOk());
  EXPECT_EQ(h->types, R"(["U"])");
  ASSERT_EQ(h->attrs[0].instances.size(), 4u);
  // In time order: the re-created entity's observation (January) before the deletion (now).
  EXPECT_EQ(h->attrs[0].instances[2].h.number, 9.0);
  EXPECT_TRUE(h->attrs[0].instances[3].h.deleted);
}

TEST_F(TemporalStoreTest, FailedWritesLeaveNoHistoryAndTenantsAreApart) {
  std::vector<WriteOp> ops;
  ops.push_back(put("urn:e:1", state("urn:e:1", 1, kT0)));
  ops.push_back({"urn:e:2", [](const Json*) -> Result<WriteEffect> { return badRequestData("no"); }});
  EXPECT_FALSE(store_->write("a", std::move(ops))[1].isOk());
  EXPECT_FALSE(temporal_->history("a", "urn:e:2", {}).isOk());
  EXPECT_TRUE(temporal_->history("a", "urn:e:1", {}).isOk());
  EXPECT_EQ(temporal_->history("b", "urn:e:1", {}).status().type(), ErrorType::kResourceNotFound);
  EXPECT_EQ(temporal_->history("", "urn:e:1", {}).status().type(), ErrorType::kResourceNotFound);
}

TEST_F(TemporalStoreTest, BatchesPreparedOnTheCallerLeaveHistoryToo) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 40; ++i)
    ops.push_back(put("urn:e:" + std::to_string(i), state("urn:e:" + std::to_string(i), i, kT0)));
  for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());
  EXPECT_EQ(values(*temporal_->history("", "urn:e:39", {})), (std::vector<double>{39}));
}

TEST_F(TemporalStoreTest, AggregatesPerPeriodInTheDatabase) {
  series("urn:e:1", 6);  // 0..5 hourly
  AggregationQuery q;
  q.methods = {AggrMethod::kAvg, AggrMethod::kMin, AggrMethod::kMax, AggrMethod::kDistinctCount};
  q.period.micros = 2 * kHour;
  q.time.rel = TimeFilter::Rel::kBetween;
  q.time.timeAt = kT0;
  q.time.endTimeAt = kT0 + 8 * kHour;  // the last period [6h, 8h) is empty and left out
  auto a = temporal_->aggregate("", "urn:e:1", q);
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  ASSERT_EQ(a->attrs.size(), 1u);
  const auto& p = a->attrs[0].periods;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].start, kT0);
  EXPECT_EQ(p[0].end, kT0 + 2 * kHour);
  EXPECT_EQ(p[1].count, 2);
  EXPECT_EQ(p[1].sum, 5.0);  // 2 + 3
  EXPECT_EQ(p[2].min, 4.0);
  EXPECT_EQ(p[2].max, 5.0);
  EXPECT_EQ(p[2].distinct, 2);
  q.maxPeriods = 2;
  EXPECT_EQ(temporal_->aggregate("", "urn:e:1", q).status().type(), ErrorType::kTooManyResults);
}

TEST_F(TemporalStoreTest, CalendarMonthsArePeriods) {
  for (int m = 0; m < 3; ++m) {
    Micros at = *parseDateTime("2026-0" + std::to_string(m + 1) + "-15T00:00:00Z");
    ASSERT_TRUE(write1("", put("urn:e:1", state("urn:e:1", m, at))).isOk());
  }
  AggregationQuery q;
  q.methods = {AggrMethod::kTotalCount};
  q.period.months = 1;
  q.time.rel = TimeFilter::Rel::kAfter;
  q.time.timeAt = *parseDateTime("2026-01-01T00:00:00Z");
  auto a = temporal_->aggregate("", "urn:e:1", q);
  ASSERT_TRUE(a.isOk());
  const auto& p = a->attrs[0].periods;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1].start, *parseDateTime("2026-02-01T00:00:00Z"));
  EXPECT_EQ(p[1].end, *parseDateTime("2026-03-01T00:00:00Z"));
}

TEST_F(TemporalStoreTest, DirectWritesDeletesAndRetention) {
  model::HistoryInstance h;
  h.attr = "p";
  h.observedAt = kT0;
  h.recordedAt = kT0;
  h.number = 42;
  ASSERT_TRUE(temporal_->appendInstances("", "urn:e:9", R"(["T"])", {h}).isOk());
  auto got = temporal_->history("", "urn:e:9", {});
  ASSERT_TRUE(got.isOk());
  int64_t iid = got->attrs[0].instances[0].instanceId;
  h.number = 43;
  EXPECT_TRUE(temporal_->modifyInstance("", "urn:e:9", "p", iid, h, kT0 + kHour).isOk());
  got = temporal_->history("", "urn:e:9", {});
  EXPECT_EQ(values(*got), (std::vector<double>{43}));
  EXPECT_EQ(got->attrs[0].instances[0].modifiedAt, kT0 + kHour);
  EXPECT_EQ(temporal_->modifyInstance("", "urn:e:9", "p", iid + 1, h, kT0).type(), ErrorType::kResourceNotFound);
  series("urn:e:1", 4);
  auto purged = temporal_->purgeHistoryBefore("", kT0 + 2 * kHour);
  ASSERT_TRUE(purged.isOk());
  EXPECT_EQ(*purged, 3u);  // urn:e:9's instance and the first two of urn:e:1
  EXPECT_EQ(values(*temporal_->history("", "urn:e:1", {})), (std::vector<double>{2, 3}));
  EXPECT_TRUE(temporal_->deleteHistory("", "urn:e:1", "p", std::nullopt, 0).isOk());
  EXPECT_TRUE(temporal_->history("", "urn:e:1", {})->attrs.empty());
  EXPECT_TRUE(temporal_->deleteHistory("", "urn:e:1", "", std::nullopt, 0).isOk());
  EXPECT_EQ(temporal_->history("", "urn:e:1", {}).status().type(), ErrorType::kResourceNotFound);
}

TEST_F(TemporalStoreTest, AHistoryDeletedThroughTheTemporalApiStartsAgainWithTheNextWrite) {
  // The writer remembers each entity's history id; deleting the whole history must not leave it
  // writing instances under the forgotten id.
  series("urn:e:1", 2);
  ASSERT_TRUE(temporal_->deleteHistory("", "urn:e:1", "", std::nullopt, 0).isOk());
  ASSERT_TRUE(write1("", put("urn:e:1", state("urn:e:1", 7, kT0 + 3 * kHour))).isOk());
  auto h = temporal_->history("", "urn:e:1", {});
  ASSERT_TRUE(h.isOk()) << h.status().toString();
  EXPECT_EQ(values(*h), (std::vector<double>{7}));
  auto ids = temporal_->historyIds("");
  ASSERT_TRUE(ids.isOk());
  EXPECT_EQ(*ids, (std::vector<std::string>{"urn:e:1"}));
}

TEST_F(TemporalStoreTest, ABatchCreatingTheSameIdTwiceKeepsOneHistory) {
  // The second op finds the entity the first one inserted (not the snapshot's absence).
  std::vector<WriteOp> ops;
  ops.push_back(put("urn:e:1", state("urn:e:1", 1, kT0)));
  ops.push_back(put("urn:e:1", state("urn:e:1", 2, kT0 + kHour)));
  for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());
  EXPECT_EQ(values(*temporal_->history("", "urn:e:1", {})), (std::vector<double>{1, 2}));
  EXPECT_EQ((*store_->getEntity("", "urn:e:1"))["attrs"]["p"][0]["value"].GetDouble(), 2.0);
  EntityQuery q;
  q.typeIris = {"T"};
  q.count = true;
  EXPECT_EQ(*store_->queryEntities("", q)->total, 1u);
}

}  // namespace
}  // namespace allmende::store
