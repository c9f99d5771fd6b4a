// The admin REST API (/admin/v1): tenant lifecycle, API keys and the roll-in checklist.
// Access classes are in the route table (router.cc); the rules in tenant_service.cc.
#include "api/admin.h"

#include <sstream>

#include "api/access.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/rate_limiter.h"
#include "api/templates.h"
#include "api/tenant_export.h"
#include "api/tenant_service.h"

namespace allmende::api {

namespace {

// The JSON object body of an admin call (application/json).
Status parseAdminBody(Call& call, JsonDocument& body) {
  std::string_view type = call.request().header("content-type");
  if (type.substr(0, type.find(';')) != "application/json") {
    return Status(ErrorType::kUnsupportedMediaType, "the admin API takes application/json");
  }
  ALLMENDE_RETURN_IF_ERROR(parseJson(call.request().body, body, call.services().options.json));
  if (!body.IsObject()) return badRequestData("the body must be a JSON object");
  return Status::ok();
}

// A string member ("" when absent); BadRequestData when present but not a string.
Status optionalString(const Json& body, std::string_view name, std::string& out) {
  const Json* v = findMember(body, name);
  if (!v || v->IsNull()) return Status::ok();
  if (!v->IsString()) return badRequestData("\"" + std::string(name) + "\" must be a string");
  out = std::string(asView(*v));
  return Status::ok();
}

// The quotas in force: the tenant's own where set, else the platform's defaults.
std::string quotasJson(const store::TenantQuotas& q, const RateLimit* defaults, const AccessOptions* platform) {
  double rps = q.requestsPerSecond > 0 ? q.requestsPerSecond : defaults ? defaults->perSecond : 0;
  double burst = q.burst > 0 ? q.burst : q.requestsPerSecond > 0 ? 2 * rps : defaults ? defaults->burst : 0;
  JsonDocument d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("requestsPerSecond", rps, a);
  d.AddMember("burst", burst, a);
  auto own = [](int64_t v, int64_t platformValue) { return v > 0 ? v : platformValue; };
  d.AddMember("entities", own(q.entities, platform ? platform->maxEntities : 0), a);
  d.AddMember("historyInstances", own(q.historyInstances, platform ? platform->maxHistoryInstances : 0), a);
  d.AddMember("storageBytes", own(q.storageBytes, platform ? platform->maxStorageBytes : 0), a);
  return toJsonString(d);
}

const std::string& tenantParam(Call& call) { return call.pathParam("tenant"); }

Result<store::TenantRecord> existingTenant(Call& call) {
  auto t = call.services().tenants->findTenant(tenantParam(call));
  if (!t) return notFound("no tenant named '" + tenantParam(call) + "'");
  return *t;
}

Status needRegistry(Call& call) {
  if (!call.services().tenants) return Status(ErrorType::kServiceUnavailable, "no tenant registry configured");
  return Status::ok();
}

}  // namespace

http::Response adminCreateTenant(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseAdminBody(call, body));
  for (const auto& m : body.GetObject()) {
    std::string_view n = asView(m.name);
    if (n != "name" && n != "ags" && n != "displayName" && n != "contact" && n != "template" && n != "area") {
      return problemResponse(badRequestData("unknown member '" + std::string(n.substr(0, 40)) +
                                            "': name, ags, displayName, contact, area, template"));
    }
  }
  TenantSpec spec;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "name", spec.name));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "ags", spec.ags));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "displayName", spec.displayName));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "contact", spec.contact));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "template", spec.templateName));
  if (const Json* area = findMember(body, "area"); area && !area->IsNull()) spec.area = toJsonString(*area);
  auto created = createTenant(call.services(), std::move(spec));
  if (!created) return problemResponse(created.status());
  std::string out = tenantJson(created->record, true);
  out.pop_back();
  out += ",\"apiKeys\":[";
  for (size_t i = 0; i < created->keys.size(); ++i) {
    out += (i ? "," : "") + keyJson(created->keys[i].record, &created->keys[i].secret);
  }
  out += "]}";
  http::Response r = plainJsonResponse(201, std::move(out));
  r.setHeader("Location", "/admin/v1/tenants/" + created->record.name);
  return r;
}

// The roll-in templates a tenant can be created from (templates/README.md).
http::Response adminListTemplates(Call& call) {
  return plainJsonResponse(200, templatesSummary(call.services().templatesDir));
}

http::Response adminListTenants(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  auto list = call.services().tenants->listTenants();
  if (!list) return problemResponse(list.status());
  std::string out = "[";
  for (size_t i = 0; i < list->size(); ++i) out += (i ? "," : "") + tenantJson((*list)[i], false);
  return plainJsonResponse(200, out + "]");
}

http::Response adminShowTenant(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  auto t = existingTenant(call);
  if (!t) return problemResponse(t.status());
  return plainJsonResponse(200, tenantJson(*t, true));
}

http::Response adminPatchTenant(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseAdminBody(call, body));
  auto t = existingTenant(call);
  if (!t) return problemResponse(t.status());
  std::string status, display = t->displayName, contact = t->contact;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "status", status));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "displayName", display));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "contact", contact));
  for (const auto& m : body.GetObject()) {
    std::string_view n = asView(m.name);
    if (n == "quotas") {
      ALLMENDE_RETURN_IF_ERROR_RESPONSE(readQuotas(m.value, t->quotas));
      continue;
    }
    if (n != "status" && n != "displayName" && n != "contact") {
      return problemResponse(badRequestData("a tenant's " + std::string(n) + " cannot be changed"));
    }
  }
  if (display.size() > 200 || contact.size() > 200) {
    return problemResponse(badRequestData("displayName and contact hold at most 200 characters"));
  }
  if (!status.empty() && status != "active" && status != "suspended") {
    return problemResponse(badRequestData("a tenant's status is \"active\" or \"suspended\""));
  }
  if (!status.empty()) t->status = status;
  t->displayName = display;
  t->contact = contact;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.services().tenants->updateTenant(*t));
  return plainJsonResponse(200, tenantJson(*t, true));
}

http::Response adminDeleteTenant(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  // Deleting a municipality's data cannot be undone: the caller repeats the name to confirm.
  const std::string* confirm = call.param("confirm");
  if (!confirm || *confirm != tenantParam(call)) {
    return problemResponse(
        badRequestData("deleting a tenant deletes all its data: repeat its name as ?confirm=" + tenantParam(call)));
  }
  if (!call.services().tenants->findTenant(tenantParam(call))) {
    return problemResponse(notFound("no tenant named '" + tenantParam(call) + "'"));
  }
  if (!call.services().exportDir.empty()) {
    auto saved = exportToFile(call.services(), tenantParam(call), call.services().exportDir);
    if (!saved) return problemResponse(saved.status());
  }
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(deleteTenant(call.services(), tenantParam(call)));
  return emptyResponse(204);
}

http::Response adminTenantChecklist(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  auto t = existingTenant(call);
  if (!t) return problemResponse(t.status());
  return plainJsonResponse(200, checklistReport(call.services(), *t));
}

http::Response adminSetChecklistItem(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseAdminBody(call, body));
  const Json* done = findMember(body, "done");
  if (!done || !done->IsBool()) return problemResponse(badRequestData("the body is {\"done\": true|false}"));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(
      setChecklistItem(call.services(), tenantParam(call), call.pathParam("item"), done->GetBool()));
  auto t = existingTenant(call);
  if (!t) return problemResponse(t.status());
  return plainJsonResponse(200, checklistReport(call.services(), *t));
}

http::Response adminListKeys(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  auto t = existingTenant(call);
  if (!t) return problemResponse(t.status());
  auto keys = call.services().tenants->listKeys(t->name);
  if (!keys) return problemResponse(keys.status());
  std::string out = "[";
  for (size_t i = 0; i < keys->size(); ++i) out += (i ? "," : "") + keyJson((*keys)[i], nullptr);
  return plainJsonResponse(200, out + "]");
}

http::Response adminCreateKey(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseAdminBody(call, body));
  for (const auto& m : body.GetObject()) {
    std::string_view n = asView(m.name);
    if (n != "role" && n != "name" && n != "entityPrefix" && n != "expiresAt") {
      return problemResponse(
          badRequestData("unknown member '" + std::string(n.substr(0, 40)) + "': role, name, entityPrefix, expiresAt"));
    }
  }
  KeySpec spec;
  spec.tenant = tenantParam(call);
  std::string expires;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "role", spec.role));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "name", spec.name));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "entityPrefix", spec.entityPrefix));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(optionalString(body, "expiresAt", expires));
  if (!expires.empty()) {
    auto t = parseDateTime(expires);
    if (!t) return problemResponse(badRequestData("expiresAt must be an ISO 8601 date-time"));
    spec.expires = *t;
  }
  if (spec.role == "platform-admin") {
    return problemResponse(badRequestData("platform-admin keys are made with `allmende key create` only"));
  }
  auto key = createKey(call.services(), spec);
  if (!key) return problemResponse(key.status());
  http::Response r = plainJsonResponse(201, keyJson(key->record, &key->secret));
  r.setHeader("Location", "/admin/v1/tenants/" + spec.tenant + "/keys/" + key->record.id);
  return r;
}

http::Response adminRevokeKey(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.services().tenants->revokeKey(tenantParam(call), call.pathParam("keyId")));
  return emptyResponse(204);
}

http::Response adminTenantUsage(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  auto t = existingTenant(call);
  if (!t) return problemResponse(t.status());
  auto u = call.services().store.usage(t->name);
  if (!u) return problemResponse(u.status());
  std::string out =
      "{\"tenant\":" + toJsonString(Json(rapidjson::StringRef(t->name.data(), t->name.size()))) +
      ",\"entities\":" + std::to_string(u->entities) + ",\"historyInstances\":" + std::to_string(u->historyInstances) +
      ",\"storageBytes\":" + std::to_string(u->storageBytes()) + ",\"entityBytes\":" + std::to_string(u->entityBytes) +
      ",\"historyBytes\":" + std::to_string(u->historyBytes);
  RateLimiter* limiter = call.services().access ? call.services().access->limiter() : nullptr;
  if (limiter) {
    out += ",\"requests\":{\"admitted\":" + std::to_string(limiter->admitted(t->name)) +
           ",\"rejected\":" + std::to_string(limiter->rejected(t->name)) + "}";
  }
  return plainJsonResponse(200, out + ",\"quotas\":" +
                                    quotasJson(t->quotas, limiter ? &limiter->defaults() : nullptr,
                                               call.services().access ? &call.services().access->options() : nullptr) +
                                    "}");
}

http::Response adminExportTenant(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  http::Response r;
  r.setHeader("Content-Type", "application/x-ndjson");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(
      exportTenant(call.services(), tenantParam(call), [&r](std::string line) { r.body += line; }));
  return r;
}

http::Response adminImportTenant(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(needRegistry(call));
  std::string_view type = call.request().header("content-type");
  if (type.substr(0, type.find(';')) != "application/x-ndjson") {
    return problemResponse(Status(ErrorType::kUnsupportedMediaType, "a tenant archive is application/x-ndjson"));
  }
  std::istringstream in(call.request().body);
  const std::string* name = call.param("name");
  const std::string* ags = call.param("ags");
  auto report = importTenant(call.services(), in, name ? *name : "", ags ? *ags : "");
  if (!report) return problemResponse(report.status());
  http::Response r = plainJsonResponse(201, importReportJson(*report));
  r.setHeader("Location", "/admin/v1/tenants/" + report->tenant);
  return r;
}

}  // namespace allmende::api
