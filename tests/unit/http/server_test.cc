// The server's connection handling against real sockets on loopback: answers, limits, and the
// two timeouts (idle between requests, header once a request has started).
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace allmende::http {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions o) {
    o.address = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(
        o,
        [](Request& r) {
          Response res;
          res.body = r.method + " " + r.path + " " + r.body;
          return res;
        },
        [](const Status& st) {
          Response res;
          res.status = httpStatusOf(st.type());
          res.body = st.detail();
          return res;
        });
    ASSERT_TRUE(server_->listen().isOk());
    server_->serve();
  }
  int connectClient() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server_->port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
  static void sendText(int fd, const std::string& s) { ASSERT_EQ(send(fd, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size()); }
  // Everything the server sends within `ms`; stops early at a complete-looking answer.
  static std::string receive(int fd, int ms) {
    std::string out;
    char buf[4096];
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (out.find("\r\n\r\n") != std::string::npos) break;
    }
    return out;
  }
  // Whether the server closed the connection within `ms`.
  static bool closedWithin(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char c;
    return recv(fd, &c, 1, MSG_PEEK) == 0;
  }
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, AnswersKeepAliveRequests) {
  start({});
  int fd = connectClient();
  for (int i = 0; i < 3; ++i) {
    sendText(fd, "POST /x%20y HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
    std::string answer = receive(fd, 2000);
    EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
    EXPECT_NE(answer.find("POST /x y hi"), std::string::npos) << answer;
  }
  close(fd);
}

TEST_F(ServerTest, OversizedHeadersAre431AndBodiesAre413) {
  ServerOptions o;
  o.maxHeaderBytes = 1024;
  o.maxBodyBytes = 100;
  start(o);
  int fd = connectClient();
  sendText(fd, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_NE(receive(fd, 2000).find(" 431 "), std::string::npos);
  close(fd);
  fd = connectClient();
  sendText(fd, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 200\r\n\r\n" + std::string(200, 'b'));
  EXPECT_NE(receive(fd, 2000).find(" 413 "), std::string::npos);
  close(fd);
}

TEST_F(ServerTest, IdleConnectionsLiveUntilTheIdleTimeoutButSlowRequestsDoNot) {
  ServerOptions o;
  o.idleTimeoutSeconds = 3;
  o.headerTimeoutSeconds = 1;
  start(o);
  // Idle longer than the header timeout, shorter than the idle timeout: still served.
  int idle = connectClient();
  EXPECT_FALSE(closedWithin(idle, 1600));
  sendText(idle, "GET /still HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(receive(idle, 2000).find("200 OK"), std::string::npos);
  // A request that started but does not finish is cut after the header timeout.
  int slow = connectClient();
  sendText(slow, "GET /slow HTTP/1.1\r\nHo");
  EXPECT_TRUE(closedWithin(slow, 2500));
  close(idle);
  close(slow);
}

}  // namespace
}  // namespace allmende::http
