#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

namespace allmende::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/allmende-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    SqliteOptions o;
    o.path = dir_ + "/db";
    auto s = openSqliteStore(o);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(s).value();
  }

  // A WriteOp that stores `json` as the entity's new state.
  static WriteOp put(const std::string& id, const std::string& json) {
    return {id, [json](const Json*) -> Result<WriteEffect> {
              WriteEffect e;
              e.kind = WriteEffect::Kind::kUpsert;
              e.entity.Parse(json.c_str());
              return e;
            }};
  }
  static std::string entity(const std::string& id, const std::string& type, double lon = 0, double lat = 0) {
    return R"({"id":")" + id + R"(","type":[")" + type +
           R"("],"attrs":{"loc":[{"type":"GeoProperty","value":{"type":"Point","coordinates":[)" + std::to_string(lon) +
           "," + std::to_string(lat) + "]}}]}}";
  }
  // Adds one to the entity's member "n" (a read-modify-write).
  static Result<WriteEffect> increment(const Json* cur) {
    if (!cur) return notFound("gone");
    WriteEffect e;
    e.kind = WriteEffect::Kind::kUpsert;
    e.entity.CopyFrom(*cur, e.entity.GetAllocator());
    e.entity["n"].SetInt(e.entity["n"].GetInt() + 1);
    return e;
  }
  Status write1(const TenantId& t, WriteOp op) {
    std::vector<WriteOp> ops;
    ops.push_back(std::move(op));
    return store_->write(t, std::move(ops))[0];
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, WritesAreReadableAndTenantsSeparate) {
  ASSERT_TRUE(write1("a", put("urn:x:1", entity("urn:x:1", "T"))).isOk());
  EXPECT_TRUE(store_->getEntity("a", "urn:x:1").isOk());
  EXPECT_EQ(store_->getEntity("b", "urn:x:1").status().type(), ErrorType::kResourceNotFound);
  EXPECT_EQ(store_->getEntity("", "urn:x:1").status().type(), ErrorType::kResourceNotFound);
  EXPECT_TRUE(store_->tenantExists("a"));
  EXPECT_FALSE(store_->tenantExists("b"));
  EntityQuery q;
  q.typeIris = {"T"};
  q.count = true;
  EXPECT_EQ(*store_->queryEntities("b", q)->total, 0u);
  EXPECT_EQ(*store_->queryEntities("a", q)->total, 1u);
}

TEST_F(SqliteStoreTest, AFailingOpChangesNothingAndDoesNotFailItsNeighbours) {
  std::vector<WriteOp> ops;
  ops.push_back(put("urn:x:1", entity("urn:x:1", "T")));
  ops.push_back({"urn:x:2", [](const Json*) -> Result<WriteEffect> { return badRequestData("no"); }});
  ops.push_back(put("urn:x:3", entity("urn:x:3", "T")));
  auto results = store_->write("", std::move(ops));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].isOk());
  EXPECT_EQ(results[1].type(), ErrorType::kBadRequestData);
  EXPECT_TRUE(results[2].isOk());
  EXPECT_FALSE(store_->getEntity("", "urn:x:2").isOk());
  // A tenant whose only write failed does not come into being.
  EXPECT_FALSE(
      write1("ghost", {"urn:x:9", [](const Json*) -> Result<WriteEffect> { return badRequestData("no"); }}).isOk());
  EXPECT_FALSE(store_->tenantExists("ghost"));
}

TEST_F(SqliteStoreTest, AnOpFailingAfterItBeganWritingFailsAlone) {
  SqliteOptions o;
  o.path = dir_ + "/db";
  o.faultEntityId = "urn:x:bad";
  store_.reset();
  auto s = openSqliteStore(o);
  ASSERT_TRUE(s.isOk());
  store_ = std::move(s).value();
  for (size_t n : {3u, 40u}) {  // below and above prepareMinOps
    std::vector<WriteOp> ops;
    for (size_t i = 0; i < n; ++i) {
      std::string id = i == 1 ? "urn:x:bad" : "urn:x:" + std::to_string(n) + "-" + std::to_string(i);
      ops.push_back(put(id, entity(id, "T" + std::to_string(i))));
    }
    auto results = store_->write("t" + std::to_string(n), std::move(ops));
    ASSERT_EQ(results.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(results[i].isOk(), i != 1) << i;
    }
    EXPECT_FALSE(store_->getEntity("t" + std::to_string(n), "urn:x:bad").isOk());
    EntityQuery q;
    q.typeIris = {"T1"};
    q.count = true;
    EXPECT_EQ(*store_->queryEntities("t" + std::to_string(n), q)->total, 0u) << "index rows of the failed op";
    EXPECT_TRUE(store_->getEntity("t" + std::to_string(n), "urn:x:" + std::to_string(n) + "-2").isOk());
  }
}

TEST_F(SqliteStoreTest, ApplySeesTheCurrentStateAndConcurrentWritesSerialize) {
  ASSERT_TRUE(write1("", put("urn:c:1", R"({"id":"urn:c:1","type":["T"],"attrs":{},"n":0})")).isOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(write1("", {"urn:c:1", increment}).isOk());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*store_->getEntity("", "urn:c:1"))["n"].GetInt(), 400);
  EXPECT_LT(store_->stats().writeBatches, 401u);  // some writes shared a commit
}

TEST_F(SqliteStoreTest, BatchesPreparedOnStaleSnapshotsStillSerialize) {
  // Batches (>= prepareMinOps) are worked out on the caller's thread against a snapshot; ops
  // whose entity changed in between must be re-applied by the writer on the current state.
  ASSERT_TRUE(write1("", put("urn:c:2", R"({"id":"urn:c:2","type":["T"],"attrs":{},"n":0})")).isOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int b = 0; b < 10; ++b) {
        std::vector<WriteOp> ops;
        for (int i = 0; i < 20; ++i) ops.push_back({"urn:c:2", increment});
        for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*store_->getEntity("", "urn:c:2"))["n"].GetInt(), 4 * 10 * 20);
  // A batch that creates the same id twice: the second sees the first (AlreadyExists-like error).
  auto createOnce = [](const Json* cur) -> Result<WriteEffect> {
    if (cur) return alreadyExists("exists");
    WriteEffect e;
    e.kind = WriteEffect::Kind::kUpsert;
    e.entity.Parse(R"({"id":"urn:c:3","type":["T"],"attrs":{}})");
    return e;
  };
  std::vector<WriteOp> ops;
  for (int i = 0; i < 20; ++i) ops.push_back({"urn:c:3", createOnce});
  auto results = store_->write("", std::move(ops));
  EXPECT_TRUE(results[0].isOk());
  for (size_t i = 1; i < results.size(); ++i) EXPECT_EQ(results[i].type(), ErrorType::kAlreadyExists) << i;
}

TEST_F(SqliteStoreTest, QueryOrderIsCreationOrderAndSurvivesUpdatesAndReopen) {
  for (int i = 0; i < 30; ++i) {
    std::string id = "urn:o:" + std::to_string(29 - i);  // ids in reverse of creation order
    ASSERT_TRUE(write1("", put(id, entity(id, "T"))).isOk());
  }
  ASSERT_TRUE(write1("", put("urn:o:29", entity("urn:o:29", "T", 1, 1))).isOk());  // update the first
  reopen();
  EntityQuery q;
  q.limit = 10;
  q.offset = 0;
  std::vector<std::string> seen;
  for (q.offset = 0; q.offset < 40; q.offset += 10) {
    auto r = store_->queryEntities("", q);
    ASSERT_TRUE(r.isOk());
    for (auto& e : r->entities) seen.emplace_back(asView(e["id"]));
  }
  ASSERT_EQ(seen.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(seen[i], "urn:o:" + std::to_string(29 - i));
}

// Keyset paging (EntityQuery::after, QueryResult::cursor) visits every match once, in order, on
// each way the store scans: the tenant, one type, several types, ids, one value, a value range,
// the spatial index, and with an exact filter; deleting visited entities between pages changes
// nothing of what follows.
TEST_F(SqliteStoreTest, KeysetPagingVisitsEveryMatchOnceOnEveryScan) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 95; ++i) {
    std::string id = "urn:k:" + std::to_string(i);
    std::string e = entity(id, i % 3 ? "A" : "B", 11.0 + i * 0.001, 48.0);
    e.insert(e.size() - 2, R"(,"n":[{"type":"Property","value":)" + std::to_string(i % 4) + "}]");
    ops.push_back(put(id, e));
  }
  for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());
  auto ids = [](const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.entities) out.emplace_back(asView(e["id"]));
    return out;
  };
  std::vector<EntityQuery> queries(8);
  queries[1].typeIris = {"A"};
  queries[1].selectionExact = true;
  queries[2].typeIris = {"A", "B"};
  for (int i = 0; i < 95; i += 2) queries[3].ids.push_back("urn:k:" + std::to_string(i));
  queries[4].valueHint = ValueHint{"n", {2.0}, std::nullopt, std::nullopt};
  queries[5].valueHint = ValueHint{"n", {}, IndexValue(1.0), IndexValue(2.0)};
  queries[6].geoBox = EntityQuery::Box{"loc", 11.01, 47.9, 11.05, 48.1};
  queries[7].match = [](const Json& e) { return asView(e["id"]).back() == '7'; };
  for (size_t k = 0; k < queries.size(); ++k) {
    EntityQuery all = queries[k];
    all.limit = 1000;
    auto whole = store_->queryEntities("", all);
    ASSERT_TRUE(whole.isOk());
    ASSERT_FALSE(whole->entities.empty()) << "query " << k;
    std::vector<std::string> paged;
    EntityQuery q = queries[k];
    q.limit = 4;
    for (int pages = 0; pages < 100; ++pages) {
      auto r = store_->queryEntities("", q);
      ASSERT_TRUE(r.isOk());
      if (r->entities.empty()) {
        EXPECT_EQ(r->cursor, 0);
        break;
      }
      EXPECT_GT(r->cursor, q.after);
      for (auto& id : ids(*r)) paged.push_back(id);
      q.after = r->cursor;
    }
    EXPECT_EQ(paged, ids(*whole)) << "query " << k;
  }
  // Deleting what was already visited does not shift the next page (as offset would).
  EntityQuery q;
  q.limit = 10;
  auto first = store_->queryEntities("", q);
  ASSERT_TRUE(first.isOk());
  for (const auto& id : ids(*first)) {
    ASSERT_TRUE(write1("", {id,
                            [](const Json*) -> Result<WriteEffect> {
                              WriteEffect e;
                              e.kind = WriteEffect::Kind::kDelete;
                              return e;
                            }})
                    .isOk());
  }
  q.after = first->cursor;
  auto second = store_->queryEntities("", q);
  ASSERT_TRUE(second.isOk());
  ASSERT_FALSE(second->entities.empty());
  EXPECT_EQ(asView(second->entities[0]["id"]), "urn:k:10");
}

TEST_F(SqliteStoreTest, GeoBoxPrefilterNeverLosesAMatch) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> lon(11.0, 11.2), lat(48.0, 48.2);
  std::vector<std::pair<double, double>> points;
  std::vector<WriteOp> ops;
  for (int i = 0; i < 2000; ++i) {
    points.emplace_back(lon(rng), lat(rng));
    std::string id = "urn:g:" + std::to_string(i);
    ops.push_back(put(id, entity(id, i % 2 ? "A" : "B", points.back().first, points.back().second)));
  }
  // One polygon, which goes to the R*Tree.
  ops.push_back(
      put("urn:g:poly",
          R"({"id":"urn:g:poly","type":["A"],"attrs":{"loc":[{"type":"GeoProperty","value":)"
          R"({"type":"Polygon","coordinates":[[[11.09,48.09],[11.11,48.09],[11.11,48.11],[11.09,48.09]]]}}]}})"));
  for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());
  for (int b = 0; b < 50; ++b) {
    double x0 = lon(rng), y0 = lat(rng), w = 0.02 * (b % 5 + 1), h = 0.015;
    EntityQuery q;
    q.geoBox = EntityQuery::Box{"loc", x0, y0, x0 + w, y0 + h};
    q.limit = 5000;
    q.count = true;
    auto r = store_->queryEntities("", q);
    ASSERT_TRUE(r.isOk());
    size_t expected = 0;
    for (const auto& [x, y] : points) expected += x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h;
    size_t found = 0;
    bool polyExpected = x0 <= 11.11 && x0 + w >= 11.09 && y0 <= 48.11 && y0 + h >= 48.09, polyFound = false;
    for (auto& e : r->entities) {
      std::string_view id = asView(e["id"]);
      if (id == "urn:g:poly") {
        polyFound = true;
        continue;
      }
      const Json& c = e["attrs"]["loc"][0]["value"]["coordinates"];
      double x = c[0].GetDouble(), y = c[1].GetDouble();
      // The prefilter may return a little more, never less.
      found += x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h;
    }
    EXPECT_EQ(found, expected) << "box " << b;
    if (polyExpected) {
      EXPECT_TRUE(polyFound) << "box " << b;
    }
  }
}

TEST_F(SqliteStoreTest, FilesWithoutThePointsInThePointIndexAreMigrated) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 50; ++i) {
    std::string id = "urn:m:" + std::to_string(i);
    ops.push_back(put(id, entity(id, "T", 11.0 + i * 0.01, 48.0)));
  }
  for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());
  store_.reset();
  // Make the file look like one of schema version 0.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE geo_points DROP COLUMN x; ALTER TABLE geo_points DROP COLUMN y; "
                         "PRAGMA user_version=0",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  reopen();
  EntityQuery q;
  q.geoBox = EntityQuery::Box{"loc", 11.095, 47.9, 11.205, 48.1};  // points 10 .. 20
  q.count = true;
  q.limit = 100;
  auto r = store_->queryEntities("", q);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(*r->total, 11u);
}

TEST_F(SqliteStoreTest, ValueHintFindsEveryEntityWithTheValueInOrder) {
  // Values reach the index from every kind of attribute q compares at the top level.
  const char* kinds[] = {
      R"({"type":"Property","value":%s})",
      R"({"type":"Property","value":[7,%s]})",
      R"({"type":"ListProperty","valueList":[%s]})",
      R"({"type":"LanguageProperty","languageMap":{"de":%s}})",
  };
  const char* values[] = {"\"red\"", "\"blue\"", "3", "4.5", "true"};
  std::vector<WriteOp> ops;
  std::vector<std::pair<int, int>> truth;  // entity -> value index
  for (int i = 0; i < 200; ++i) {
    int v = (i * 7) % 5, k = (i * 3) % 4;
    char attr[256];
    std::snprintf(attr, sizeof attr, kinds[k], values[v]);
    std::string id = "urn:v:" + std::to_string(i);
    ops.push_back(put(id, R"({"id":")" + id + R"(","type":["T"],"attrs":{"color":[)" + attr + "]}}"));
    truth.emplace_back(i, v);
  }
  ops.push_back(
      put("urn:v:rel",
          R"({"id":"urn:v:rel","type":["T"],"attrs":{"color":[{"type":"Relationship","object":"urn:x:red"}]}})"));
  for (const auto& st : store_->write("", std::move(ops))) ASSERT_TRUE(st.isOk());

  auto idsFor = [&](ValueHint h) {
    EntityQuery q;
    q.valueHint = std::move(h);
    q.limit = 1000;
    std::vector<std::string> ids;
    auto result = store_->queryEntities("", q);
    EXPECT_TRUE(result.isOk());
    if (!result.isOk()) return ids;
    for (auto& e : result->entities) ids.emplace_back(asView(e["id"]));
    return ids;
  };
  std::vector<IndexValue> asIndex = {std::string("red"), std::string("blue"), 3.0, 4.5, 1.0};
  for (int v = 0; v < 5; ++v) {
    std::vector<std::string> expected;
    for (auto [i, value] : truth) {
      if (value == v) expected.push_back("urn:v:" + std::to_string(i));
    }
    ValueHint h;
    h.attr = "color";
    h.anyOf = {asIndex[v]};
    EXPECT_EQ(idsFor(h), expected) << "value " << v;
    // With an absent extra value (pruned), the answer is the same.
    h.anyOf.push_back(std::string("absent"));
    EXPECT_EQ(idsFor(h), expected) << "value " << v << " with an absent alternative";
  }
  ValueHint range;
  range.attr = "color";
  range.lower = 3.0;
  range.upper = 4.0;
  auto inRange = idsFor(range);
  size_t threes = 0;
  for (auto [i, value] : truth) threes += value == 2;
  EXPECT_EQ(inRange.size(), threes);  // only the value 3 lies in [3, 4]
  ValueHint rel;
  rel.attr = "color";
  rel.anyOf = {std::string("urn:x:red")};
  EXPECT_EQ(idsFor(rel), std::vector<std::string>{"urn:v:rel"});
}

}  // namespace
}  // namespace allmende::store
