#include "app/security_setup.h"

#include "http/forwarded.h"

namespace allmende::app {

void addSecurityFlags(CLI::App& s, SecurityOptions& o) {
  http::ServerOptions& h = o.http;
  s.add_option("--max-connections", h.maxConnections,
               "open connections; at the limit a new one replaces the one waiting longest for a request")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  s.add_option("--max-connections-per-client", h.maxConnectionsPerClient,
               "open connections per client address (IPv6: per /64); beyond it a new one replaces that client's "
               "longest-waiting connection; 0 = no limit (behind a reverse proxy)")
      ->check(CLI::Range(size_t{0}, size_t{1000000}))
      ->capture_default_str();
  s.add_option("--max-header", h.maxHeaderBytes, "largest request line and headers in bytes (more: 431)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 20))
      ->capture_default_str();
  s.add_option("--header-timeout", h.headerTimeoutSeconds, "seconds from a request's first byte to its last header")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  s.add_option("--body-timeout", h.bodyTimeoutSeconds, "seconds to receive a body, and to send an answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  s.add_option("--idle-timeout", h.idleTimeoutSeconds, "seconds a keep-alive connection may wait for its next request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  s.add_option("--tls-cert", h.tlsCertFile, "PEM certificate chain: the port speaks HTTPS (with --tls-key)");
  s.add_option("--tls-key", h.tlsKeyFile, "PEM private key of --tls-cert");
  s.add_option("--hsts-max-age", h.hstsMaxAgeSeconds, "Strict-Transport-Security max-age over TLS (0 = no header)")
      ->check(CLI::Range(0, 63072000))
      ->capture_default_str();
  s.add_option("--trusted-proxy", h.trustedProxies,
               "address or CIDR block of a reverse proxy / load balancer whose X-Forwarded-For names the client "
               "(repeatable)")
      ->check([](const std::string& v) {
        auto t = http::TrustedProxies::parse({v});
        return t ? std::string() : t.status().detail();
      });
  s.add_option("--cors-origin", h.corsOrigins, "origin allowed to call the API from a browser (repeatable; * = any)");
  s.add_option("--egress-allow", o.egress.allow,
               "address, CIDR block, host name or *.domain Allmende may always connect to (repeatable)");
  s.add_option("--egress-deny", o.egress.deny,
               "address, CIDR block, host name or *.domain Allmende must not connect to (repeatable)");
  s.add_option("--egress-private", o.egressPrivate,
               "loopback/private/link-local destinations: deny, allow, or auto (deny with --production)")
      ->check(CLI::IsMember({"auto", "deny", "allow"}))
      ->capture_default_str();
}

Result<std::shared_ptr<const EgressPolicy>> makeEgressPolicy(const SecurityOptions& o, bool production) {
  EgressOptions e = o.egress;
  e.denyPrivate = o.egressPrivate == "deny" || (o.egressPrivate == "auto" && production);
  return EgressPolicy::make(e);
}

}  // namespace allmende::app
