// The HTTP/1.1 server (Boost.Beast inside server.cc only). It knows nothing of NGSI-LD: it reads
// requests within the configured limits, hands each to the Handler and writes the answer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/message.h"

namespace allmende::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 1026;            // 0 = any free port (tests)
  int threads = 8;                 // handler threads; handlers may block on the store
  size_t maxBodyBytes = 1 << 20;   // larger bodies are answered 413
  size_t maxHeaderBytes = 16 << 10;
  int headerTimeoutSeconds = 30;   // time to receive a complete request once it started
  int idleTimeoutSeconds = 75;     // keep-alive connections idle longer are closed
  size_t maxConnections = 10000;   // further connections are closed at once
  // A larger body limit for some requests (uploads), decided from the method and the raw target
  // once the header is read; 0 or unset = maxBodyBytes.
  std::function<size_t(std::string_view method, std::string_view target)> uploadLimit;
};

using Handler = std::function<Response(Request&)>;
// Builds the answer to a request that failed below the handler (too large, malformed).
using ErrorResponder = std::function<Response(const Status&)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler, ErrorResponder onError);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address (connections queue until serve()). Fails if it cannot be bound.
  Status listen();
  // Starts accepting and answering on background threads. Requires a successful listen().
  void serve();
  // The bound port (after listen).
  uint16_t port() const;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void stop();

  struct Impl;  // public so the connection sessions in server.cc can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace allmende::http
