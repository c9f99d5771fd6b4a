#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace allmende::testing {

std::string HttpResult::header(const std::string& lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return v;
  }
  return "";
}

std::vector<std::string> HttpResult::headersNamed(const std::string& lowerName) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == lowerName) out.push_back(v);
  }
  return out;
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) close(fd_);
}

bool HttpClient::connect() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{30, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return true;
}

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// recv that is not cut short by a signal (a child process of the test ending, for instance):
// an interrupted read must not look like a closed connection, or the request would be sent twice.
ssize_t recvSome(int fd, char* buf, size_t size) {
  ssize_t n;
  do {
    n = ::recv(fd, buf, size, 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

bool sendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Decodes a chunked body (RFC 9112 7.1) from `buf`, reading more from fd as needed; false when
// the connection ends before the last chunk (a streamed answer the server broke off).
bool readChunked(int fd, std::string buf, std::string& body) {
  char chunk[65536];
  auto need = [&](size_t n) {
    while (buf.size() < n) {
      ssize_t got = recvSome(fd, chunk, sizeof chunk);
      if (got <= 0) return false;
      buf.append(chunk, static_cast<size_t>(got));
    }
    return true;
  };
  size_t pos = 0;
  for (;;) {
    size_t eol;
    while ((eol = buf.find("\r\n", pos)) == std::string::npos) {
      if (!need(buf.size() + 1)) return false;
    }
    size_t size = std::stoul(buf.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) return need(eol + 4);  // no trailers from our server: CRLF after the last chunk
    if (!need(eol + 2 + size + 2)) return false;
    body.append(buf, eol + 2, size);
    pos = eol + 2 + size + 2;
    if (pos > (1 << 20)) {  // keep the buffer small on long bodies
      buf.erase(0, pos);
      pos = 0;
    }
  }
}

// Reads one response (Content-Length framing, or chunked for streamed answers).
bool readResponse(int fd, HttpResult& out) {
  std::string buf;
  char chunk[65536];
  size_t headerEnd;
  while ((headerEnd = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recvSome(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  std::string head = buf.substr(0, headerEnd);
  size_t lineEnd = head.find("\r\n");
  std::string statusLine = head.substr(0, lineEnd);
  out.status = std::atoi(statusLine.c_str() + statusLine.find(' ') + 1);
  size_t contentLength = 0;
  bool chunked = false;
  size_t pos = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "content-length") contentLength = std::stoul(value);
      if (name == "transfer-encoding" && lower(value) == "chunked") chunked = true;
      out.headers.emplace_back(name, value);
    }
    pos = e + 2;
  }
  if (chunked) return readChunked(fd, buf.substr(headerEnd + 4), out.body);
  out.body = buf.substr(headerEnd + 4);
  while (out.body.size() < contentLength) {
    ssize_t n = recvSome(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    out.body.append(chunk, static_cast<size_t>(n));
  }
  return true;
}
}  // namespace

HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool hasLength = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    hasLength = hasLength || lower(k) == "content-length";
  }
  if (!hasLength && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH"))
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 && !connect()) {
      HttpResult r;
      r.error = "connect failed";
      return r;
    }
    HttpResult r;
    if (sendAll(fd_, req) && readResponse(fd_, r)) {
      if (lower(r.header("connection")) == "close") {
        close(fd_);
        fd_ = -1;
      }
      return r;
    }
    close(fd_);
    fd_ = -1;
    if (attempt == 1) {
      r.status = 0;
      r.error = "no response";
      return r;
    }
  }
  return {};
}

std::string testStoreBase() {
  if (const char* url = std::getenv("ALLMENDE_TEST_STORE"); url && *url) return url;
  const char* file = std::getenv("ALLMENDE_TEST_STORE_FILE");
  if (!file || !*file) return "";
  std::string url;
  if (FILE* f = std::fopen(file, "r")) {
    char line[1024];
    if (std::fgets(line, sizeof line, f)) url = line;
    std::fclose(f);
  }
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r' || url.back() == ' ')) url.pop_back();
  return url;
}

std::string testStoreFor(const std::string& dataDir) {
  const std::string base = testStoreBase();
  if (base.empty()) return "";
  // FNV-1a of the directory: the same server data directory (a restart) finds its schema again.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : dataDir) h = (h ^ c) * 1099511628211ull;
  char schema[32];
  std::snprintf(schema, sizeof schema, "t_%016llx", static_cast<unsigned long long>(h));
  std::string url = base;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema;
}

ServerProcess::ServerProcess(const std::string& binary, const std::string& dataDir,
                             const std::vector<std::string>& extraArgs, const std::string& logFile) {
  // A test that names the store itself (several nodes on one database) keeps it.
  const bool ownStore = std::find(extraArgs.begin(), extraArgs.end(), "--store") != extraArgs.end();
  const std::string store = ownStore ? "" : testStoreFor(dataDir);
  int pipefd[2];
  if (pipe(pipefd) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    // The server dies with the test process, also when the test crashes: an orphaned server
    // would keep ctest waiting on the output pipe it inherited.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(pipefd[1], STDOUT_FILENO);
    if (!logFile.empty()) {
      int log = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) dup2(log, STDERR_FILENO);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<std::string> args = {binary, "serve", "--port", "0", "--address", "127.0.0.1", "--data", dataDir};
    if (!store.empty()) args.insert(args.end(), {"--store", store});
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  FILE* out = fdopen(pipefd[0], "r");
  char line[512];
  while (out && std::fgets(line, sizeof line, out)) {
    if (const char* p = std::strstr(line, "listening on ")) {
      const char* colon = std::strrchr(p, ':');
      if (colon) port_ = std::atoi(colon + 1);
      break;
    }
  }
  // Keep draining stdout in the background would need a thread; the server prints nothing more
  // to stdout, so closing our end is safe (SIGPIPE is ignored by the server).
  if (out) fclose(out);
}

void ServerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // A server that started shuts down with 0; anything else (a sanitizer report in the
      // sanitizer builds, a crash) fails the test that ran it. (A server that refused to start
      // is the test's own business: it checks ok().)
      if (port_ <= 0) return;
      if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        ADD_FAILURE() << "the server exited with status " << WEXITSTATUS(status) << " (see its stderr)";
      } else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
        ADD_FAILURE() << "the server died of signal " << WTERMSIG(status);
      }
      return;
    }
    usleep(50000);
  }
  ADD_FAILURE() << "the server did not stop within 5 s of SIGTERM";
  kill9();
}

ServerProcess::~ServerProcess() { stop(); }

TempDir::TempDir() {
  char tmpl[] = "/tmp/allmende-test-XXXXXX";
  const char* p = mkdtemp(tmpl);
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

int freePort() {
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

}  // namespace allmende::testing
