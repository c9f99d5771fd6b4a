#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "store/sqlite/device_registry.h"

namespace allmende::store {
namespace {

struct TempDb {
  std::string dir;
  TempDb() {
    char tmpl[] = "/tmp/allmende-devices-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string path() const { return dir + "/allmende.db"; }
};

DeviceRecord device(std::string tenant, std::string id, int64_t interval = 0) {
  DeviceRecord r;
  r.tenant = std::move(tenant);
  r.id = std::move(id);
  r.entityId = "urn:ngsi-ld:S:" + r.id;
  r.entityType = "S";
  r.mapping = "{}";
  r.expectedIntervalSeconds = interval;
  r.created = 1000000;
  return r;
}

TEST(DeviceRegistry, DevicesAreKeptPerTenantAndPersist) {
  TempDb db;
  {
    auto reg = openSqliteDeviceRegistry(db.path());
    ASSERT_TRUE(reg.isOk());
    ASSERT_TRUE((*reg)->createDevice(device("a", "d1")).isOk());
    ASSERT_TRUE((*reg)->createDevice(device("b", "d1")).isOk());
    EXPECT_EQ((*reg)->createDevice(device("a", "d1")).type(), ErrorType::kAlreadyExists);
    (*reg)->recordOutcome("a", "d1", 5000000, Status::ok());
    (*reg)->recordOutcome("a", "d1", 6000000, Status(ErrorType::kBadRequestData, "bad"));
    ASSERT_TRUE((*reg)->flushHealth().isOk());
  }
  auto reg = openSqliteDeviceRegistry(db.path());
  ASSERT_TRUE(reg.isOk());
  ASSERT_EQ((*reg)->listDevices("a").size(), 1u);
  ASSERT_EQ((*reg)->listDevices("b").size(), 1u);
  EXPECT_TRUE((*reg)->listDevices("").empty());
  auto d = (*reg)->findDevice("a", "d1");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->health.accepted, 1);
  EXPECT_EQ(d->health.rejected, 1);
  EXPECT_EQ(d->health.lastSeen, 5000000);
  EXPECT_EQ(d->health.lastError, "bad");
  EXPECT_EQ((*reg)->findDevice("b", "d1")->health.accepted, 0);
  ASSERT_TRUE((*reg)->deleteDevice("a", "d1").isOk());
  EXPECT_FALSE((*reg)->findDevice("a", "d1").has_value());
  EXPECT_EQ((*reg)->deleteDevice("a", "d1").type(), ErrorType::kResourceNotFound);
}

TEST(DeviceRegistry, SilentDevices) {
  Device d{device("a", "d1", 60), {}};
  EXPECT_FALSE(isSilent(d, d.record.created + 59000000));
  EXPECT_TRUE(isSilent(d, d.record.created + 61000000));  // never seen since registration
  d.health.lastSeen = d.record.created + 100000000;
  EXPECT_FALSE(isSilent(d, d.health.lastSeen + 60000000));
  EXPECT_TRUE(isSilent(d, d.health.lastSeen + 60000001));
  d.record.expectedIntervalSeconds = 0;
  EXPECT_FALSE(isSilent(d, d.health.lastSeen + 1000000000000));
}

}  // namespace
}  // namespace allmende::store
