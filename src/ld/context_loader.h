// Where remote @context documents come from: an interface, so tests substitute a fake and the
// store adds caching without callers noticing (STYLE.md 2).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/egress.h"
#include "common/status.h"

namespace allmende::ld {

class ContextLoader {
 public:
  virtual ~ContextLoader() = default;
  // Returns the body of the document at the absolute URL `url`. Thread-safe.
  // Failure (unreachable, timeout, non-2xx status, too large, too many redirects, unsupported
  // scheme): LdContextNotAvailable (NGSI-LD 5.5.2, HTTP 503), with the reason in the detail.
  virtual Result<std::string> load(const std::string& url) = 0;
};

struct HttpContextLoaderOptions {
  std::chrono::milliseconds timeout{5000};  // whole exchange per URL: resolve+connect+TLS+read
  size_t maxBodyBytes = 1 << 20;            // 1 MiB
  int maxRedirects = 3;
  bool verifyTls = true;  // verify the server certificate and host name
  // SSRF: every resolved address is checked and only those that pass are connected to (also
  // after redirects). Null = no restriction. A refusal is BadRequestData (400), not 503.
  std::shared_ptr<const EgressPolicy> egress;
};

// HTTP/1.1 and HTTPS (OpenSSL) client over Boost.Beast. Sends
// "Accept: application/ld+json, application/json" and follows up to maxRedirects redirects.
// Each load() is independent (no connection reuse); safe to call from many threads.
std::unique_ptr<ContextLoader> makeHttpContextLoader(const HttpContextLoaderOptions& options = {});

}  // namespace allmende::ld
