// Streamed answers (Response::stream) against real sockets on loopback: chunked framing for
// HTTP/1.1 with the connection kept, a body that ends with the connection for HTTP/1.0, no body
// for HEAD, and a stream that fails midway leaving a visibly truncated body.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include "http/server.h"

namespace allmende::http {
namespace {

// `pieces` pieces "piece-<i>;" (every third one empty), then the end, or a failure when `fail`.
class Pieces : public BodySource {
 public:
  Pieces(int pieces, bool fail) : pieces_(pieces), fail_(fail) {}
  Step next(std::string& out) override {
    if (i_ == pieces_) return fail_ ? Step::kFailed : Step::kEnd;
    if (i_ % 3 != 2) out += "piece-" + std::to_string(i_) + ";";
    ++i_;
    return Step::kMore;
  }

 private:
  int pieces_, fail_, i_ = 0;
};

std::string expectedBody(int pieces) {
  std::string b;
  for (int i = 0; i < pieces; ++i) {
    if (i % 3 != 2) b += "piece-" + std::to_string(i) + ";";
  }
  return b;
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(
        o,
        [](Request& r) {
          Response res;
          res.setHeader("Content-Type", "text/plain");
          // /N: N pieces; /fail/N: N pieces, then a failure; /small: a plain body.
          if (r.path == "/small") {
            res.body = "small";
          } else if (r.path.rfind("/fail/", 0) == 0) {
            res.stream = std::make_shared<Pieces>(std::stoi(r.path.substr(6)), true);
          } else {
            res.stream = std::make_shared<Pieces>(std::stoi(r.path.substr(1)), false);
          }
          return res;
        },
        [](const Status& st) {
          Response res;
          res.status = httpStatusOf(st.type());
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
  static void sendText(int fd, const std::string& s) {
    ASSERT_EQ(send(fd, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size());
  }
  // Reads until `done(bytes so far)` or the connection closes (closed set), or 10 s pass.
  static std::string receiveUntil(int fd, const std::function<bool(const std::string&)>& done, bool* closed) {
    std::string out;
    char buf[8192];
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    *closed = false;
    while (std::chrono::steady_clock::now() < end && !done(out)) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Decodes a chunked body; false when it does not end with the last chunk.
  static bool dechunk(std::string_view in, std::string& body) {
    body.clear();
    for (;;) {
      size_t eol = in.find("\r\n");
      if (eol == std::string_view::npos) return false;
      size_t size = std::stoul(std::string(in.substr(0, eol)), nullptr, 16);
      if (size == 0) return in.substr(eol) == "\r\n\r\n";
      if (in.size() < eol + 2 + size + 2 || in.substr(eol + 2 + size, 2) != "\r\n") return false;
      body.append(in.substr(eol + 2, size));
      in.remove_prefix(eol + 2 + size + 2);
    }
  }
  static bool endsWithLastChunk(const std::string& s) {
    return s.size() >= 5 && s.compare(s.size() - 5, 5, "0\r\n\r\n") == 0;
  }

  std::unique_ptr<Server> server_;
};

TEST_F(StreamTest, Http11IsChunkedAndTheConnectionStays) {
  int fd = connectClient();
  for (int n : {0, 1, 50, 20000}) {  // 20000 pieces: many writes of 64 KiB
    sendText(fd, "GET /" + std::to_string(n) + " HTTP/1.1\r\nHost: h\r\n\r\n");
    bool closed;
    std::string answer = receiveUntil(fd, endsWithLastChunk, &closed);
    ASSERT_FALSE(closed) << n;
    size_t head = answer.find("\r\n\r\n");
    ASSERT_NE(head, std::string::npos);
    EXPECT_NE(answer.substr(0, head).find("Transfer-Encoding: chunked"), std::string::npos);
    EXPECT_EQ(answer.substr(0, head).find("Content-Length"), std::string::npos);
    std::string body;
    ASSERT_TRUE(dechunk(std::string_view(answer).substr(head + 4), body)) << n;
    EXPECT_EQ(body, expectedBody(n));
  }
  // A plain answer on the same connection afterwards.
  sendText(fd, "GET /small HTTP/1.1\r\nHost: h\r\n\r\n");
  bool closed;
  std::string answer = receiveUntil(
      fd, [](const std::string& s) { return s.find("small") != std::string::npos; }, &closed);
  EXPECT_NE(answer.find("Content-Length: 5"), std::string::npos) << answer;
  close(fd);
}

TEST_F(StreamTest, Http10BodyEndsWithTheConnection) {
  int fd = connectClient();
  sendText(fd, "GET /40 HTTP/1.0\r\n\r\n");
  bool closed;
  std::string answer = receiveUntil(
      fd, [](const std::string&) { return false; }, &closed);
  EXPECT_TRUE(closed);
  size_t head = answer.find("\r\n\r\n");
  ASSERT_NE(head, std::string::npos);
  EXPECT_EQ(answer.substr(0, head).find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(answer.substr(head + 4), expectedBody(40));
  close(fd);
}

TEST_F(StreamTest, HeadSendsNoBody) {
  int fd = connectClient();
  sendText(fd, "HEAD /40 HTTP/1.1\r\nHost: h\r\n\r\nGET /small HTTP/1.1\r\nHost: h\r\n\r\n");
  bool closed;
  std::string answer = receiveUntil(
      fd, [](const std::string& s) { return s.find("small") != std::string::npos; }, &closed);
  // The HEAD answer's head, then directly the next answer.
  size_t second = answer.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << answer;
  EXPECT_EQ(answer.substr(second - 4, 4), "\r\n\r\n");
  EXPECT_EQ(answer.find("piece"), std::string::npos);
  close(fd);
}

TEST_F(StreamTest, AFailingStreamLeavesATruncatedBody) {
  int fd = connectClient();
  sendText(fd, "GET /fail/7 HTTP/1.1\r\nHost: h\r\n\r\n");
  bool closed;
  std::string answer = receiveUntil(
      fd, [](const std::string&) { return false; }, &closed);
  EXPECT_TRUE(closed);
  size_t head = answer.find("\r\n\r\n");
  ASSERT_NE(head, std::string::npos);
  std::string body;
  EXPECT_FALSE(dechunk(std::string_view(answer).substr(head + 4), body)) << answer;
  EXPECT_FALSE(endsWithLastChunk(answer));
  close(fd);
}

}  // namespace
}  // namespace allmende::http
