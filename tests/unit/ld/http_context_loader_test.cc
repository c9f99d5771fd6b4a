// HttpContextLoader against a tiny HTTP server on 127.0.0.1, port 0 (plain POSIX sockets).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "ld/context_loader.h"

namespace allmende::ld {
namespace {

// Serves canned responses by path; "/hang" reads the request and never answers.
class TinyServer {
 public:
  explicit TinyServer(std::map<std::string, std::string> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TinyServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::string lastAccept;

 private:
  void run() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      size_t a = req.find("ccept: ");
      if (a != std::string::npos) lastAccept = req.substr(a + 7, req.find("\r\n", a) - a - 7);
      std::string path = req.substr(4, req.find(' ', 4) - 4);
      if (path == "/hang") {
        while (!stop_ && ::read(c, buf, sizeof buf) > 0) {
        }
        ::close(c);
        continue;
      }
      auto it = responses_.find(path);
      std::string res = it != responses_.end() ? it->second : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      if (path.starts_with("/redirect")) {
        res = "HTTP/1.1 302 Found\r\nLocation: " + url("/ok") + "\r\nContent-Length: 0\r\n\r\n";
      }
      (void)!::write(c, res.data(), res.size());
      ::close(c);
    }
  }
  std::map<std::string, std::string> responses_;
  int fd_;
  int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/ld+json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST(HttpContextLoaderTest, FetchesRedirectsAndFails) {
  const std::string doc = R"({"@context": {"a": "http://a/"}})";
  TinyServer server({{"/ok", ok(doc)}, {"/big", ok(std::string(2048, ' ') + doc)}});
  HttpContextLoaderOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  o.maxBodyBytes = 1024;
  auto loader = makeHttpContextLoader(o);
  auto r = loader->load(server.url("/ok"));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(*r, doc);
  EXPECT_EQ(server.lastAccept, "application/ld+json, application/json");
  auto redirected = loader->load(server.url("/redirect"));
  ASSERT_TRUE(redirected.isOk()) << redirected.status().toString();
  EXPECT_EQ(*redirected, doc);
  for (const std::string& path : {"/missing", "/big"}) {
    auto bad = loader->load(server.url(path));
    ASSERT_FALSE(bad.isOk()) << path << " got " << bad->size() << " bytes";
    EXPECT_EQ(bad.status().type(), ErrorType::kLdContextNotAvailable) << path;
  }
  EXPECT_FALSE(loader->load("ftp://example.org/x").isOk());
}

TEST(HttpContextLoaderTest, TimeoutOnSilentServer) {
  TinyServer server({});
  HttpContextLoaderOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto loader = makeHttpContextLoader(o);
  auto start = std::chrono::steady_clock::now();
  auto r = loader->load(server.url("/hang"));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kLdContextNotAvailable);
  EXPECT_NE(r.status().detail().find("timeout"), std::string::npos) << r.status().detail();
  EXPECT_LT(took, std::chrono::milliseconds(3000));
}

TEST(HttpContextLoaderTest, ConnectionRefused) {
  int port;
  {
    TinyServer s({});
    port = std::stoi(s.url("").substr(17));
  }
  auto r = makeHttpContextLoader()->load("http://127.0.0.1:" + std::to_string(port) + "/x");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kLdContextNotAvailable);
}

}  // namespace
}  // namespace allmende::ld
