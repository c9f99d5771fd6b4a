// The tenant registry, API key records and the audit log of the embedded store.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store/sqlite/audit_log.h"
#include "store/sqlite/tenant_registry.h"
#include "test_store.h"

namespace allmende::store {
namespace {

class TenancyStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("allmende-tenancy-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "allmende.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // The registry in the directory's file, or in PostgreSQL when the tests run there (test_store.h).
  Result<std::unique_ptr<TenantRegistry>> openRegistry() const {
    const std::string url = testPostgresUrl(dir_.string());
    return url.empty() ? openSqliteTenantRegistry(path_) : openPostgresTenantRegistry(url);
  }
  std::filesystem::path dir_;
  std::string path_;
};

TenantRecord tenant(const std::string& name, const std::string& ags) {
  TenantRecord t;
  t.name = name;
  t.ags = ags;
  t.displayName = name;
  t.settings = "{}";
  t.checklist = "[]";
  return t;
}

TEST_F(TenancyStore, TenantsSurviveReopenAndNamesAndAgsAreUnique) {
  {
    auto r = openRegistry();
    ASSERT_TRUE(r.isOk());
    EXPECT_TRUE((*r)->createTenant(tenant("a", "09162000")).isOk());
    EXPECT_EQ((*r)->createTenant(tenant("a", "09162001")).type(), ErrorType::kAlreadyExists);
    EXPECT_EQ((*r)->createTenant(tenant("b", "09162000")).type(), ErrorType::kAlreadyExists);
  }
  auto r = openRegistry();
  ASSERT_TRUE(r.isOk());
  auto a = (*r)->findTenant("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ags, "09162000");
  EXPECT_FALSE((*r)->findTenant("b").has_value());
}

TEST_F(TenancyStore, DeletingATenantRemovesItsKeysOnly) {
  auto r = openRegistry();
  ASSERT_TRUE(r.isOk());
  ASSERT_TRUE((*r)->createTenant(tenant("a", "09162000")).isOk());
  ASSERT_TRUE((*r)->createTenant(tenant("b", "09162001")).isOk());
  ApiKeyRecord ka{"key-a", "hash-a", "a", "editor", "", "", 1, 0, false};
  ApiKeyRecord kb{"key-b", "hash-b", "b", "editor", "", "", 1, 0, false};
  ASSERT_TRUE((*r)->addKey(ka).isOk());
  ASSERT_TRUE((*r)->addKey(kb).isOk());
  ASSERT_TRUE((*r)->deleteTenant("a").isOk());
  EXPECT_FALSE((*r)->findKeyByHash("hash-a").has_value());
  EXPECT_TRUE((*r)->findKeyByHash("hash-b").has_value());
  EXPECT_EQ((*r)->deleteTenant("a").type(), ErrorType::kResourceNotFound);
}

TEST_F(TenancyStore, RevokeIsScopedToTheTenant) {
  auto r = openRegistry();
  ASSERT_TRUE(r.isOk());
  ASSERT_TRUE((*r)->createTenant(tenant("a", "09162000")).isOk());
  ASSERT_TRUE((*r)->addKey({"key-a", "hash-a", "a", "editor", "", "", 1, 0, false}).isOk());
  EXPECT_EQ((*r)->revokeKey("b", "key-a").type(), ErrorType::kResourceNotFound);
  EXPECT_FALSE((*r)->findKeyByHash("hash-a")->revoked);
  EXPECT_TRUE((*r)->revokeKey("a", "key-a").isOk());
  EXPECT_TRUE((*r)->findKeyByHash("hash-a")->revoked);
  auto listed = (*r)->listKeys("a");
  ASSERT_TRUE(listed.isOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].hash.empty()) << "lists never carry hashes";
}

TEST_F(TenancyStore, ChangesOfAnotherProcessAreSeenAfterTheRefreshPeriod) {
  auto server = openRegistry();
  auto cli = openRegistry();
  ASSERT_TRUE(server.isOk() && cli.isOk());
  ASSERT_TRUE((*cli)->createTenant(tenant("late", "09162000")).isOk());
  std::this_thread::sleep_for(std::chrono::milliseconds(kRegistryRefreshMillis + 100));
  EXPECT_TRUE((*server)->findTenant("late").has_value());
}

TEST_F(TenancyStore, AuditLogIsAppendOnlyAndPerTenant) {
  {
    auto log = openSqliteAuditLog(path_);
    ASSERT_TRUE(log.isOk());
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
    auto after = (*log)->query("a", (*a)[0].seq, 10);
    ASSERT_EQ(after->size(), 1u);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_log SET status=200", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_log", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto log = openSqliteAuditLog(path_);
  EXPECT_EQ((*log)->query("a", 0, 10)->size(), 2u);
}

}  // namespace
}  // namespace allmende::store
