// Distributed discovery of entity types and attributes (NGSI-LD 5.7.5 - 5.7.10; the operations
// retrieveEntityTypes ... retrieveAttrTypeInfo of 4.20): the broker's own answer and the answers
// of the matching registrations to the same request, merged (federation/discovery_merge.h).
#include <algorithm>

#include "api/distributed.h"
#include "api/distributed_parts.h"
#include "federation/discovery_merge.h"
#include "federation/forward.h"
#include "model/expand.h"

namespace allmende::api {

using federation::Forwarder;
using federation::Operation;
using federation::SourceAnswer;
using federation::SourceRequest;

namespace {

// details=true asks for the ...Details operation (NGSI-LD 5.7.6, 5.7.9).
Operation withDetails(const Call& call, Operation op) {
  const std::string* d = call.param("details");
  if (!d || *d != "true") return op;
  if (op == Operation::kRetrieveEntityTypes) return Operation::kRetrieveEntityTypeDetails;
  if (op == Operation::kRetrieveAttrTypes) return Operation::kRetrieveAttrTypeDetails;
  return op;
}

// Which registrations a discovery request concerns: those of the named type or attribute, else all.
federation::RequestSelector discoverySelector(const Call& call) {
  federation::RequestSelector s;
  if (const std::string* type = call.pathParamIf("type")) {
    if (auto iri = model::expandTypeName(*type, call.context())) s.types.push_back(*iri);
  }
  if (const std::string* attr = call.pathParamIf("attrId")) {
    if (auto iri = model::expandAttributeName(*attr, call.context())) s.attrs.push_back(*iri);
  }
  return s;
}

}  // namespace

http::Response distributedDiscovery(Call& call, Operation op, HandlerFn local) {
  const Forwarder* fwd = call.services().forwarder;
  if (!fwd) return local(call);
  if (!call.resolveTenant(false).isOk() || !fwd->anyRegistration(call.tenant())) return local(call);
  if (!call.resolveContextFromLink().isOk()) return local(call);
  auto targets = distributedTargets(call, withDetails(call, op), discoverySelector(call));
  if (!targets || targets->empty()) return local(call);
  // Each source is asked once, however many of its registrations match: its counts would be
  // added up twice otherwise.
  std::vector<federation::Registration> once;
  for (auto& r : *targets) {
    bool seen = std::any_of(once.begin(), once.end(), [&](const federation::Registration& o) {
      return o.endpoint == r.endpoint && o.tenant == r.tenant;
    });
    if (!seen) once.push_back(std::move(r));
  }
  targets->swap(once);
  http::Response mine = local(call);
  if (mine.status != 200 && mine.status != 404) return mine;

  SourceRequest base;
  base.method = "GET";
  base.path = call.request().rawPath.empty() ? call.request().path : call.request().rawPath;
  base.query = forwardedParams(call);
  base.headers = forwardedHeaders(call, false);
  std::vector<SourceRequest> requests(targets->size(), base);
  std::vector<SourceAnswer> answers = fwd->send(*targets, requests, call.request().header("via"));

  JsonDocument merged;
  bool have = mine.status == 200 && parseJson(mine.body, merged).isOk();
  std::vector<std::string> warnings;
  for (const SourceAnswer& a : answers) {
    if (a.response && a.response->status == 404) continue;  // the source knows no such type / attribute
    JsonDocument theirs;
    if (!a.response || a.response->status != 200 || !parseJson(a.response->body, theirs).isOk() ||
        !(theirs.IsObject() || theirs.IsArray())) {
      warnings.push_back(a.response && a.response->status == 200
                             ? Forwarder::warning({a.registration, Status(ErrorType::kServiceUnavailable,
                                                                          "answer is not NGSI-LD JSON")})
                             : Forwarder::warning(a));
      continue;
    }
    if (!have) {
      merged.Swap(theirs);
      have = true;
    } else {
      federation::mergeDiscovery(merged, theirs, merged.GetAllocator());
    }
  }
  if (!have) {
    addWarnings(mine, warnings);
    return mine;  // the local 404 (or an answer that was not JSON)
  }
  http::Response r = call.jsonResponse(200, toJsonString(merged));
  addWarnings(r, warnings);
  return r;
}

}  // namespace allmende::api
