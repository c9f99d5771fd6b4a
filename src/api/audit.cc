#include "api/audit.h"

#include "api/access.h"
#include "api/problem.h"

namespace allmende::api {

namespace {

bool audited(const Call& call, int status) {
  const http::Request& r = call.request();
  if (status == 401 || status == 429) return false;
  return r.path.rfind("/admin/", 0) == 0 || (r.method != "GET" && r.method != "HEAD");
}

std::string recordJson(const store::AuditRecord& r) {
  JsonDocument d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("seq", r.seq, a);
  d.AddMember("at", jsonString(formatDateTime(r.at), a), a);
  d.AddMember("subject", jsonString(r.subject, a), a);
  d.AddMember("auth", jsonString(r.auth, a), a);
  d.AddMember("roles", jsonString(r.roles, a), a);
  d.AddMember("action", jsonString(r.action, a), a);
  d.AddMember("target", jsonString(r.target, a), a);
  d.AddMember("status", r.status, a);
  d.AddMember("remote", jsonString(r.remote, a), a);
  return toJsonString(d);
}

// The tenant a record belongs to: the one addressed, or the one a platform admin just created
// (named by the Location of the answer), so that its admins see their tenant's creation.
std::string recordTenant(const Call& call, const http::Response& response) {
  constexpr std::string_view kTenants = "/admin/v1/tenants/";
  if (call.request().path == "/admin/v1/tenants" && response.status == 201) {
    for (const auto& [name, value] : response.headers) {
      if (name == "Location" && value.rfind(kTenants, 0) == 0) return value.substr(kTenants.size());
    }
  }
  return targetTenant(call);
}

}  // namespace

void auditCall(Call& call, const http::Response& response) {
  store::AuditLog* log = call.services().audit;
  int status = response.status;
  if (!log || !audited(call, status)) return;
  const auth::Principal& p = call.principal();
  store::AuditRecord r;
  r.at = call.now();
  r.tenant = recordTenant(call, response);
  r.subject = p.subject;
  r.auth = p.method;
  r.roles = p.roles.toString();
  r.action = call.request().method;
  r.target = call.request().path.substr(0, 1024);
  r.status = status;
  r.remote = call.request().remoteAddress;
  // The change it records is committed already; a failed append (disk full) does not turn the
  // answer into an error. It is rare, and the store fails the next write the same way.
  (void)log->append(std::move(r));
}

http::Response adminTenantAudit(Call& call) {
  store::AuditLog* log = call.services().audit;
  if (!log) return problemResponse(Status(ErrorType::kServiceUnavailable, "the audit log is off (--audit)"));
  int64_t after = 0;
  size_t limit = 100;
  if (const std::string* a = call.param("after")) after = std::atoll(a->c_str());
  if (const std::string* l = call.param("limit")) {
    long long n = std::atoll(l->c_str());
    if (n < 1 || n > 1000) return problemResponse(badRequestData("limit is 1 to 1000"));
    limit = static_cast<size_t>(n);
  }
  auto records = log->query(call.pathParam("tenant"), after, limit);
  if (!records) return problemResponse(records.status());
  std::string out = "[";
  for (size_t i = 0; i < records->size(); ++i) out += (i ? "," : "") + recordJson((*records)[i]);
  http::Response r;
  r.setHeader("Content-Type", "application/json");
  r.body = out + "]";
  return r;
}

}  // namespace allmende::api
