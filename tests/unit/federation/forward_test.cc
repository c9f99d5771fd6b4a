// The forwarding client (federation/http_client.h) and forwarder (federation/forward.h) against
// real sockets on loopback: answers, a refused port, a listener that never answers, an answer
// over the size limit, the egress policy, the Via header and loop detection.
#include "federation/forward.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "federation/http_client.h"

namespace allmende::federation {
namespace {

// A loopback listener. With `answer`, each connection gets it after the request head; without,
// connections are accepted by the kernel and never served.
class Listener {
 public:
  explicit Listener(std::string answer = "") : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (!answer_.empty()) thread_ = std::thread([this] { serve(); });
  }
  ~Listener() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::string lastRequest() const {
    std::lock_guard lock(mu_);
    return lastRequest_;
  }

 private:
  void serve() {
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
      {
        std::lock_guard lock(mu_);
        lastRequest_ = req;
      }
      ::write(c, answer_.data(), answer_.size());
      ::close(c);
    }
  }
  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::string lastRequest_;  // GUARDED_BY(mu_)
};

std::string httpAnswer(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(ExchangeAll, AnswersFailuresAndTimeoutsEachInItsPlace) {
  Listener ok(httpAnswer("[1,2,3]"));
  Listener silent;
  std::vector<OutboundRequest> reqs(4);
  reqs[0] = {"GET", ok.url("/ngsi-ld/v1/entities?type=T"), {{"Accept", "application/json"}}, "", {}};
  reqs[1] = {"GET", silent.url(), {}, "", {}};
  reqs[2] = {"GET", "http://127.0.0.1:" + std::to_string(closedPort()) + "/", {}, "", {}};
  reqs[3] = {"GET", "ftp://example.org/", {}, "", {}};
  HttpClientOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto res = exchangeAll(reqs, o);
  ASSERT_EQ(res.size(), 4u);
  ASSERT_TRUE(res[0].isOk()) << res[0].status().detail();
  EXPECT_EQ(res[0]->status, 200);
  EXPECT_EQ(res[0]->body, "[1,2,3]");
  EXPECT_EQ(res[0]->header("content-type"), "application/json");
  EXPECT_NE(ok.lastRequest().find("GET /ngsi-ld/v1/entities?type=T HTTP/1.1"), std::string::npos);
  ASSERT_FALSE(res[1].isOk());
  EXPECT_EQ(res[1].status().type(), ErrorType::kServiceUnavailable);
  EXPECT_NE(res[1].status().detail().find("no answer within 200 ms"), std::string::npos) << res[1].status().detail();
  ASSERT_FALSE(res[2].isOk());
  EXPECT_NE(res[2].status().detail().find("connect failed"), std::string::npos) << res[2].status().detail();
  ASSERT_FALSE(res[3].isOk());
  EXPECT_EQ(res[3].status().type(), ErrorType::kBadRequestData);
}

TEST(ExchangeAll, AnAnswerOverTheLimitFails) {
  Listener big(httpAnswer(std::string(5000, 'x')));
  HttpClientOptions o;
  o.maxBodyBytes = 1000;
  auto res = exchangeAll({{"GET", big.url(), {}, "", {}}}, o);
  ASSERT_FALSE(res[0].isOk());
  EXPECT_NE(res[0].status().detail().find("larger than 1000 bytes"), std::string::npos) << res[0].status().detail();
}

TEST(ExchangeAll, TheEgressPolicyIsChecked) {
  Listener ok(httpAnswer("{}"));
  EgressOptions eo;
  eo.denyPrivate = true;
  HttpClientOptions o;
  o.egress = *EgressPolicy::make(eo);
  auto res = exchangeAll({{"GET", ok.url(), {}, "", {}}}, o);
  ASSERT_FALSE(res[0].isOk());
  EXPECT_EQ(res[0].status().type(), ErrorType::kBadRequestData);
}

TEST(SplitUrl, HostPortAndTarget) {
  UrlParts u;
  ASSERT_TRUE(splitUrl("https://[::1]:8443/a?b=c#frag", u));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.target, "/a?b=c");
  ASSERT_TRUE(splitUrl("http://example.org", u));
  EXPECT_EQ(u.port, "80");
  EXPECT_EQ(u.target, "/");
  EXPECT_FALSE(splitUrl("http://user@example.org/", u));
}

TEST(SourceUrl, EndpointPathAndEncodedQuery) {
  EXPECT_EQ(sourceUrl("http://h:1/", "/ngsi-ld/v1/entities", {{"q", "a==\"b c\""}, {"type", "T"}}),
            "http://h:1/ngsi-ld/v1/entities?q=a%3D%3D%22b%20c%22&type=T");
}

TEST(Warning, NamesTheRegistrationAndTheReason) {
  Registration r;
  r.id = "urn:ngsi-ld:ContextSourceRegistration:x";
  SourceAnswer a{&r, Status(ErrorType::kServiceUnavailable, "context source http://h: \"no\" answer")};
  EXPECT_EQ(Forwarder::warning(a),
            "199 urn:ngsi-ld:ContextSourceRegistration:x \"context source http://h: 'no' answer\"");
}

}  // namespace
}  // namespace allmende::federation
