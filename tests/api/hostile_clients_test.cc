// Slow and hostile clients (issue 7): slowloris, very many idle connections, huge headers and
// pipelining floods must not keep the server from answering everyone else. Each test starts
// the real server with small limits and checks that an ordinary client is still answered and
// that the hostile connections are closed by the server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

// A raw TCP connection to the server (nothing sent yet); -1 on failure. `receiveBuffer` > 0
// shrinks the socket's receive buffer (and so the window the server may fill).
// `from` (host order) is the local address to connect from: any 127.x.y.z works on Linux, so
// one test can be several clients.
int connectRaw(int port, int receiveBuffer = 0, uint32_t from = INADDR_ANY) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receiveBuffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  if (from != INADDR_ANY) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(from);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool sendText(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes (true) or `waitMs` passes without it (false); what arrived is
// appended to `got`.
bool closedByPeer(int fd, int waitMs, std::string* got = nullptr) {
  char buf[65536];
  for (int waited = 0; waited < waitMs;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r == 0) {
      waited += 100;
      continue;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    if (got) got->append(buf, static_cast<size_t>(n));
  }
  return false;
}

// An ordinary client is answered `n` times in a row.
void expectHealthy(int port, int n = 20) {
  HttpClient client(port);
  for (int i = 0; i < n; ++i) {
    HttpResult r = client.request("GET", "/health");
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.error;
  }
}

TEST(HostileClientsTest, SlowlorisConnectionsAreClosedAndOthersAnswered) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--header-timeout", "2"});
  ASSERT_TRUE(server.ok());
  constexpr int kSlow = 40;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    int fd = connectRaw(server.port());
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  // Every slow connection trickles a request's headers one byte at a time and never ends them.
  const std::string head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ";
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    for (size_t i = 0; !stop; ++i) {
      for (int fd : slow) {
        char c = i < head.size() ? head[i] : 'a';
        ::send(fd, &c, 1, MSG_NOSIGNAL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  expectHealthy(server.port(), 50);
  // The server closes each slow connection (header timeout), although bytes keep coming.
  int closed = 0;
  for (int fd : slow) closed += closedByPeer(fd, 30000);
  stop = true;
  trickle.join();
  EXPECT_EQ(closed, kSlow);
  for (int fd : slow) ::close(fd);
  expectHealthy(server.port());
}

TEST(HostileClientsTest, SlowBodyIsClosed) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--body-timeout", "1"});
  ASSERT_TRUE(server.ok());
  int fd = connectRaw(server.port());
  ASSERT_TRUE(sendText(fd,
                       "POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 1000\r\n\r\n{\"id\":"));
  EXPECT_TRUE(closedByPeer(fd, 30000));
  ::close(fd);
  expectHealthy(server.port());
}

TEST(HostileClientsTest, ManyIdleConnectionsDoNotLockOthersOut) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--max-connections", "50"});
  ASSERT_TRUE(server.ok());
  // Four times the limit, all idle (connected, nothing sent).
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    int fd = connectRaw(server.port());
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // New clients are still answered: each new connection replaces the longest-idle one.
  for (int i = 0; i < 10; ++i) expectHealthy(server.port(), 3);
  // The oldest idle connections were closed by the server.
  int closed = 0;
  for (int i = 0; i < 100; ++i) closed += closedByPeer(idle[i], 5000);
  EXPECT_EQ(closed, 100);
  // A keep-alive client that is in the middle of nothing but was just answered keeps working
  // after reconnecting (HttpClient reconnects once), also while the idle flood continues.
  for (int i = 0; i < 100; ++i) {
    int fd = connectRaw(server.port());
    if (fd >= 0) idle.push_back(fd);
  }
  expectHealthy(server.port(), 20);
  for (int fd : idle) ::close(fd);
}

// Sends `text` on an open connection and reads the answer's status line ("" when the server
// closed it instead).
std::string statusLineOf(int fd, const std::string& text = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n") {
  if (!sendText(fd, text)) return "";
  std::string got;
  char buf[4096];
  while (got.find("\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got.substr(0, got.find("\r\n"));
}

TEST(HostileClientsTest, OneClientAddressCannotTakeEveryConnection) {
  constexpr uint32_t kClientA = 0x7f000001;  // 127.0.0.1
  constexpr uint32_t kClientB = 0x7f000002;  // 127.0.0.2
  constexpr uint32_t kClientC = 0x7f000003;  // 127.0.0.3
  constexpr int kPerClient = 40;
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(),
                       {"--max-connections", "100", "--max-connections-per-client", std::to_string(kPerClient)});
  ASSERT_TRUE(server.ok());
  // Client B holds 30 idle keep-alive connections (within its limit); they are the
  // longest-waiting ones, the first a full server would close.
  std::vector<int> b;
  for (int i = 0; i < 30; ++i) {
    int fd = connectRaw(server.port(), 0, kClientB);
    ASSERT_GE(fd, 0) << "cannot connect from 127.0.0.2";
    b.push_back(fd);
  }
  ASSERT_EQ(statusLineOf(b.back()), "HTTP/1.1 200 OK");  // all of B's are accepted by now
  // Client A opens twice the server's whole limit, all idle: each beyond its 40 replaces one
  // of A's own, so A never holds more than 40 and B's are never chosen.
  std::vector<int> a;
  for (int i = 0; i < 200; ++i) {
    int fd = connectRaw(server.port(), 0, kClientA);
    ASSERT_GE(fd, 0);
    a.push_back(fd);
  }
  // A's last connection is answered (it replaced one of A's), and its oldest were closed.
  EXPECT_EQ(statusLineOf(a.back()), "HTTP/1.1 200 OK");
  int closed = 0;
  for (int i = 0; i < 150; ++i) closed += closedByPeer(a[i], 5000);
  EXPECT_EQ(closed, 150);
  // Every one of B's connections is still open and answered.
  for (size_t i = 0; i < b.size(); ++i) EXPECT_EQ(statusLineOf(b[i]), "HTTP/1.1 200 OK") << "connection " << i;
  for (int fd : a) ::close(fd);
  a.clear();

  // Client C (a fresh address, so none of A's closed connections still counts) makes all of
  // its connections busy (a body still to come): its next one is closed itself.
  for (int i = 0; i < kPerClient; ++i) {
    int fd = connectRaw(server.port(), 0, kClientC);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendText(fd,
                         "POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: 1000\r\n\r\n{"));
    a.push_back(fd);
  }
  // One more: the server closes exactly one of C's (the new one, or one whose headers it had
  // not read yet), never one of B's.
  int extra = connectRaw(server.port(), 0, kClientC);
  ASSERT_GE(extra, 0);
  a.push_back(extra);
  std::vector<pollfd> polls;
  for (int fd : a) polls.push_back({fd, POLLIN, 0});
  ASSERT_GT(::poll(polls.data(), polls.size(), 30000), 0);
  size_t gone = 0;
  while (gone < polls.size() && polls[gone].revents == 0) ++gone;
  ASSERT_LT(gone, polls.size());
  char c;
  EXPECT_LE(::recv(a[gone], &c, 1, 0), 0);  // closed, no answer
  // The others are alive: the rest of their bodies gets them an answer.
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    if (i == gone) continue;
    EXPECT_EQ(statusLineOf(a[i], std::string(998, ' ') + "}").substr(0, 9), "HTTP/1.1 ") << i;
  }
  int fresh = connectRaw(server.port(), 0, kClientB);
  ASSERT_GE(fresh, 0);
  EXPECT_EQ(statusLineOf(fresh), "HTTP/1.1 200 OK");
  ::close(fresh);
  for (int fd : a) ::close(fd);
  for (int fd : b) ::close(fd);
}

TEST(HostileClientsTest, HugeHeadersAre431) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--max-header", "8192"});
  ASSERT_TRUE(server.ok());
  for (size_t size : {size_t{9000}, size_t{200000}, size_t{4} << 20}) {
    int fd = connectRaw(server.port());
    ASSERT_GE(fd, 0);
    std::string req = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(size, 'a') + "\r\n\r\n";
    std::thread writer([&] { sendText(fd, req); });  // may fail once the server closed
    std::string got;
    EXPECT_TRUE(closedByPeer(fd, 30000, &got)) << size;
    writer.join();
    ::close(fd);
    EXPECT_NE(got.find("HTTP/1.1 431"), std::string::npos) << size << ": " << got.substr(0, 200);
    EXPECT_NE(got.find("\"title\""), std::string::npos) << got.substr(0, 400);  // a ProblemDetails
  }
  // Many headers, each small, count too.
  int fd = connectRaw(server.port());
  std::string req = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
  req += "\r\n";
  std::thread writer([&] { sendText(fd, req); });
  std::string got;
  EXPECT_TRUE(closedByPeer(fd, 30000, &got));
  writer.join();
  ::close(fd);
  EXPECT_NE(got.find("HTTP/1.1 431"), std::string::npos) << got.substr(0, 200);
  expectHealthy(server.port());
}

TEST(HostileClientsTest, PipeliningFloodIsAnsweredInOrderWhileOthersAreServed) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  constexpr int kRequests = 20000;
  int fd = connectRaw(server.port());
  ASSERT_GE(fd, 0);
  std::string flood;
  for (int i = 0; i < kRequests; ++i) flood += "GET /health?n=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  std::thread writer([&] { sendText(fd, flood); });
  // Meanwhile, others are answered.
  expectHealthy(server.port(), 50);
  // The flood is answered completely, one answer per request.
  std::string got;
  size_t answers = 0;
  char buf[65536];
  while (answers < kRequests) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    size_t pos = 0;
    while ((pos = got.find("HTTP/1.1 200", pos)) != std::string::npos) {
      ++answers;
      pos += 12;
    }
    got.erase(0, got.size() > 12 ? got.size() - 12 : 0);  // keep a possibly split status line
  }
  writer.join();
  ::close(fd);
  EXPECT_EQ(answers, static_cast<size_t>(kRequests));
}

// The largest file the web app's page links, and its size (0 if none).
std::pair<std::string, size_t> largestAsset(int port) {
  HttpClient client(port);
  HttpResult page = client.request("GET", "/");
  std::pair<std::string, size_t> largest{"", 0};
  for (size_t at = page.body.find("/assets/"); at != std::string::npos; at = page.body.find("/assets/", at + 1)) {
    std::string path = page.body.substr(at, page.body.find_first_of("\"'", at) - at);
    HttpResult r = client.request("GET", path);
    if (r.status == 200 && r.body.size() > largest.second) largest = {path, r.body.size()};
  }
  return largest;
}

// Clients pipeline requests for far more than the socket buffers hold and never read: the
// server's writes stall, and it must reset each connection after the body timeout. The server
// has read every request, so a graceful close would queue its FIN behind the unsent answers,
// where the closed receive window keeps it (and the kernel keeps the buffers).
TEST(HostileClientsTest, FloodThatNeverReadsDoesNotBlockOthers) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--body-timeout", "2"});
  ASSERT_TRUE(server.ok());
  auto [asset, size] = largestAsset(server.port());
  ASSERT_GT(size, 4096u);
  // More than the largest send buffer the kernel grows to (4 MiB) holds.
  size_t copies = (8u << 20) / size + 1;
  std::string flood;
  for (size_t i = 0; i < copies; ++i) flood += "GET " + asset + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_LT(flood.size(), 65536u);  // taken in by the server at once
  std::vector<int> flooders;
  for (int c = 0; c < 16; ++c) {  // twice the handler threads
    int fd = connectRaw(server.port(), 4096);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendText(fd, flood));
    flooders.push_back(fd);
  }
  expectHealthy(server.port(), 50);
  // Not reading (that would let the server go on): wait for the reset to be signalled.
  int closed = 0;
  for (int fd : flooders) {
    pollfd p{fd, POLLRDHUP, 0};
    closed += ::poll(&p, 1, 30000) == 1 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0;
  }
  for (int fd : flooders) ::close(fd);
  EXPECT_EQ(closed, 16);
  expectHealthy(server.port());
}

}  // namespace
}  // namespace allmende::testing
