// A real HTTP/1.1 notification receiver for the tests and the benchmark: listens on a free
// loopback port, keeps connections alive, records every request and answers with a settable
// status. Requests with a body are framed by Content-Length (as Allmende sends them).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace allmende::testing {

struct ReceivedRequest {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  long long receivedMicros = 0;  // CLOCK_REALTIME at arrival of the whole request
  std::string header(const std::string& lowerName) const;
};

class Receiver {
 public:
  // `silent`: accept connections but never read or answer (a hung receiver).
  explicit Receiver(bool silent = false);
  ~Receiver();
  int port() const { return port_; }
  std::string url(const std::string& path = "/notify") const;

  // The status answered to the following requests (default 204). A function of the request's
  // number (from 0) may decide instead.
  void setStatus(int status) { status_ = status; }
  void setStatusFn(std::function<int(size_t n)> fn);

  // Waits until at least `n` requests arrived or `timeoutMs` passed; returns whether they did.
  bool waitFor(size_t n, int timeoutMs = 15000);
  // Waits until `pred(requests)` holds or the timeout passes. `pred` runs under the receiver's
  // lock: it must not call the receiver.
  bool waitUntil(const std::function<bool(const std::vector<ReceivedRequest>&)>& pred, int timeoutMs = 15000);
  std::vector<ReceivedRequest> requests();
  size_t count();
  void clear();

 private:
  void acceptLoop();
  void serve(int fd);

  bool silent_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<int> status_{204};
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ReceivedRequest> requests_;   // GUARDED_BY(mu_)
  std::function<int(size_t)> statusFn_;     // GUARDED_BY(mu_)
  std::vector<int> clientFds_;              // GUARDED_BY(mu_)
  std::vector<std::thread> clientThreads_;  // GUARDED_BY(mu_)
};

}  // namespace allmende::testing
