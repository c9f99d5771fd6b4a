// `allmende backup` / `allmende restore` (issue 7): a backup taken while clients write holds
// every write acknowledged before the backup began; restored into a fresh data directory, the
// server starts and serves them. Restore refuses a data directory a server runs on.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

// Runs `allmende <args>`; returns the exit code.
int allmende(const std::string& args) {
  std::string cmd = std::string(ALLMENDE_BINARY) + " " + args + " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(BackupTest, OnlineBackupHoldsEveryAcknowledgedWrite) {
  TempDir data, backup, restored;
  std::set<std::string> beforeBackup;  // acknowledged before the backup started
  std::mutex mu;
  {
    ServerProcess server(ALLMENDE_BINARY, data.path(), {"--audit"});
    ASSERT_TRUE(server.ok());
    std::atomic<bool> stop{false}, backupStarted{false};
    std::atomic<size_t> duringBackup{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        HttpClient client(server.port());
        for (int i = 0; !stop; ++i) {
          std::string id = "urn:ngsi-ld:Probe:w" + std::to_string(w) + "-" + std::to_string(i);
          HttpResult r;
          if (i % 5 == 4) {
            r = client.request(
                "POST", "/ngsi-ld/v1/entityOperations/upsert", kJson,
                R"([{"id": ")" + id + R"(", "type": "Probe"}, {"id": ")" + id + R"(b", "type": "Probe"}])");
          } else {
            r = client.request("POST", "/ngsi-ld/v1/entities", kJson,
                               R"({"id": ")" + id + R"(", "type": "Probe",
                                 "n": {"type": "Property", "value": )" +
                                   std::to_string(i) + "}}");
          }
          ASSERT_TRUE(r.status == 201 || r.status == 204) << r.status << " " << r.body;
          // Answered before the backup started: it must be in the backup. Answered after: it
          // may or may not be.
          if (!backupStarted) {
            std::lock_guard<std::mutex> lock(mu);
            beforeBackup.insert(id);
            if (i % 5 == 4) beforeBackup.insert(id + "b");
          } else {
            ++duringBackup;
          }
        }
      });
    }
    // Let the load get going, then back up while it continues.
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::lock_guard<std::mutex> lock(mu);
      if (beforeBackup.size() > 500) break;
    }
    backupStarted = true;
    EXPECT_EQ(allmende("backup " + backup.path() + "/b --data " + data.path()), 0);
    // A second backup into the same directory is refused (it holds one).
    EXPECT_NE(allmende("backup " + backup.path() + "/b --data " + data.path()), 0);
    // Restoring into the data directory of the running server is refused.
    EXPECT_NE(allmende("restore " + backup.path() + "/b --data " + data.path() + " --replace"), 0);
    stop = true;
    for (auto& t : writers) t.join();
    EXPECT_GT(duringBackup.load(), 0u) << "no write ran concurrently with the backup";
  }
  EXPECT_TRUE(std::filesystem::exists(backup.path() + "/b/allmende.db"));
  EXPECT_TRUE(std::filesystem::exists(backup.path() + "/b/audit.db"));

  ASSERT_EQ(allmende("restore " + backup.path() + "/b --data " + restored.path()), 0);
  // A second restore would overwrite: refused without --replace, done with it.
  EXPECT_NE(allmende("restore " + backup.path() + "/b --data " + restored.path()), 0);
  EXPECT_EQ(allmende("restore " + backup.path() + "/b --data " + restored.path() + " --replace"), 0);

  ServerProcess server(ALLMENDE_BINARY, restored.path(), {"--audit"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  size_t missing = 0;
  for (const auto& id : beforeBackup) missing += client.request("GET", "/ngsi-ld/v1/entities/" + id).status != 200;
  EXPECT_EQ(missing, 0u) << "of " << beforeBackup.size();
  // The restored server takes writes.
  EXPECT_EQ(
      client.request("POST", "/ngsi-ld/v1/entities", kJson, R"({"id": "urn:ngsi-ld:Probe:after", "type": "Probe"})")
          .status,
      201);
  std::printf("backup test: %zu writes acknowledged before the backup, %zu missing after restore\n",
              beforeBackup.size(), missing);
}

TEST(BackupTest, RestoreRefusesWhatIsNotABackup) {
  TempDir empty, data;
  EXPECT_NE(allmende("restore " + empty.path() + " --data " + data.path()), 0);
  EXPECT_NE(allmende("backup " + empty.path() + "/x --data " + data.path()), 0);  // no databases
}

}  // namespace
}  // namespace allmende::testing
