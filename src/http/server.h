// The HTTP/1.1 server (Boost.Beast inside server.cc only). It knows nothing of NGSI-LD: it reads
// requests within the configured limits, hands each to the Handler and writes the answer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace allmende::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 1026;              // 0 = any free port (tests)
  int threads = 8;                   // handler threads; handlers may block on the store
  size_t maxBodyBytes = 1 << 20;     // larger bodies are answered 413
  size_t maxHeaderBytes = 16 << 10;  // request line and headers; more is answered 431
  int headerTimeoutSeconds = 30;     // from the first byte of a request (or the TLS hello) to its last header
  int bodyTimeoutSeconds = 60;       // to receive the body after the headers, and to send an answer
  int idleTimeoutSeconds = 75;       // keep-alive connections idle longer are closed
  // At this many open connections a new one closes the connection that has waited longest for
  // (the rest of) a request's headers -- an idle keep-alive or a slow client -- or, when every
  // connection is busy, is closed itself. Lowered to what the open-file limit allows.
  size_t maxConnections = 10000;
  // At most this many open connections per client address (an IPv6 client: per /64 prefix), so
  // one client cannot take every slot; 0 = no per-client limit. A new connection beyond it closes
  // the longest-waiting connection of the same client, or itself when all of them are busy.
  // 256: far above what browsers (6 per origin), sensors and scripts open, and above a NAT'd
  // office; a fortieth of maxConnections. Behind a reverse proxy every connection has the proxy's
  // address: set 0 there and limit per client in the proxy (docs/security.md).
  size_t maxConnectionsPerClient = 256;
  // TLS (HTTPS only on the port) when both are set: PEM certificate chain and private key.
  // TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites only.
  std::string tlsCertFile;
  std::string tlsKeyFile;
  int hstsMaxAgeSeconds = 31536000;  // Strict-Transport-Security on every answer over TLS; 0 = none
  // Origins allowed to call the API from a browser (CORS); "*" allows any; empty = no CORS headers.
  std::vector<std::string> corsOrigins;
  // Reverse proxies / load balancers (addresses or CIDR blocks) whose X-Forwarded-For names the
  // client (Request::remoteAddress: quotas, per-client limits, audit); http/forwarded.h.
  std::vector<std::string> trustedProxies;
  // A larger body limit for some requests (uploads), decided from the method and the raw target
  // once the headers are read; 0 or unset = maxBodyBytes.
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

  // Binds the address (connections queue until serve()) and loads the TLS certificate and key.
  // Fails if it cannot be bound or the certificate or key cannot be used.
  Status listen();
  // Starts accepting and answering on background threads. Requires a successful listen().
  void serve();
  // The bound port (after listen).
  uint16_t port() const;
  // Whether the port speaks TLS (after a successful listen()).
  bool tls() const;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void stop();

  struct Impl;  // public so the connection sessions in server.cc can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace allmende::http
