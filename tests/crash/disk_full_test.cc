// Disk full (issue 7): the data directory is a size-limited tmpfs mounted by the test (root
// needed; skipped with a message otherwise). Writes until the disk is full; then writes fail with
// a 503 ProblemDetails, reads keep working, the server stays up; once the filesystem is grown,
// writes resume; after a restart every acknowledged write is there and the database passes
// SQLite's integrity check.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

// A tmpfs of `megabytes` on a fresh directory, unmounted on destruction.
class SmallDisk {
 public:
  explicit SmallDisk(int megabytes) {
    if (::mount("allmende-test", dir_.path().c_str(), "tmpfs", 0, options(megabytes).c_str()) != 0) {
      error_ = std::strerror(errno);
    } else {
      mounted_ = true;
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string path() const { return dir_.path(); }
  bool resize(int megabytes) {
    return ::mount("allmende-test", dir_.path().c_str(), "tmpfs", MS_REMOUNT, options(megabytes).c_str()) == 0;
  }

 private:
  static std::string options(int megabytes) { return "size=" + std::to_string(megabytes) + "m,mode=0700"; }
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

std::string entity(const std::string& id) {
  // About 4 KiB each, so that a few MiB fill the disk quickly.
  return R"({"id": ")" + id + R"(", "type": "Probe", "text": {"type": "Property", "value": ")" +
         std::string(4000, 'x') + R"("}})";
}

std::string integrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "cannot open";
  sqlite3_stmt* st = nullptr;
  std::string result = "cannot check";
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return result;
}

TEST(DiskFullTest, WritesFailCleanlyReadsWorkAndWritesResume) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs (not root: disk-full test skipped)";
  SmallDisk disk(12);
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs (" << disk.error() << "): disk-full test skipped";
  const std::string data = disk.path() + "/data";
  std::vector<std::string> acknowledged;
  {
    ServerProcess server(ALLMENDE_BINARY, data);
    ASSERT_TRUE(server.ok());
    HttpClient client(server.port());
    HttpResult failed;
    for (int i = 0; i < 20000; ++i) {
      std::string id = "urn:ngsi-ld:Probe:" + std::to_string(i);
      HttpResult r = client.request("POST", "/ngsi-ld/v1/entities", kJson, entity(id));
      if (r.status != 201) {
        failed = r;
        break;
      }
      acknowledged.push_back(id);
    }
    ASSERT_GT(acknowledged.size(), 20u);
    ASSERT_EQ(failed.status, 503) << failed.body;
    EXPECT_NE(failed.body.find("ServiceUnavailable"), std::string::npos) << failed.body;
    EXPECT_NE(failed.body.find("full"), std::string::npos) << failed.body;
    std::printf("disk full after %zu entities: %s\n", acknowledged.size(), failed.body.c_str());

    // Further writes fail the same way (or, when SQLite found a few free pages, succeed); the
    // server stays up.
    for (int i = 0; i < 20; ++i) {
      std::string id = "urn:ngsi-ld:Probe:late" + std::to_string(i);
      HttpResult r = client.request("POST", "/ngsi-ld/v1/entities", kJson, entity(id));
      EXPECT_TRUE(r.status == 503 || r.status == 201) << r.status << " " << r.body;
      if (r.status == 201) acknowledged.push_back(id);
    }
    HttpResult batch =
        client.request("POST", "/ngsi-ld/v1/entityOperations/upsert", kJson,
                       "[" + entity("urn:ngsi-ld:Probe:b1") + "," + entity("urn:ngsi-ld:Probe:b2") + "]");
    EXPECT_TRUE(batch.status == 503 || batch.status == 207 || batch.status == 201) << batch.status << " " << batch.body;
    if (batch.status == 201) {
      acknowledged.push_back("urn:ngsi-ld:Probe:b1");
      acknowledged.push_back("urn:ngsi-ld:Probe:b2");
    }
    // Reads keep working.
    EXPECT_EQ(client.request("GET", "/health").status, 200);
    for (size_t i = 0; i < acknowledged.size(); i += acknowledged.size() / 20) {
      EXPECT_EQ(client.request("GET", "/ngsi-ld/v1/entities/" + acknowledged[i]).status, 200) << acknowledged[i];
    }
    HttpResult count = client.request("GET", "/ngsi-ld/v1/entities?type=Probe&count=true&limit=1");
    EXPECT_EQ(count.status, 200);
    EXPECT_EQ(count.header("ngsild-results-count"), std::to_string(acknowledged.size()));

    // Space returns: writes resume.
    ASSERT_TRUE(disk.resize(64));
    int resumedAfter = -1;
    for (int attempt = 0; attempt < 10 && resumedAfter < 0; ++attempt) {
      std::string id = "urn:ngsi-ld:Probe:resumed" + std::to_string(attempt);
      if (client.request("POST", "/ngsi-ld/v1/entities", kJson, entity(id)).status == 201) {
        resumedAfter = attempt;
        acknowledged.push_back(id);
      }
    }
    EXPECT_EQ(resumedAfter, 0) << "writes did not resume at once when space returned";
    for (int i = 0; i < 50; ++i) {
      std::string id = "urn:ngsi-ld:Probe:more" + std::to_string(i);
      HttpResult r = client.request("POST", "/ngsi-ld/v1/entities", kJson, entity(id));
      ASSERT_EQ(r.status, 201) << r.body;
      acknowledged.push_back(id);
    }
    server.stop();
  }
  EXPECT_EQ(integrityCheck(data + "/allmende.db"), "ok");
  ServerProcess server(ALLMENDE_BINARY, data);
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  size_t missing = 0;
  for (const auto& id : acknowledged) missing += client.request("GET", "/ngsi-ld/v1/entities/" + id).status != 200;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size();
}

}  // namespace
}  // namespace allmende::testing
