// The SQLite registration repository and the cached RegistrationStore over it: CRUD, tenants,
// and a change made through a second repository on the same file (another process) seen after
// the recheck period.
#include "federation/registration_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "federation/registration_json.h"

namespace allmende::federation {
namespace {

class ManualClock : public Clock {
 public:
  Micros now() const override { return now_; }
  Micros now_ = 1'000'000;
};

class RegistrationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("fed-store-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "allmende.db").string();
    auto repo = store::openSqliteRegistrationRepository(path_);
    ASSERT_TRUE(repo) << repo.status().toString();
    repo_ = std::move(*repo);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Registration reg(const std::string& tenant, const std::string& id, const std::string& type) {
    JsonDocument d;
    EXPECT_TRUE(parseJson(R"({"id": ")" + id + R"(", "type": "ContextSourceRegistration", "endpoint": "http://a.org",
      "information": [{"entities": [{"type": ")" +
                              type + R"("}]}]})",
                          d)
                    .isOk());
    auto r = parseRegistration(d, {}, tenant, 5);
    EXPECT_TRUE(r);
    return *r;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<store::RegistrationRepository> repo_;
  ManualClock clock_;
};

TEST_F(RegistrationStoreTest, CrudPerTenant) {
  RegistrationStore s(*repo_, clock_);
  ASSERT_TRUE(s.create(reg("a", "urn:r:1", "urn:T")).isOk());
  ASSERT_TRUE(s.create(reg("b", "urn:r:1", "urn:U")).isOk());
  EXPECT_EQ(s.create(reg("a", "urn:r:1", "urn:T")).type(), ErrorType::kAlreadyExists);
  auto a = s.get("a", "urn:r:1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->information[0].entities[0].types[0], "urn:T");
  EXPECT_EQ(s.get("b", "urn:r:1")->information[0].entities[0].types[0], "urn:U");
  EXPECT_EQ(s.get("", "urn:r:1").status().type(), ErrorType::kResourceNotFound);
  Registration changed = *a;
  changed.endpoint = "http://b.org";
  ASSERT_TRUE(s.replace(changed).isOk());
  EXPECT_EQ(s.get("a", "urn:r:1")->endpoint, "http://b.org");
  EXPECT_EQ(s.replace(reg("a", "urn:r:9", "urn:T")).type(), ErrorType::kResourceNotFound);
  ASSERT_TRUE(s.remove("a", "urn:r:1").isOk());
  EXPECT_EQ(s.remove("a", "urn:r:1").type(), ErrorType::kResourceNotFound);
  EXPECT_TRUE(s.list("a")->empty());
  EXPECT_EQ(s.list("b")->size(), 1u);
}

TEST_F(RegistrationStoreTest, MatchingReadsTheStore) {
  RegistrationStore s(*repo_, clock_);
  ASSERT_TRUE(s.create(reg("a", "urn:r:2", "urn:Car")).isOk());
  ASSERT_TRUE(s.create(reg("a", "urn:r:1", "urn:Bus")).isOk());
  RequestSelector sel;
  sel.types = {"urn:Car"};
  auto m = matchingRegistrations(s, "a", Operation::kQueryEntity, sel, 10);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].id, "urn:r:2");
  sel.types.clear();
  m = matchingRegistrations(s, "a", Operation::kQueryEntity, sel, 10);
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].id, "urn:r:1");  // by id
  EXPECT_TRUE(matchingRegistrations(s, "b", Operation::kQueryEntity, sel, 10)->empty());
}

TEST_F(RegistrationStoreTest, SeesAnotherWriterAfterTheRecheck) {
  RegistrationStore s(*repo_, clock_, {.recheck = 1000});
  EXPECT_TRUE(s.list("a")->empty());
  auto other = store::openSqliteRegistrationRepository(path_);
  ASSERT_TRUE(other);
  RegistrationStore writer(**other, clock_);
  ASSERT_TRUE(writer.create(reg("a", "urn:r:1", "urn:T")).isOk());
  EXPECT_TRUE(s.list("a")->empty());  // cached
  clock_.now_ += 1000;
  EXPECT_EQ(s.list("a")->size(), 1u);
}

TEST_F(RegistrationStoreTest, SubscriptionsAreSeparateRecords) {
  ASSERT_TRUE(repo_->put(store::CSourceKind::kSubscription, {"a", "urn:s:1", "{}"}, true).isOk());
  EXPECT_EQ(repo_->put(store::CSourceKind::kSubscription, {"a", "urn:s:1", "{}"}, true).type(),
            ErrorType::kAlreadyExists);
  EXPECT_TRUE(repo_->list(store::CSourceKind::kRegistration, "a")->empty());
  EXPECT_EQ(repo_->all(store::CSourceKind::kSubscription)->size(), 1u);
  ASSERT_TRUE(repo_->remove(store::CSourceKind::kSubscription, "a", "urn:s:1").isOk());
  EXPECT_EQ(repo_->get(store::CSourceKind::kSubscription, "a", "urn:s:1").status().type(),
            ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace allmende::federation
