#include "api/audit.h"

#include <cstdint>
#include <cstdlib>

#include "api/access.h"
#include "api/problem.h"
#include "api/tenant_service.h"

namespace allmende::api {

namespace {

bool auditedCall(const Call& call) {
  const http::Request& r = call.request();
  return r.path.rfind("/admin/", 0) == 0 || (r.method != "GET" && r.method != "HEAD");
}

bool audited(const Call& call, int status) { return status != 401 && status != 429 && auditedCall(call); }

// Calls whose writes all go through the store's transactions (Store::write and the temporal
// writes), which carry the journal row; every other audited call journals an intent first.
bool writesThroughStore(const http::Request& r) {
  for (std::string_view p :
       {"/ngsi-ld/v1/entities", "/ngsi-ld/v1/entityOperations/", "/ngsi-ld/v1/temporal/", "/ingest/v1/"}) {
    if (r.path.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

// The tenant a tenant creation names before it runs (its record's tenant is otherwise taken from
// the answer's Location, which a record recovered from the journal never saw): the body's name,
// else its AGS, as createTenant registers it. "" when the body does not tell.
std::string tenantCreated(const Call& call) {
  JsonDocument body;
  if (!parseJson(call.request().body, body).isOk() || !body.IsObject()) return "";
  TenantSpec spec;
  for (auto [member, out] : {std::pair{"name", &spec.name}, std::pair{"ags", &spec.ags}}) {
    const Json* v = findMember(body, member);
    if (v && v->IsString()) *out = std::string(asView(*v));
  }
  return spec.effectiveName();
}

bool createsTenant(const Call& call) {
  return call.request().method == "POST" && call.request().path == "/admin/v1/tenants";
}

// The journal row's text: the record without its status (written straight, on every audited call).
std::string journalText(Call& call) {
  const auth::Principal& p = call.principal();
  JsonBuffer buf;
  JsonWriter w(buf);
  auto member = [&w](const char* name, std::string_view v) {
    w.Key(name);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("at");
  w.Int64(call.now());
  member("tenant", createsTenant(call) ? tenantCreated(call) : targetTenant(call));
  member("subject", p.subject);
  member("auth", p.method);
  member("roles", p.roles.toString());
  member("action", call.request().method);
  member("target", std::string_view(call.request().path).substr(0, 1024));
  member("remote", call.request().remoteAddress);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
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
  if (createsTenant(call) && response.status == 201) {
    for (const auto& [name, value] : response.headers) {
      if (name == "Location" && value.rfind(kTenants, 0) == 0) return value.substr(kTenants.size());
    }
  }
  return targetTenant(call);
}

store::AuditRecord recordOf(Call& call) {
  const auth::Principal& p = call.principal();
  store::AuditRecord r;
  r.at = call.now();
  r.tenant = targetTenant(call);
  r.subject = p.subject;
  r.auth = p.method;
  r.roles = p.roles.toString();
  r.action = call.request().method;
  r.target = call.request().path.substr(0, 1024);
  r.remote = call.request().remoteAddress;
  return r;
}

void record(Call& call, const http::Response& response, const store::JournalEntry* entry) {
  store::AuditLog* log = call.services().audit;
  const bool journaled = entry && entry->written;
  if (!log || (!journaled && !audited(call, response.status))) return;
  store::AuditRecord r = recordOf(call);
  r.tenant = recordTenant(call, response);
  r.status = response.status;
  if (journaled) {
    // Its journal row committed (with the change, or as the intent): the record is safe.
    r.journal = entry->id;
    log->post(std::move(r));
    return;
  }
  // Nothing of the call was committed: a failed append (disk full) does not turn the answer
  // into an error.
  (void)log->append(std::move(r));
}

}  // namespace

void auditCall(Call& call, const http::Response& response) { record(call, response, nullptr); }

AuditScope::AuditScope(Call& call) : call_(call) {
  if (!call.services().audit || !auditedCall(call)) return;
  entry_ = std::make_unique<store::JournalEntry>();
  entry_->id = store::JournalEntry::nextId();
  entry_->text = journalText(call);
}

AuditScope::~AuditScope() = default;

std::optional<http::Response> AuditScope::begin() {
  if (!entry_) return std::nullopt;
  if (!writesThroughStore(call_.request()) && call_.request().method != "GET" && call_.request().method != "HEAD") {
    Status st = call_.services().audit->journal(*entry_);
    if (!st.isOk()) return problemResponse(Status(ErrorType::kServiceUnavailable, "the audit log: " + st.detail()));
  }
  scope_.emplace(entry_.get());
  return std::nullopt;
}

void AuditScope::finish(const http::Response& response) {
  scope_.reset();
  record(call_, response, entry_.get());
}

// GET /admin/v1/tenants/{t}/audit: filters subject, action, target (a path prefix), status,
// since / until (ISO 8601, [since, until)); paging by after=<seq of the last record seen> and
// limit (1-1000, default 100).
http::Response adminTenantAudit(Call& call) {
  store::AuditLog* log = call.services().audit;
  if (!log) return problemResponse(Status(ErrorType::kServiceUnavailable, "the audit log is off (--audit)"));
  store::AuditQuery q;
  auto integer = [&call](const char* name, long long lo, long long hi, long long& out) -> Status {
    const std::string* v = call.param(name);
    if (!v) return Status::ok();
    char* end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < lo || n > hi) {
      return badRequestData(std::string(name) + " must be an integer from " + std::to_string(lo) + " to " +
                            std::to_string(hi));
    }
    out = n;
    return Status::ok();
  };
  long long after = 0, limit = 100, status = -1;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(integer("after", 0, INT64_MAX, after));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(integer("limit", 1, 1000, limit));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(integer("status", 0, 599, status));
  q.afterSeq = after;
  q.limit = static_cast<size_t>(limit);
  q.status = static_cast<int>(status);
  if (const std::string* v = call.param("subject")) q.subject = *v;
  if (const std::string* v = call.param("action")) q.action = *v;
  if (const std::string* v = call.param("target")) q.targetPrefix = *v;
  for (auto [name, out] : {std::pair{"since", &q.since}, std::pair{"until", &q.until}}) {
    if (const std::string* v = call.param(name)) {
      auto t = parseDateTime(*v);
      if (!t) return problemResponse(badRequestData(std::string(name) + " must be an ISO 8601 date-time"));
      *out = *t;
    }
  }
  auto records = log->query(call.pathParam("tenant"), q);
  if (!records) return problemResponse(records.status());
  std::string out = "[";
  for (size_t i = 0; i < records->size(); ++i) out += (i ? "," : "") + recordJson((*records)[i]);
  http::Response r;
  r.setHeader("Content-Type", "application/json");
  r.body = out + "]";
  return r;
}

}  // namespace allmende::api
