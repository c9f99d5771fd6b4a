// Distributed operations (NGSI-LD 4.3.6, 6.3.18): which context sources a request reaches, and
// sending it to them. The forwarder builds one request per matching registration (the source's
// endpoint, its tenant, its contextSourceInfo as headers, Via with this broker's id), sends them
// in parallel with a timeout each (http_client.h), and says per source what came back. Merging
// the answers is merge.h's job; the API layer (api/distributed.cc) puts the pieces together.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "federation/http_client.h"
#include "federation/merge.h"
#include "federation/registration.h"

namespace allmende::federation {

struct ForwardOptions {
  // This broker's name in Via headers (RFC 9110 7.6.3, NGSI-LD 6.3.18); a request whose Via
  // already names it is answered locally, never forwarded again (loop prevention).
  std::string brokerId;
  HttpClientOptions http;  // per-source timeout, answer size limit, egress policy
  // How many entities a query asks of each source (and of the local store) before merging:
  // paging and counting happen over the merged set, which is complete below this number.
  size_t maxEntitiesPerSource = 1000;
};

// A request as it goes to every source; the forwarder adds the source-specific parts.
struct SourceRequest {
  std::string method;
  std::string path;                                        // below the endpoint, e.g. "/ngsi-ld/v1/entities"
  std::vector<std::pair<std::string, std::string>> query;  // not encoded yet
  Headers headers;                                         // Accept, Content-Type, Link ...
  std::string body;
};

// What one source answered (or why it did not).
struct SourceAnswer {
  const Registration* registration = nullptr;
  Result<InboundResponse> response = internalError("not sent");
};

class Forwarder {
 public:
  Forwarder(const RegistrationStore& registrations, ForwardOptions options, const Clock& clock);

  const ForwardOptions& options() const { return options_; }

  // Whether a request may be forwarded: not with local=true (NGSI-LD 6.3.18), not when its Via
  // header (lower-case `via` value) already names this broker.
  bool mayForward(std::string_view localParam, std::string_view via) const;

  // Whether `tenant` has any registration at all (a cheap check before building a selector).
  bool anyRegistration(const std::string& tenant) const;

  // The registrations of `tenant` that `op` on `selector` reaches (registration.h).
  Result<std::vector<Registration>> targets(const std::string& tenant, Operation op,
                                            const RequestSelector& selector) const;

  // Sends requests[i] to targets[i], all at once, and waits for all (each within its timeout:
  // the registration's management.timeout, else ForwardOptions). `via` is the incoming Via value.
  // Answers are in the order of `targets` and point into it.
  std::vector<SourceAnswer> send(const std::vector<Registration>& targets, const std::vector<SourceRequest>& requests,
                                 std::string_view via) const;

  // The delivery state of a registration (NGSI-LD 5.2.9 timesSent, timesFailed, lastSuccess,
  // lastFailure), counted by this forwarder since the start; nullopt when nothing was sent yet.
  std::optional<RegistrationStatus> status(const std::string& tenant, const std::string& registrationId) const;

  // The NGSILD-Warning value (NGSI-LD 6.3.17, warn-code syntax of RFC 7234 5.5) for a source that
  // failed or answered with an error: `199 <registration id> "<reason>"`.
  static std::string warning(const SourceAnswer& answer);

 private:
  // Whether `r` is resting after a failure (management.cooldown, NGSI-LD 5.2.34).
  bool coolingDown(const Registration& r, Micros now) const;
  void record(const Registration& r, bool ok, Micros now) const;

  const RegistrationStore& registrations_;
  ForwardOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  mutable std::map<std::pair<std::string, std::string>, RegistrationStatus> status_;  // GUARDED_BY(mu_)
};

// A broker id for Via headers when none is configured: "allmende-" and 12 random hex digits.
std::string randomBrokerId();

// Precedence of a registration's data when merging (merge.h).
Precedence precedenceOf(Mode mode);

// The URL of `path` at a source: its endpoint without a trailing '/', then `path` and the
// percent-encoded query.
std::string sourceUrl(const std::string& endpoint, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace allmende::federation
