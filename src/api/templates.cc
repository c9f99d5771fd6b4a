#include "api/templates.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace allmende::api {

namespace {

// Checklist items whose state Allmende works out itself ("check" in the template).
constexpr std::string_view kAutoChecks[] = {"area", "contact", "admin-key", "first-data", "data-models"};

bool isAutoCheck(std::string_view c) {
  return std::find(std::begin(kAutoChecks), std::end(kAutoChecks), c) != std::end(kAutoChecks);
}

Status formatError(const std::string& name, const std::string& what) {
  return badRequestData("template '" + name + "': " + what + " (format: templates/README.md)");
}

bool isString(const Json& o, std::string_view member) {
  const Json* v = findMember(o, member);
  return v && v->IsString();
}

Status checkTemplate(const std::string& name, const JsonDocument& t) {
  if (!t.IsObject()) return formatError(name, "not a JSON object");
  const Json* models = findMember(t, "dataModels");
  if (!models || !models->IsArray()) return formatError(name, "\"dataModels\" must be an array");
  for (const auto& m : models->GetArray()) {
    if (!m.IsObject() || !isString(m, "type")) return formatError(name, "a data model needs a \"type\"");
    const Json* attrs = findMember(m, "attributes");
    if (!attrs || !attrs->IsArray()) return formatError(name, "a data model needs an \"attributes\" array");
    for (const auto& a : attrs->GetArray()) {
      if (!a.IsObject() || !isString(a, "name")) return formatError(name, "an attribute needs a \"name\"");
    }
  }
  if (const Json* q = findMember(t, "quotas")) {
    store::TenantQuotas ignored;
    ALLMENDE_RETURN_IF_ERROR(readQuotas(*q, ignored));
  }
  for (const char* arr : {"subscriptions", "initialKeys", "checklist"}) {
    const Json* v = findMember(t, arr);
    if (v && !v->IsArray()) return formatError(name, std::string("\"") + arr + "\" must be an array");
  }
  if (const Json* keys = findMember(t, "initialKeys")) {
    for (const auto& k : keys->GetArray()) {
      if (!k.IsObject() || !isString(k, "role")) return formatError(name, "an initial key needs a \"role\"");
    }
  }
  if (const Json* items = findMember(t, "checklist")) {
    for (const auto& i : items->GetArray()) {
      if (!i.IsObject() || !isString(i, "id") || !isString(i, "title")) {
        return formatError(name, "a checklist item needs an \"id\" and a \"title\"");
      }
      const Json* check = findMember(i, "check");
      if (check && (!check->IsString() || !isAutoCheck(asView(*check)))) {
        return formatError(name, "unknown automatic check of item " + std::string(asView(i["id"])));
      }
    }
  }
  return Status::ok();
}

std::string stringOr(const Json& o, std::string_view member, std::string_view fallback) {
  const Json* v = findMember(o, member);
  return v && v->IsString() ? std::string(asView(*v)) : std::string(fallback);
}

// Whether an automatic check holds for the tenant now.
bool autoCheckDone(Services& services, const store::TenantRecord& t, std::string_view check) {
  if (check == "area") return !t.area.empty();
  if (check == "contact") return !t.contact.empty();
  if (check == "data-models") return true;  // applied at creation
  if (check == "admin-key") {
    auto keys = services.tenants->listKeys(t.name);
    if (!keys) return false;
    Micros now = services.clock.now();
    return std::any_of(keys->begin(), keys->end(), [now](const store::ApiKeyRecord& k) {
      return k.role == "tenant-admin" && !k.revoked && (k.expires == 0 || k.expires > now);
    });
  }
  if (check == "first-data") {
    store::EntityQuery any;
    any.selectionExact = true;
    any.limit = 1;
    auto r = services.store.queryEntities(t.name, any);
    return r && !r->entities.empty();
  }
  return false;
}

}  // namespace

Status readQuotas(const Json& q, store::TenantQuotas& out) {
  if (!q.IsObject()) return badRequestData("quotas must be an object");
  for (const auto& m : q.GetObject()) {
    std::string_view n = asView(m.name);
    if (!m.value.IsNumber() || m.value.GetDouble() < 0) {
      return badRequestData("quota " + std::string(n) + " must be a number >= 0");
    }
    double v = m.value.GetDouble();
    if (n == "requestsPerSecond")
      out.requestsPerSecond = v;
    else if (n == "burst")
      out.burst = v;
    else if (n == "entities")
      out.entities = static_cast<int64_t>(v);
    else if (n == "historyInstances")
      out.historyInstances = static_cast<int64_t>(v);
    else if (n == "storageBytes")
      out.storageBytes = static_cast<int64_t>(v);
    else
      return badRequestData("unknown quota '" + std::string(n) +
                            "': requestsPerSecond, burst, entities, historyInstances, storageBytes");
  }
  return Status::ok();
}

Result<JsonDocument> loadTemplate(const std::string& dir, const std::string& name) {
  bool safe = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!safe) return badRequestData("a template name is lower-case letters, digits and '-'");
  std::ifstream in(dir + "/" + name + ".json", std::ios::binary);
  if (!in) return badRequestData("no template '" + name + "' (looked in " + dir + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  JsonDocument doc;
  Status st = parseJson(ss.str(), doc);
  if (!st.isOk()) return formatError(name, st.detail());
  ALLMENDE_RETURN_IF_ERROR(checkTemplate(name, doc));
  return doc;
}

std::string templatesSummary(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    if (f.path().extension() == ".json") names.push_back(f.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  JsonDocument out(rapidjson::kArrayType);
  auto& a = out.GetAllocator();
  for (const auto& name : names) {
    Json item(rapidjson::kObjectType);
    item.AddMember("name", jsonString(name, a), a);
    auto tpl = loadTemplate(dir, name);
    if (!tpl) {
      item.AddMember("error", jsonString(tpl.status().detail(), a), a);
      out.PushBack(item, a);
      continue;
    }
    item.AddMember("description", jsonString(stringOr(*tpl, "description", ""), a), a);
    Json types(rapidjson::kArrayType), publicTypes(rapidjson::kArrayType), roles(rapidjson::kArrayType);
    for (const auto& m : (*tpl)["dataModels"].GetArray()) {
      types.PushBack(Json(m["type"], a), a);
      const Json* pub = findMember(m, "public");
      if (pub && pub->IsBool() && pub->GetBool()) publicTypes.PushBack(Json(m["type"], a), a);
    }
    if (const Json* keys = findMember(*tpl, "initialKeys")) {
      for (const auto& k : keys->GetArray()) roles.PushBack(Json(k["role"], a), a);
    }
    const Json* checklist = findMember(*tpl, "checklist");
    item.AddMember("types", types, a);
    item.AddMember("publicTypes", publicTypes, a);
    item.AddMember("initialKeys", roles, a);
    item.AddMember("checklist", static_cast<uint64_t>(checklist ? checklist->Size() : 0), a);
    out.PushBack(item, a);
  }
  return toJsonString(out);
}

void applyTemplate(const JsonDocument& tpl, store::TenantRecord& tenant, std::vector<KeySpec>& keys) {
  tenant.templateName = stringOr(tpl, "name", "");
  JsonDocument settings(rapidjson::kObjectType);
  auto& a = settings.GetAllocator();
  if (const Json* q = findMember(tpl, "quotas")) readQuotas(*q, tenant.quotas);
  for (const char* member : {"dataModels", "subscriptions", "openData"}) {
    if (const Json* v = findMember(tpl, member)) settings.AddMember(Json(member, a), Json(*v, a), a);
  }
  tenant.settings = toJsonString(settings);
  JsonDocument checklist(rapidjson::kArrayType);
  auto& ca = checklist.GetAllocator();
  if (const Json* items = findMember(tpl, "checklist")) {
    for (const auto& i : items->GetArray()) {
      Json item(rapidjson::kObjectType);
      item.AddMember("id", Json(i["id"], ca), ca);
      item.AddMember("title", Json(i["title"], ca), ca);
      item.AddMember("owner", jsonString(stringOr(i, "owner", "municipality"), ca), ca);
      if (const Json* check = findMember(i, "check"))
        item.AddMember("check", Json(*check, ca), ca);
      else
        item.AddMember("done", false, ca);
      checklist.PushBack(item, ca);
    }
  }
  tenant.checklist = toJsonString(checklist);
  if (const Json* initial = findMember(tpl, "initialKeys")) {
    for (const auto& k : initial->GetArray()) {
      KeySpec spec;
      spec.role = std::string(asView(k["role"]));
      spec.name = stringOr(k, "name", spec.role);
      spec.entityPrefix = stringOr(k, "entityPrefix", "");
      keys.push_back(std::move(spec));
    }
  }
}

std::string checklistReport(Services& services, const store::TenantRecord& tenant) {
  JsonDocument items;
  if (!parseJson(tenant.checklist, items).isOk() || !items.IsArray()) items.SetArray();
  auto& a = items.GetAllocator();
  size_t done = 0;
  for (auto& item : items.GetArray()) {
    bool d = false;
    if (const Json* check = findMember(item, "check")) {
      d = autoCheckDone(services, tenant, asView(*check));
      item.AddMember("done", d, a);
    } else if (const Json* flag = findMember(item, "done")) {
      d = flag->IsBool() && flag->GetBool();
    }
    done += d ? 1 : 0;
  }
  JsonDocument report(rapidjson::kObjectType);
  auto& ra = report.GetAllocator();
  report.AddMember("tenant", jsonString(tenant.name, ra), ra);
  report.AddMember("done", static_cast<uint64_t>(done), ra);
  report.AddMember("open", static_cast<uint64_t>(items.Size() - done), ra);
  report.AddMember("items", Json(items, ra), ra);
  return toJsonString(report);
}

Status setChecklistItem(Services& services, const std::string& tenant, const std::string& id, bool done) {
  auto t = services.tenants->findTenant(tenant);
  if (!t) return notFound("no tenant named '" + tenant + "'");
  JsonDocument items;
  if (!parseJson(t->checklist, items).isOk() || !items.IsArray()) items.SetArray();
  for (auto& item : items.GetArray()) {
    if (asView(item["id"]) != id) continue;
    if (findMember(item, "check")) return badRequestData("checklist item '" + id + "' is checked automatically");
    item["done"].SetBool(done);
    t->checklist = toJsonString(items);
    return services.tenants->updateTenant(*t);
  }
  return notFound("no checklist item '" + id + "' for tenant '" + tenant + "'");
}

}  // namespace allmende::api
