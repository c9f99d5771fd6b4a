// The flags of `allmende serve` that bound what clients and the network can do: HTTP limits and
// timeouts, TLS, CORS (http::ServerOptions) and the egress policy against SSRF
// (common/egress.h). Documented in docs/configuration.md and docs/security.md.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/egress.h"
#include "http/server.h"

namespace allmende::app {

struct SecurityOptions {
  http::ServerOptions http;  // address, port, threads and body limit are set by main
  EgressOptions egress;
  std::string egressPrivate = "auto";  // deny | allow | auto (= deny with --production)
};

void addSecurityFlags(CLI::App& serve, SecurityOptions& o);

// The egress policy for the given mode; fails on a malformed rule.
Result<std::shared_ptr<const EgressPolicy>> makeEgressPolicy(const SecurityOptions& o, bool production);

}  // namespace allmende::app
