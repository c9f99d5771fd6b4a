#include "api/tenant_export.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "api/call.h"
#include "api/tenant_archive.h"
#include "api/tenant_service.h"
#include "geo/geometry.h"
#include "twin/run_queue.h"

namespace allmende::api {

namespace {

constexpr std::string_view kFormat = "allmende-tenant-archive";
constexpr int kVersion = 1;
constexpr size_t kImportBatch = 1000;

std::string str(const Json& o, std::string_view m) {
  const Json* v = findMember(o, m);
  return v && v->IsString() ? std::string(asView(*v)) : std::string();
}
int64_t num(const Json& o, std::string_view m) {
  const Json* v = findMember(o, m);
  return v && v->IsNumber() ? v->GetInt64() : 0;
}
double dbl(const Json& o, std::string_view m) {
  const Json* v = findMember(o, m);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}

std::string tenantLine(const store::TenantRecord& t) {
  JsonDocument d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("format", jsonString(kFormat, a), a);
  d.AddMember("version", kVersion, a);
  Json rec(rapidjson::kObjectType);
  rec.AddMember("name", jsonString(t.name, a), a);
  rec.AddMember("ags", jsonString(t.ags, a), a);
  rec.AddMember("displayName", jsonString(t.displayName, a), a);
  rec.AddMember("area", jsonString(t.area, a), a);
  rec.AddMember("contact", jsonString(t.contact, a), a);
  rec.AddMember("status", jsonString(t.status, a), a);
  rec.AddMember("template", jsonString(t.templateName, a), a);
  rec.AddMember("checklist", jsonString(t.checklist, a), a);
  rec.AddMember("settings", jsonString(t.settings, a), a);
  rec.AddMember("created", static_cast<int64_t>(t.created), a);
  rec.AddMember("quotaRequestsPerSecond", t.quotas.requestsPerSecond, a);
  rec.AddMember("quotaBurst", t.quotas.burst, a);
  rec.AddMember("quotaEntities", static_cast<int64_t>(t.quotas.entities), a);
  rec.AddMember("quotaHistoryInstances", static_cast<int64_t>(t.quotas.historyInstances), a);
  rec.AddMember("quotaStorageBytes", static_cast<int64_t>(t.quotas.storageBytes), a);
  d.AddMember("tenant", rec, a);
  return toJsonString(d) + "\n";
}

store::TenantRecord tenantFrom(const Json& rec) {
  store::TenantRecord t;
  t.name = str(rec, "name");
  t.ags = str(rec, "ags");
  t.displayName = str(rec, "displayName");
  t.area = str(rec, "area");
  t.contact = str(rec, "contact");
  t.status = str(rec, "status") == "suspended" ? "suspended" : "active";
  t.templateName = str(rec, "template");
  t.checklist = str(rec, "checklist");
  t.settings = str(rec, "settings");
  t.created = num(rec, "created");
  t.quotas.requestsPerSecond = dbl(rec, "quotaRequestsPerSecond");
  t.quotas.burst = dbl(rec, "quotaBurst");
  t.quotas.entities = num(rec, "quotaEntities");
  t.quotas.historyInstances = num(rec, "quotaHistoryInstances");
  t.quotas.storageBytes = num(rec, "quotaStorageBytes");
  if (t.checklist.empty()) t.checklist = "[]";
  if (t.settings.empty()) t.settings = "{}";
  return t;
}

std::string keyLine(const store::ApiKeyRecord& k) {
  JsonDocument d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("kind", "apiKey", a);
  Json key(rapidjson::kObjectType);
  key.AddMember("id", jsonString(k.id, a), a);
  key.AddMember("hash", jsonString(k.hash, a), a);  // the hash, never the key itself
  key.AddMember("role", jsonString(k.role, a), a);
  key.AddMember("name", jsonString(k.name, a), a);
  key.AddMember("entityPrefix", jsonString(k.entityPrefix, a), a);
  key.AddMember("created", static_cast<int64_t>(k.created), a);
  key.AddMember("expires", static_cast<int64_t>(k.expires), a);
  key.AddMember("revoked", k.revoked, a);
  d.AddMember("key", key, a);
  return toJsonString(d) + "\n";
}

std::string auditLine(const store::AuditRecord& r) {
  JsonDocument d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("kind", "audit", a);
  Json rec(rapidjson::kObjectType);
  rec.AddMember("at", static_cast<int64_t>(r.at), a);
  rec.AddMember("subject", jsonString(r.subject, a), a);
  rec.AddMember("auth", jsonString(r.auth, a), a);
  rec.AddMember("roles", jsonString(r.roles, a), a);
  rec.AddMember("action", jsonString(r.action, a), a);
  rec.AddMember("target", jsonString(r.target, a), a);
  rec.AddMember("status", r.status, a);
  rec.AddMember("remote", jsonString(r.remote, a), a);
  d.AddMember("record", rec, a);
  return toJsonString(d) + "\n";
}

// The structural rules of the internal entity form (docs/architecture.md), so that an archive
// cannot put into the store what the API would never have let in.
Status checkEntity(const Json& e) {
  auto bad = [](const std::string& why) { return badRequestData("archive entity: " + why); };
  if (!e.IsObject()) return bad("not an object");
  const Json* id = findMember(e, "id");
  if (!id || !id->IsString() || id->GetStringLength() == 0) return bad("no id");
  const Json* type = findMember(e, "type");
  if (!type || !type->IsArray() || type->Empty()) return bad("type must be a non-empty array");
  for (const auto& t : type->GetArray()) {
    if (!t.IsString()) return bad("types are strings");
  }
  const Json* attrs = findMember(e, "attrs");
  if (!attrs || !attrs->IsObject()) return bad("no attrs object");
  for (const auto& m : attrs->GetObject()) {
    if (!m.value.IsArray() || m.value.Empty()) return bad("an attribute is a non-empty array of instances");
    for (const auto& inst : m.value.GetArray()) {
      if (!inst.IsObject() || !findMember(inst, "type") || !inst["type"].IsString())
        return bad("an instance needs a type");
      if (asView(inst["type"]) == "GeoProperty") {
        const Json* v = findMember(inst, "value");
        if (!v) return bad("a GeoProperty needs a value");
        ALLMENDE_RETURN_IF_ERROR(geo::validateGeometry(*v));
      }
    }
  }
  return Status::ok();
}

struct Archive {
  store::TenantRecord tenant;
  std::vector<std::shared_ptr<JsonDocument>> entities;
  std::vector<store::ApiKeyRecord> keys;
  std::vector<store::AuditRecord> audit;
  ArchiveParts parts;  // history, subscriptions, devices, datasets, @contexts
};

Result<Archive> readArchive(std::istream& in) {
  Archive a;
  std::string line;
  size_t lineNo = 0;
  bool header = false, end = false;
  JsonLimits limits;
  limits.maxDepth = 128;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty()) continue;
    if (end) return badRequestData("archive: data after the end line");
    auto doc = std::make_shared<JsonDocument>();
    Status st = parseJson(line, *doc, limits);
    if (!st.isOk() || !doc->IsObject())
      return badRequestData("archive line " + std::to_string(lineNo) + " is not a JSON object");
    if (!header) {
      if (str(*doc, "format") != kFormat || num(*doc, "version") != kVersion || !findMember(*doc, "tenant")) {
        return badRequestData("not an Allmende tenant archive of version 1");
      }
      a.tenant = tenantFrom((*doc)["tenant"]);
      header = true;
      continue;
    }
    std::string kind = str(*doc, "kind");
    if (kind == "entity" && findMember(*doc, "entity")) {
      ALLMENDE_RETURN_IF_ERROR(checkEntity((*doc)["entity"]));
      a.entities.push_back(doc);
    } else if (kind == "apiKey" && findMember(*doc, "key")) {
      const Json& k = (*doc)["key"];
      a.keys.push_back({str(k, "id"), str(k, "hash"), "", str(k, "role"), str(k, "name"), str(k, "entityPrefix"),
                        num(k, "created"), num(k, "expires"), findMember(k, "revoked") && k["revoked"].IsTrue()});
    } else if (kind == "audit" && findMember(*doc, "record")) {
      const Json& r = (*doc)["record"];
      store::AuditRecord rec;
      rec.at = num(r, "at");
      rec.subject = str(r, "subject");
      rec.auth = str(r, "auth");
      rec.roles = str(r, "roles");
      rec.action = str(r, "action");
      rec.target = str(r, "target");
      rec.status = static_cast<int>(num(r, "status"));
      rec.remote = str(r, "remote");
      a.audit.push_back(std::move(rec));
    } else if (kind == "end") {
      const Json* counts = findMember(*doc, "counts");
      auto differs = [&](std::string_view name, size_t n) {
        const Json* v = findMember(*counts, name);
        return v ? num(*counts, name) != static_cast<int64_t>(n) : n != 0;  // version 1 archives lack some
      };
      if (!counts || !counts->IsObject() || !findMember(*counts, "entities") ||
          differs("entities", a.entities.size()) || differs("apiKeys", a.keys.size()) ||
          differs("historyInstances", a.parts.historyInstances) ||
          differs("subscriptions", a.parts.subscriptions.size()) || differs("devices", a.parts.devices.size()) ||
          differs("datasets", a.parts.datasets.size()) || differs("contexts", a.parts.contexts.size()) ||
          differs("twinFiles", a.parts.twinFiles.size()) ||
          differs("csourceRegistrations", a.parts.csourceRegistrations.size()) ||
          differs("csourceSubscriptions", a.parts.csourceSubscriptions.size())) {
        return badRequestData("archive: the end line's counts do not match its content");
      }
      end = true;
    } else if (auto part = readPartLine(kind, *doc, a.parts); !part || *part) {
      if (!part) return part.status();
    } else {
      return badRequestData("archive line " + std::to_string(lineNo) + ": unknown kind '" + kind.substr(0, 40) + "'");
    }
  }
  if (!header) return badRequestData("empty archive");
  if (!end) return badRequestData("archive truncated: no end line");
  ALLMENDE_RETURN_IF_ERROR(twin::RunQueue::checkTenantFiles(a.parts.twinFiles));
  return a;
}

Status writeEntities(Services& services, const std::string& tenant, const Archive& a) {
  for (size_t i = 0; i < a.entities.size(); i += kImportBatch) {
    std::vector<store::WriteOp> ops;
    for (size_t j = i; j < std::min(a.entities.size(), i + kImportBatch); ++j) {
      auto doc = a.entities[j];
      const Json& e = (*doc)["entity"];
      ops.push_back({std::string(asView(e["id"])), [doc](const Json* current) -> Result<store::WriteEffect> {
                       if (current) return alreadyExists("entity exists already");
                       store::WriteEffect eff;
                       eff.kind = store::WriteEffect::Kind::kUpsert;
                       eff.entity.CopyFrom((*doc)["entity"], eff.entity.GetAllocator());
                       return eff;
                     }});
    }
    for (const auto& st : services.store.write(tenant, std::move(ops))) ALLMENDE_RETURN_IF_ERROR(st);
  }
  return Status::ok();
}

}  // namespace

Status exportTenant(Services& services, const std::string& tenant, const std::function<void(std::string)>& out) {
  auto t = services.tenants->findTenant(tenant);
  if (!t) return notFound("no tenant named '" + tenant + "'");
  out(tenantLine(*t));
  store::EntityQuery all;
  all.selectionExact = true;
  all.limit = kImportBatch;
  size_t entities = 0;
  for (;; all.offset += kImportBatch) {
    auto page = services.store.queryEntities(tenant, all);
    if (!page) return page.status();
    for (const auto& e : page->entities) {
      out("{\"kind\":\"entity\",\"entity\":" + toJsonString(e) + "}\n");
      ++entities;
    }
    if (page->entities.size() < kImportBatch) break;
  }
  auto keys = services.tenants->listKeysWithHashes(tenant);
  if (!keys) return keys.status();
  for (const auto& k : *keys) out(keyLine(k));
  size_t audit = 0;
  if (services.audit) {
    for (int64_t after = 0;;) {
      auto records = services.audit->query(tenant, after, 1000);
      if (!records) return records.status();
      for (const auto& r : *records) out(auditLine(r));
      audit += records->size();
      if (records->size() < 1000) break;
      after = records->back().seq;
    }
  }
  auto history = exportHistory(services, tenant, out);
  if (!history) return history.status();
  auto subscriptions = exportSubscriptions(services, tenant, out);
  if (!subscriptions) return subscriptions.status();
  auto devices = exportDevices(services, tenant, out);
  if (!devices) return devices.status();
  auto datasets = exportDatasets(services, tenant, out);
  if (!datasets) return datasets.status();
  auto contexts = exportContexts(services, tenant, out);
  if (!contexts) return contexts.status();
  auto twinFiles = exportTwin(services, tenant, out);
  if (!twinFiles) return twinFiles.status();
  auto registrations = exportCSourceRegistrations(services, tenant, out);
  if (!registrations) return registrations.status();
  auto csourceSubscriptions = exportCSourceSubscriptions(services, tenant, out);
  if (!csourceSubscriptions) return csourceSubscriptions.status();
  out("{\"kind\":\"end\",\"counts\":{\"entities\":" + std::to_string(entities) +
      ",\"apiKeys\":" + std::to_string(keys->size()) + ",\"audit\":" + std::to_string(audit) +
      ",\"historyInstances\":" + std::to_string(*history) + ",\"subscriptions\":" + std::to_string(*subscriptions) +
      ",\"devices\":" + std::to_string(*devices) + ",\"datasets\":" + std::to_string(*datasets) +
      ",\"contexts\":" + std::to_string(*contexts) + ",\"twinFiles\":" + std::to_string(*twinFiles) +
      ",\"csourceRegistrations\":" + std::to_string(*registrations) +
      ",\"csourceSubscriptions\":" + std::to_string(*csourceSubscriptions) + "}}\n");
  return Status::ok();
}

Result<ImportReport> importTenant(Services& services, std::istream& in, const std::string& rename,
                                  const std::string& ags) {
  auto archive = readArchive(in);
  if (!archive) return archive.status();
  store::TenantRecord& t = archive->tenant;
  if (!rename.empty()) t.name = rename;
  if (!ags.empty()) t.ags = ags;
  ALLMENDE_RETURN_IF_ERROR(validateAgs(t.ags));
  if (!isValidTenantName(t.name)) return badRequestData("invalid tenant name '" + t.name.substr(0, 80) + "'");
  ALLMENDE_RETURN_IF_ERROR(services.tenants->createTenant(t));
  ImportReport report;
  report.tenant = t.name;
  Status st = writeEntities(services, t.name, *archive);
  if (st.isOk()) st = restoreParts(services, t.name, archive->parts);
  if (!st.isOk()) {
    // Leave nothing half imported: the tenant and whatever entities made it go again.
    (void)deleteTenant(services, t.name);
    return st;
  }
  report.entities = archive->entities.size();
  report.historyInstances = archive->parts.historyInstances;
  report.subscriptions = archive->parts.subscriptions.size();
  report.devices = archive->parts.devices.size();
  report.datasets = archive->parts.datasets.size();
  report.contexts = archive->parts.contexts.size();
  report.twinFiles = archive->parts.twinFiles.size();
  report.csourceRegistrations = archive->parts.csourceRegistrations.size();
  report.csourceSubscriptions = archive->parts.csourceSubscriptions.size();
  for (auto k : archive->keys) {
    k.tenant = t.name;
    // A key's hash identifies it platform-wide: a key still held by another tenant (the archive
    // imported next to its original) is not copied.
    if (k.hash.size() != 64 || services.tenants->findKeyByHash(k.hash) || !services.tenants->addKey(k).isOk()) {
      ++report.keysSkipped;
      continue;
    }
    ++report.keys;
  }
  if (services.audit) {
    for (auto r : archive->audit) {
      r.tenant = t.name;
      if (services.audit->append(std::move(r)).isOk()) ++report.auditRecords;
    }
  }
  return report;
}

std::string importReportJson(const ImportReport& r) {
  JsonDocument d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("tenant", jsonString(r.tenant, a), a);
  d.AddMember("entities", static_cast<uint64_t>(r.entities), a);
  d.AddMember("apiKeys", static_cast<uint64_t>(r.keys), a);
  d.AddMember("apiKeysSkipped", static_cast<uint64_t>(r.keysSkipped), a);
  d.AddMember("auditRecords", static_cast<uint64_t>(r.auditRecords), a);
  d.AddMember("historyInstances", static_cast<uint64_t>(r.historyInstances), a);
  d.AddMember("subscriptions", static_cast<uint64_t>(r.subscriptions), a);
  d.AddMember("devices", static_cast<uint64_t>(r.devices), a);
  d.AddMember("datasets", static_cast<uint64_t>(r.datasets), a);
  d.AddMember("contexts", static_cast<uint64_t>(r.contexts), a);
  d.AddMember("twinFiles", static_cast<uint64_t>(r.twinFiles), a);
  d.AddMember("csourceRegistrations", static_cast<uint64_t>(r.csourceRegistrations), a);
  d.AddMember("csourceSubscriptions", static_cast<uint64_t>(r.csourceSubscriptions), a);
  return toJsonString(d);
}

Result<std::string> exportToFile(Services& services, const std::string& tenant, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string stamp = formatDateTime(services.clock.now());
  for (auto& c : stamp) {
    if (c == ':') c = '-';
  }
  std::string path = (std::filesystem::path(dir) / (tenant + "-" + stamp + ".jsonl")).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Status(ErrorType::kServiceUnavailable, "cannot write the archive " + path);
  // The archive holds all of the tenant's data: readable by the server's user only.
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);
  ALLMENDE_RETURN_IF_ERROR(exportTenant(services, tenant, [&f](std::string line) { f << line; }));
  f.flush();
  if (!f) return Status(ErrorType::kServiceUnavailable, "cannot write the archive " + path);
  return path;
}

}  // namespace allmende::api
