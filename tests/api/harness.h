// Black-box test harness: starts the real allmende binary on a free port with a temporary data
// directory, and talks HTTP/1.1 to it. Shared by the case runner and the crash tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace allmende::testing {

struct HttpResult {
  int status = 0;                                            // 0 = transport failure
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string error;  // transport error text

  std::string header(const std::string& lowerName) const;
  std::vector<std::string> headersNamed(const std::string& lowerName) const;
};

// One blocking HTTP/1.1 connection (reconnects when the server closed it).
class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port) {}
  ~HttpClient();
  HttpResult request(const std::string& method, const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     const std::string& body = "");

 private:
  bool connect();
  int port_;
  int fd_ = -1;
};

// The --store of a server with data directory `dataDir`: "" (SQLite in the directory) unless
// ALLMENDE_TEST_STORE names a PostgreSQL database (scripts/pg start); then that database with a
// schema of the directory's own, so that servers do not see each other's data and a restarted
// server finds its data again.
std::string testStoreFor(const std::string& dataDir);
// The database of ALLMENDE_TEST_STORE, else the first line of the file ALLMENDE_TEST_STORE_FILE
// (the ctest fixture `postgres`), else "".
std::string testStoreBase();

// A running server; stopped (SIGTERM, then SIGKILL) on destruction. Started with the store of
// testStoreFor(dataDir).
class ServerProcess {
 public:
  // Starts `binary serve --port 0 --data <dataDir>` plus `extraArgs`; waits until it listens.
  // With `logFile`, the server's stderr (its log) goes to that file (appended).
  ServerProcess(const std::string& binary, const std::string& dataDir, const std::vector<std::string>& extraArgs = {},
                const std::string& logFile = "");
  ~ServerProcess();
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void kill9();  // crash it
  void stop();   // SIGTERM and wait

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A fresh temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (for helper servers such as Mosquitto,
// which cannot report the port they chose).
int freePort();

}  // namespace allmende::testing
