#include "receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace allmende::testing {

namespace {

long long nowMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string ReceivedRequest::header(const std::string& lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return v;
  }
  return {};
}

Receiver::Receiver(bool silent) : silent_(silent) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listenFd_, 128) != 0) return;
  socklen_t len = sizeof addr;
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

Receiver::~Receiver() {
  stopping_ = true;
  ::shutdown(listenFd_, SHUT_RDWR);
  ::close(listenFd_);
  if (acceptThread_.joinable()) acceptThread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : clientFds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(clientThreads_);
  }
  for (auto& t : threads) t.join();
}

std::string Receiver::url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

void Receiver::setStatusFn(std::function<int(size_t)> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  statusFn_ = std::move(fn);
}

void Receiver::acceptLoop() {
  while (!stopping_) {
    int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    clientFds_.push_back(fd);
    clientThreads_.emplace_back([this, fd] { serve(fd); });
  }
}

void Receiver::serve(int fd0) {
  // Closing forgets the descriptor first, so that the destructor never shuts down a number the
  // process has reused for another socket.
  struct Closer {
    Receiver* self;
    int fd;
    ~Closer() {
      {
        std::lock_guard<std::mutex> lock(self->mu_);
        auto& v = self->clientFds_;
        v.erase(std::remove(v.begin(), v.end(), fd), v.end());
      }
      ::close(fd);
    }
  } closer{this, fd0};
  const int fd = fd0;
  std::string buf;
  char chunk[65536];
  auto fill = [&]() {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  };
  if (silent_) {
    while (!stopping_ && ::recv(fd, chunk, sizeof chunk, MSG_PEEK) > 0) usleep(100000);
    return;
  }
  for (;;) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return;
    }
    ReceivedRequest r;
    std::string head = buf.substr(0, end);
    size_t lineEnd = head.find("\r\n");
    std::string line = head.substr(0, lineEnd);
    size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t contentLength = 0;
    size_t pos = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string h = head.substr(pos, e - pos);
      size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = lower(h.substr(0, colon));
        std::string value = h.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        if (name == "content-length") contentLength = std::stoul(value);
        r.headers.emplace_back(std::move(name), std::move(value));
      }
      pos = e + 2;
    }
    buf.erase(0, end + 4);
    while (buf.size() < contentLength) {
      if (!fill()) return;
    }
    r.body = buf.substr(0, contentLength);
    buf.erase(0, contentLength);
    r.receivedMicros = nowMicros();
    int status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status = statusFn_ ? statusFn_(requests_.size()) : status_.load();
      requests_.push_back(std::move(r));
    }
    cv_.notify_all();
    std::string answer = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
    if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
  }
}

bool Receiver::waitFor(size_t n, int timeoutMs) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return requests_.size() >= n; });
}

bool Receiver::waitUntil(const std::function<bool(const std::vector<ReceivedRequest>&)>& pred, int timeoutMs) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return pred(requests_); });
}

std::vector<ReceivedRequest> Receiver::requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t Receiver::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

void Receiver::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
}

}  // namespace allmende::testing
