#include "api/tenant_service.h"

#include <algorithm>

#include "api/call.h"
#include "api/csource_common.h"
#include "api/templates.h"
#include "api/tenant_archive.h"
#include "auth/api_key.h"
#include "auth/roles.h"
#include "geo/geometry.h"
#include "store/dataset_store.h"
#include "twin/run_queue.h"

namespace allmende::api {

namespace {

Status validateArea(const std::string& area) {
  if (area.empty()) return Status::ok();
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(area, doc));
  // A Feature or FeatureCollection file is common for municipal boundaries: take its geometry.
  const Json* geometry = &doc;
  if (doc.IsObject()) {
    const Json* type = findMember(doc, "type");
    if (type && type->IsString() && asView(*type) == "Feature") geometry = findMember(doc, "geometry");
  }
  const Json* gtype = geometry && geometry->IsObject() ? findMember(*geometry, "type") : nullptr;
  if (!gtype || !gtype->IsString() || (asView(*gtype) != "Polygon" && asView(*gtype) != "MultiPolygon")) {
    return badRequestData("the area must be a GeoJSON Polygon or MultiPolygon (or a Feature holding one)");
  }
  return geo::validateGeometry(*geometry);
}

// The area as a bare geometry (JSON text).
std::string areaGeometry(const std::string& area) {
  if (area.empty()) return area;
  JsonDocument doc;
  if (!parseJson(area, doc).isOk()) return area;
  const Json* type = findMember(doc, "type");
  if (type && type->IsString() && asView(*type) == "Feature") return toJsonString(*findMember(doc, "geometry"));
  return toJsonString(doc);
}

void addString(std::string& out, std::string_view name, std::string_view value) {
  JsonDocument d;
  out += out.back() == '{' ? "\"" : ",\"";
  out += name;
  out += "\":";
  out += toJsonString(jsonString(value, d.GetAllocator()));
}

void addRaw(std::string& out, std::string_view name, std::string_view json) {
  out += out.back() == '{' ? "\"" : ",\"";
  out += name;
  out += "\":";
  out += json.empty() ? "null" : json;
}

}  // namespace

Status validateAgs(std::string_view ags) {
  if (ags.size() != 8 || !std::all_of(ags.begin(), ags.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return badRequestData("the AGS (Amtlicher Gemeindeschlüssel) has exactly 8 digits, not '" +
                          std::string(ags.substr(0, 20)) + "'");
  }
  int land = (ags[0] - '0') * 10 + (ags[1] - '0');
  if (land < 1 || land > 16) {
    return badRequestData("the AGS must start with a Land key 01-16, not " + std::string(ags.substr(0, 2)));
  }
  return Status::ok();
}

Result<CreatedTenant> createTenant(Services& services, TenantSpec spec) {
  ALLMENDE_RETURN_IF_ERROR(validateAgs(spec.ags));
  spec.name = spec.effectiveName();
  if (!isValidTenantName(spec.name)) {
    return badRequestData("invalid tenant name '" + spec.name.substr(0, 80) +
                          "': use up to 64 letters, digits, '-', '_', '.', ':'");
  }
  ALLMENDE_RETURN_IF_ERROR(validateArea(spec.area));
  if (spec.displayName.size() > 200 || spec.contact.size() > 200) {
    return badRequestData("displayName and contact hold at most 200 characters");
  }
  CreatedTenant out;
  store::TenantRecord& t = out.record;
  t.name = spec.name;
  t.ags = spec.ags;
  t.displayName = spec.displayName.empty() ? spec.name : spec.displayName;
  t.contact = spec.contact;
  t.area = areaGeometry(spec.area);
  t.created = services.clock.now();
  t.settings = "{}";
  t.checklist = "[]";
  std::vector<KeySpec> keys;
  if (!spec.templateName.empty()) {
    auto tpl = loadTemplate(services.templatesDir, spec.templateName);
    if (!tpl) return tpl.status();
    applyTemplate(*tpl, t, keys);
  }
  ALLMENDE_RETURN_IF_ERROR(services.tenants->createTenant(t));
  for (auto& k : keys) {
    k.tenant = t.name;
    auto key = createKey(services, k);
    if (!key) return key.status();
    out.keys.push_back(std::move(key).value());
  }
  return out;
}

Status setTenantStatus(Services& services, const std::string& name, const std::string& status) {
  if (status != "active" && status != "suspended") {
    return badRequestData("a tenant's status is \"active\" or \"suspended\"");
  }
  auto t = services.tenants->findTenant(name);
  if (!t) return notFound("no tenant named '" + name + "'");
  t->status = status;
  return services.tenants->updateTenant(*t);
}

Status deleteTenant(Services& services, const std::string& name) {
  if (!services.tenants->findTenant(name)) return notFound("no tenant named '" + name + "'");
  // Its flood scenarios and runs (docs/twin.md) first: refused while one of its runs is running.
  if (services.twin) ALLMENDE_RETURN_IF_ERROR(services.twin->removeTenant(name));
  // Then subscriptions (deleting the entities then notifies nobody), devices, open-data
  // definitions, hosted @contexts; then the entities, their history, the registry record.
  ALLMENDE_RETURN_IF_ERROR(deleteTenantParts(services, name));
  ALLMENDE_RETURN_IF_ERROR(deleteCSourcesOfTenant(services, name));  // registrations (issue 12)
  store::EntityQuery all;
  all.selectionExact = true;
  all.limit = 1000;
  ALLMENDE_RETURN_IF_ERROR(store::deleteMatching(services.store, name, std::move(all)));
  ALLMENDE_RETURN_IF_ERROR(deleteTenantHistory(services, name));
  return services.tenants->deleteTenant(name);
}

Result<CreatedKey> createKey(Services& services, const KeySpec& spec) {
  auto role = auth::roleFromName(spec.role);
  if (!role)
    return badRequestData("unknown role '" + spec.role.substr(0, 40) +
                          "': platform-admin, tenant-admin, editor, reader or device");
  if ((*role == auth::Role::kPlatformAdmin) != spec.tenant.empty()) {
    return badRequestData("platform-admin keys belong to no tenant; every other key to one");
  }
  if (*role == auth::Role::kDevice && spec.entityPrefix.empty()) {
    return badRequestData("a device key needs the prefix of the entity ids it may write (entityPrefix)");
  }
  if (!spec.tenant.empty() && !services.tenants->findTenant(spec.tenant)) {
    return notFound("no tenant named '" + spec.tenant + "'");
  }
  if (spec.name.size() > 200 || spec.entityPrefix.size() > 256) return badRequestData("name or entityPrefix too long");
  CreatedKey k;
  k.secret = auth::newApiKey();
  k.record.id = auth::newKeyId();
  k.record.hash = auth::hashApiKey(k.secret);
  k.record.tenant = spec.tenant;
  k.record.role = spec.role;
  k.record.name = spec.name;
  k.record.entityPrefix = spec.entityPrefix;
  k.record.created = services.clock.now();
  k.record.expires = spec.expires;
  ALLMENDE_RETURN_IF_ERROR(services.tenants->addKey(k.record));
  return k;
}

std::string tenantJson(const store::TenantRecord& t, bool withDetails) {
  std::string out = "{";
  addString(out, "name", t.name);
  addString(out, "ags", t.ags);
  addString(out, "displayName", t.displayName);
  addRaw(out, "area", t.area);
  addString(out, "contact", t.contact);
  addString(out, "status", t.status);
  if (!t.templateName.empty()) addString(out, "template", t.templateName);
  addString(out, "createdAt", formatDateTime(t.created));
  JsonDocument q(rapidjson::kObjectType);
  q.AddMember("requestsPerSecond", t.quotas.requestsPerSecond, q.GetAllocator());
  q.AddMember("burst", t.quotas.burst, q.GetAllocator());
  q.AddMember("entities", static_cast<int64_t>(t.quotas.entities), q.GetAllocator());
  q.AddMember("historyInstances", static_cast<int64_t>(t.quotas.historyInstances), q.GetAllocator());
  q.AddMember("storageBytes", static_cast<int64_t>(t.quotas.storageBytes), q.GetAllocator());
  addRaw(out, "quotas", toJsonString(q));
  if (withDetails) {
    addRaw(out, "settings", t.settings);
    addRaw(out, "checklist", t.checklist);
  }
  return out + "}";
}

std::string keyJson(const store::ApiKeyRecord& k, const std::string* secret) {
  std::string out = "{";
  addString(out, "id", k.id);
  if (!k.tenant.empty()) addString(out, "tenant", k.tenant);
  addString(out, "role", k.role);
  addString(out, "name", k.name);
  if (!k.entityPrefix.empty()) addString(out, "entityPrefix", k.entityPrefix);
  addString(out, "createdAt", formatDateTime(k.created));
  if (k.expires != 0) addString(out, "expiresAt", formatDateTime(k.expires));
  out += k.revoked ? ",\"revoked\":true" : ",\"revoked\":false";
  if (secret) addString(out, "key", *secret);
  return out + "}";
}

}  // namespace allmende::api
