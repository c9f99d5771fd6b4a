// The PostgreSQL store (store/postgres/). Runs when ALLMENDE_TEST_STORE names a database
// (tests/postgres_suite runs it so; scripts/pg start gives one), else skips. The temporal and
// retention tests run on it too then (test_store.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/notification_store.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_store.h"
#include "test_store.h"

namespace allmende::store {
namespace {

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/allmende-pgstore-XXXXXX";
    dir_ = mkdtemp(tmpl);
    url_ = testPostgresUrl(dir_);
    if (url_.empty()) GTEST_SKIP() << "ALLMENDE_TEST_STORE not set";
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    PostgresOptions o;
    o.url = url_;
    auto s = openPostgresStore(o);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(s).value();
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
  // An entity of `type` with a Point location and the Property "v" = `v` (a number, or a string
  // when `text` is given).
  static std::string entity(const std::string& id, const std::string& type, double lon, double lat, double v,
                            const std::string& text = "") {
    const std::string value = text.empty() ? std::to_string(v) : "\"" + text + "\"";
    return R"({"id":")" + id + R"(","type":[")" + type +
           R"("],"attrs":{"loc":[{"type":"GeoProperty","value":{"type":"Point","coordinates":[)" + std::to_string(lon) +
           "," + std::to_string(lat) + R"(]}}],"v":[{"type":"Property","value":)" + value + "}]}}";
  }
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
  std::vector<std::string> ids(const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.entities) out.emplace_back(e["id"].GetString());
    return out;
  }

  std::string dir_, url_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresStoreTest, WritesAreReadableAndTenantsSeparate) {
  ASSERT_TRUE(write1("a", put("urn:x:1", entity("urn:x:1", "T", 1, 2, 3))).isOk());
  auto got = store_->getEntity("a", "urn:x:1");
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ((*got)["attrs"]["v"][0]["value"].GetDouble(), 3);
  EXPECT_EQ(store_->getEntity("b", "urn:x:1").status().type(), ErrorType::kResourceNotFound);
  EXPECT_EQ(store_->getEntity("", "urn:x:1").status().type(), ErrorType::kResourceNotFound);
  EXPECT_TRUE(store_->tenantExists("a"));
  EXPECT_FALSE(store_->tenantExists("b"));
  EXPECT_TRUE(store_->tenantExists(""));
  EntityQuery q;
  q.typeIris = {"T"};
  q.selectionExact = true;
  q.count = true;
  EXPECT_EQ(*store_->queryEntities("b", q)->total, 0u);
  EXPECT_EQ(*store_->queryEntities("a", q)->total, 1u);
  ASSERT_TRUE(write1("a", remove("urn:x:1")).isOk());
  EXPECT_EQ(store_->getEntity("a", "urn:x:1").status().type(), ErrorType::kResourceNotFound);
  EXPECT_EQ(*store_->queryEntities("a", q)->total, 0u);
  // The tenant stays; a store opened again knows it (schema migrations are not applied twice).
  reopen();
  EXPECT_TRUE(store_->tenantExists("a"));
}

TEST_F(PostgresStoreTest, AFailingOpChangesNothingAndDoesNotFailItsNeighbours) {
  std::vector<WriteOp> ops;
  ops.push_back(put("urn:x:1", entity("urn:x:1", "T", 0, 0, 1)));
  ops.push_back({"urn:x:2", [](const Json*) -> Result<WriteEffect> { return badRequestData("no"); }});
  ops.push_back(put("urn:x:3", entity("urn:x:3", "T", 0, 0, 1)));
  auto results = store_->write("fresh", std::move(ops));
  EXPECT_TRUE(results[0].isOk());
  EXPECT_EQ(results[1].type(), ErrorType::kBadRequestData);
  EXPECT_TRUE(results[2].isOk());
  EXPECT_EQ(store_->getEntity("fresh", "urn:x:2").status().type(), ErrorType::kResourceNotFound);
  // A write whose every op fails creates no tenant.
  std::vector<WriteOp> bad;
  bad.push_back({"urn:x:9", [](const Json*) -> Result<WriteEffect> { return badRequestData("no"); }});
  store_->write("never", std::move(bad));
  EXPECT_FALSE(store_->tenantExists("never"));
}

TEST_F(PostgresStoreTest, AnOpWhoseSqlFailsFailsAlone) {
  // A type PostgreSQL refuses (text cannot hold NUL) fails in the database, after the op began
  // writing its entity row.
  std::vector<WriteOp> ops;
  ops.push_back(put("urn:x:1", entity("urn:x:1", "T", 0, 0, 1)));
  ops.push_back({"urn:x:2", [](const Json*) -> Result<WriteEffect> {
                   WriteEffect e;
                   e.kind = WriteEffect::Kind::kUpsert;
                   e.entity.Parse(R"({"id":"urn:x:2","type":["T\u0000"],"attrs":{}})");
                   return e;
                 }});
  ops.push_back(put("urn:x:3", entity("urn:x:3", "T", 0, 0, 1)));
  auto results = store_->write("", std::move(ops));
  EXPECT_TRUE(results[0].isOk());
  EXPECT_TRUE(results[2].isOk());
  EXPECT_TRUE(store_->getEntity("", "urn:x:1").isOk());
  EXPECT_TRUE(store_->getEntity("", "urn:x:3").isOk());
  EXPECT_EQ(results[1].type(), ErrorType::kInternalError);
  EXPECT_EQ(store_->getEntity("", "urn:x:2").status().type(), ErrorType::kResourceNotFound);
}

TEST_F(PostgresStoreTest, ReadModifyWriteIsAtomicAcrossConcurrentWriters) {
  ASSERT_TRUE(write1("", put("urn:c:1", R"({"id":"urn:c:1","type":["C"],"n":0,"attrs":{}})")).isOk());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        // Batches touching the same ids in different orders must neither deadlock nor lose one.
        std::vector<WriteOp> ops;
        ops.push_back({"urn:c:1", increment});
        ops.push_back(put("urn:c:new" + std::to_string(i), R"({"id":"x","type":["C"],"attrs":{}})"));
        ops.push_back({"urn:c:1", increment});
        for (const auto& st : store_->write("", std::move(ops))) failures += !st.isOk();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*store_->getEntity("", "urn:c:1"))["n"].GetInt(), 6 * 25 * 2);
}

TEST_F(PostgresStoreTest, QueryOrderIsCreationOrderPagingAndCounts) {
  for (int i = 0; i < 30; ++i) {
    std::string id = "urn:o:" + std::to_string(29 - i);
    ASSERT_TRUE(write1("", put(id, entity(id, i % 2 ? "Odd" : "Even", 0, 0, i))).isOk());
  }
  // An update keeps the position.
  ASSERT_TRUE(write1("", put("urn:o:29", entity("urn:o:29", "Even", 0, 0, 100))).isOk());
  EntityQuery q;
  q.typeIris = {"Even"};
  q.selectionExact = true;
  q.offset = 2;
  q.limit = 3;
  q.count = true;
  auto r = store_->queryEntities("", q);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"urn:o:25", "urn:o:23", "urn:o:21"}));
  EXPECT_EQ(*r->total, 15u);
  // The same page with a predicate evaluated here: the same answer.
  q.match = [](const Json&) { return true; };
  r = store_->queryEntities("", q);
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"urn:o:25", "urn:o:23", "urn:o:21"}));
  EXPECT_EQ(*r->total, 15u);
  // ids and attrs are filters in SQL.
  EntityQuery byId;
  byId.ids = {"urn:o:3", "urn:o:1", "urn:nope"};
  byId.selectionExact = true;
  EXPECT_EQ(ids(*store_->queryEntities("", byId)), (std::vector<std::string>{"urn:o:3", "urn:o:1"}));
  EntityQuery byAttr;
  byAttr.attrs = {"nope"};
  byAttr.count = true;
  EXPECT_EQ(*store_->queryEntities("", byAttr)->total, 0u);
  byAttr.attrs = {"nope", "v"};
  EXPECT_EQ(*store_->queryEntities("", byAttr)->total, 30u);
}

TEST_F(PostgresStoreTest, SelectiveQueriesOnlyVisitTheirCandidates) {
  for (int i = 0; i < 200; ++i) {
    std::string id = "urn:s:" + std::to_string(i);
    // A 20 x 10 grid of points, values i % 50, every tenth one a string.
    ASSERT_TRUE(write1("", put(id, entity(id, "S", i % 20, i / 20, i % 50, i % 10 == 0 ? "x" + std::to_string(i) : "")))
                    .isOk());
  }
  int visited = 0;
  EntityQuery q;
  q.count = true;
  q.limit = 100;
  q.match = [&visited](const Json&) {
    ++visited;
    return true;
  };
  // The value hint: equality, then a range, then strings.
  q.valueHint = ValueHint{"v", {IndexValue{7.0}}, std::nullopt, std::nullopt};
  auto r = store_->queryEntities("", q);
  EXPECT_EQ(*r->total, 4u);  // 7, 57, 107, 157
  EXPECT_EQ(visited, 4);
  visited = 0;
  q.valueHint = ValueHint{"v", {}, IndexValue{48.0}, IndexValue{49.0}};
  r = store_->queryEntities("", q);
  EXPECT_EQ(*r->total, 8u);
  EXPECT_EQ(visited, 8);
  visited = 0;
  q.valueHint = ValueHint{"v", {IndexValue{std::string("x30")}, IndexValue{std::string("x40")}}, {}, {}};
  r = store_->queryEntities("", q);
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"urn:s:30", "urn:s:40"}));
  EXPECT_EQ(visited, 2);
  // The geo box (GiST): x in [2, 3], y in [4, 5] holds 4 points.
  visited = 0;
  q.valueHint.reset();
  q.geoBox = EntityQuery::Box{"loc", 2, 4, 3, 5};
  r = store_->queryEntities("", q);
  EXPECT_EQ(*r->total, 4u);
  EXPECT_EQ(visited, 4);
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"urn:s:82", "urn:s:83", "urn:s:102", "urn:s:103"}));
  // Moving an entity moves its index rows.
  ASSERT_TRUE(write1("", put("urn:s:82", entity("urn:s:82", "S", 50, 50, 1))).isOk());
  EXPECT_EQ(*store_->queryEntities("", q)->total, 3u);
  q.valueHint = ValueHint{"v", {IndexValue{32.0}}, std::nullopt, std::nullopt};  // 82 had 32, now 1
  q.geoBox.reset();
  EXPECT_EQ(ids(*store_->queryEntities("", q)), (std::vector<std::string>{"urn:s:32", "urn:s:132", "urn:s:182"}));
}

// The prefilter (q's AND/OR, absence, disjoint) is evaluated in SQL: `match` sees only the
// entities passing it, also where no single term drives the query.
TEST_F(PostgresStoreTest, PrefiltersLetOnlyCandidatesLeaveTheDatabase) {
  for (int i = 0; i < 200; ++i) {
    std::string id = "urn:s:" + std::to_string(i);
    ASSERT_TRUE(write1("", put(id, entity(id, "S", i % 20, i / 20, i % 50))).isOk());
  }
  int visited = 0;
  EntityQuery q;
  q.count = true;
  q.limit = 100;
  q.match = [&visited](const Json&) {
    ++visited;
    return true;
  };
  auto value = [](double v) {
    Prefilter f;
    f.kind = Prefilter::Kind::kValue;
    f.value = ValueHint{"v", {IndexValue{v}}, std::nullopt, std::nullopt};
    return f;
  };
  // v==7 | v==8: a union of two index scans.
  Prefilter either;
  either.kind = Prefilter::Kind::kOr;
  either.children = {value(7), value(8)};
  q.prefilter = either;
  auto r = store_->queryEntities("", q);
  EXPECT_EQ(*r->total, 8u);
  EXPECT_EQ(visited, 8);
  // An attribute no entity has, without an index to drive by: the tenant is filtered in SQL
  // and nothing leaves the database.
  visited = 0;
  Prefilter has;
  has.kind = Prefilter::Kind::kHasAttr;
  has.attr = "w";
  q.prefilter = has;
  EXPECT_EQ(*store_->queryEntities("", q)->total, 0u);
  EXPECT_EQ(visited, 0);
  // OR with an unindexed branch (absence of w): every entity is a candidate, filtered in SQL.
  visited = 0;
  Prefilter lacks = has;
  lacks.kind = Prefilter::Kind::kLacksAttr;
  Prefilter orLacks;
  orLacks.kind = Prefilter::Kind::kOr;
  orLacks.children = {value(7), lacks};
  q.prefilter = orLacks;
  EXPECT_EQ(*store_->queryEntities("", q)->total, 200u);
  // Disjoint from the half x < 9.5 of the grid: only the other half leaves the database.
  visited = 0;
  Prefilter disjoint;
  disjoint.kind = Prefilter::Kind::kGeoNotInside;
  disjoint.attr = "loc";
  disjoint.geoJson = R"({"type":"Polygon","coordinates":[[[-1,-1],[9.5,-1],[9.5,11],[-1,11],[-1,-1]]]})";
  q.prefilter = disjoint;
  EXPECT_EQ(*store_->queryEntities("", q)->total, 100u);
  EXPECT_EQ(visited, 100);
}

TEST_F(PostgresStoreTest, LongStringsAndStringsWithNulAreIndexedWithoutLoss) {
  const std::string common(600, 'a');  // longer than the index keeps
  ASSERT_TRUE(write1("", put("urn:l:1", entity("urn:l:1", "L", 0, 0, 0, common + "x"))).isOk());
  ASSERT_TRUE(write1("", put("urn:l:2", entity("urn:l:2", "L", 0, 0, 0, common + "y"))).isOk());
  ASSERT_TRUE(write1("", put("urn:l:3", entity("urn:l:3", "L", 0, 0, 0, "a\\u0000b"))).isOk());
  EntityQuery q;
  q.count = true;
  q.match = [](const Json&) { return true; };
  // Both share the indexed prefix: the hint yields both (the exact q would keep one).
  q.valueHint = ValueHint{"v", {IndexValue{common + "y"}}, std::nullopt, std::nullopt};
  EXPECT_EQ(*store_->queryEntities("", q)->total, 2u);
  q.valueHint = ValueHint{"v", {}, IndexValue{common + "y"}, IndexValue{common + "z"}};
  EXPECT_EQ(*store_->queryEntities("", q)->total, 2u);
  // Changing one of them leaves the other's index row alone.
  ASSERT_TRUE(write1("", put("urn:l:1", entity("urn:l:1", "L", 0, 0, 0, "short"))).isOk());
  q.valueHint = ValueHint{"v", {IndexValue{common + "y"}}, std::nullopt, std::nullopt};
  auto r = store_->queryEntities("", q);
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"urn:l:2"}));
  q.valueHint = ValueHint{"v", {IndexValue{std::string("a\0b", 3)}}, std::nullopt, std::nullopt};
  EXPECT_EQ(ids(*store_->queryEntities("", q)), (std::vector<std::string>{"urn:l:3"}));
}

TEST_F(PostgresStoreTest, DiscoveryStatistics) {
  ASSERT_TRUE(write1("", put("urn:d:1", entity("urn:d:1", "A", 0, 0, 1))).isOk());
  ASSERT_TRUE(write1("", put("urn:d:2", entity("urn:d:2", "A", 0, 0, 1))).isOk());
  auto stats = store_->attributeStats("");
  ASSERT_TRUE(stats.isOk());
  size_t typeRows = 0, locRows = 0;
  for (const auto& s : *stats) {
    if (s.type == "A" && s.attribute.empty()) typeRows += s.entities;
    if (s.type == "A" && s.attribute == "loc" && s.kind == "GeoProperty") locRows += s.entities;
  }
  EXPECT_EQ(typeRows, 2u);
  EXPECT_EQ(locRows, 2u);
}

TEST_F(PostgresStoreTest, OutboxRowsAreWrittenWithTheChangeAndClaimedOnce) {
  struct EveryChange : SubscriptionMatcher {
    void match(const TenantId&, const Json*, const Json* after, Micros, std::vector<OutboxEntry>& out) const override {
      if (after) out.push_back({"urn:sub:1", (*after)["id"].GetString(), "{}"});
    }
  } matcher;
  int commits = 0;
  store_->setSubscriptionMatcher(&matcher);
  store_->setCommitListener([&commits] { ++commits; });
  PostgresOptions o;
  o.url = url_;
  auto outbox = openPostgresNotificationStore(o);
  ASSERT_TRUE(outbox.isOk()) << outbox.status().toString();
  ASSERT_TRUE((*outbox)->putSubscription({"", "urn:sub:1", "{}"}, true).isOk());
  EXPECT_EQ((*outbox)->putSubscription({"", "urn:sub:1", "{}"}, true).type(), ErrorType::kAlreadyExists);
  ASSERT_TRUE(write1("t", put("urn:n:1", entity("urn:n:1", "N", 0, 0, 1))).isOk());
  ASSERT_TRUE(write1("t", put("urn:n:2", entity("urn:n:2", "N", 0, 0, 1))).isOk());
  EXPECT_EQ(commits, 2);
  auto rows = (*outbox)->claimOutbox(10);
  ASSERT_TRUE(rows.isOk());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].entityId, "urn:n:1");
  EXPECT_EQ((*rows)[0].tenant, "t");
  EXPECT_TRUE((*outbox)->claimOutbox(10)->empty());  // claimed already
  ASSERT_TRUE((*outbox)->completeOutbox({(*rows)[0].seq, (*rows)[1].seq}).isOk());
  EXPECT_EQ(*(*outbox)->outboxSize(), 0u);
  EXPECT_TRUE((*outbox)->deleteSubscription("", "urn:sub:1").isOk());
  EXPECT_EQ((*outbox)->deleteSubscription("", "urn:sub:1").type(), ErrorType::kResourceNotFound);
}

TEST_F(PostgresStoreTest, MigrationsAreAppliedOnceAndANewerSchemaIsRefused) {
  auto target = postgres::parseStoreUrl(url_);
  auto c = postgres::Connection::open(target->conninfo, target->schema);
  ASSERT_TRUE(c.isOk());
  auto versions = (*c)->run("SELECT count(*), max(version) FROM schema_migrations");
  ASSERT_TRUE(versions.isOk());
  EXPECT_EQ(versions->int64(0, 0), versions->int64(0, 1)) << "each migration once";
  reopen();  // nothing to apply
  ASSERT_TRUE((*c)->exec("INSERT INTO schema_migrations (version) VALUES (9999)").isOk());
  store_.reset();
  PostgresOptions o;
  o.url = url_;
  auto refused = openPostgresStore(o);
  EXPECT_EQ(refused.status().type(), ErrorType::kServiceUnavailable);
}

TEST_F(PostgresStoreTest, AuditLogIsAppendOnlyAndPerTenant) {
  auto log = openPostgresAuditLog(url_);
  ASSERT_TRUE(log.isOk()) << log.status().toString();
  for (int i = 0; i < 3; ++i) {
    AuditRecord r;
    r.at = i;
    r.tenant = i == 1 ? "b" : "a";
    r.action = "POST";
    r.target = "/x/" + std::to_string(i);
    r.status = 201;
    ASSERT_TRUE((*log)->append(r).isOk());
  }
  auto a = (*log)->query("a", 0, 10);
  ASSERT_TRUE(a.isOk());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].target, "/x/2");
  EXPECT_EQ((*log)->query("a", (*a)[0].seq, 10)->size(), 1u);
  // The table itself refuses changes.
  auto target = postgres::parseStoreUrl(url_);
  auto c = postgres::Connection::open(target->conninfo, target->schema);
  ASSERT_TRUE(c.isOk());
  EXPECT_FALSE((*c)->exec("UPDATE audit_log SET status = 200").isOk());
  EXPECT_FALSE((*c)->exec("DELETE FROM audit_log").isOk());
  EXPECT_EQ((*log)->query("a", 0, 10)->size(), 2u);
}

}  // namespace
}  // namespace allmende::store
