#include "api/public_read.h"

#include <algorithm>
#include <set>

namespace allmende::api {

namespace {

Status refuse(const std::string& why) {
  return Status(ErrorType::kForbidden, "anonymous read: " + why + " (docs/security.md, public data)");
}

}  // namespace

std::optional<std::set<std::string>> publicAttributes(const store::TenantRecord& t, const std::string& type) {
  JsonDocument settings;
  if (!parseJson(t.settings, settings).isOk() || !settings.IsObject()) return std::nullopt;
  const Json* models = findMember(settings, "dataModels");
  if (!models || !models->IsArray()) return std::nullopt;
  for (const auto& m : models->GetArray()) {
    const Json* name = m.IsObject() ? findMember(m, "type") : nullptr;
    const Json* pub = m.IsObject() ? findMember(m, "public") : nullptr;
    if (!name || !name->IsString() || asView(*name) != type || !pub || !pub->IsTrue()) continue;
    std::set<std::string> attrs;
    if (const Json* list = findMember(m, "attributes"); list && list->IsArray()) {
      for (const auto& a : list->GetArray()) {
        const Json* an = a.IsObject() ? findMember(a, "name") : nullptr;
        const Json* ap = a.IsObject() ? findMember(a, "public") : nullptr;
        if (an && an->IsString() && ap && ap->IsTrue()) attrs.emplace(asView(*an));
      }
    }
    return attrs;
  }
  return std::nullopt;
}

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Parameters the public form accepts; anything else (q, scopeQ, idPattern, pick, omit, ...)
// could select or reveal by private attributes.
constexpr std::string_view kQueryParams[] = {
    "type",   "id",   "attrs",  "limit",    "offset",      "count",       "options",
    "format", "lang", "georel", "geometry", "coordinates", "geoproperty", "geometryProperty"};
constexpr std::string_view kRetrieveParams[] = {"type", "attrs", "options", "format", "lang", "geometryProperty"};
// The history of one public entity (the citizen app's charts): time and aggregation only.
constexpr std::string_view kTemporalParams[] = {
    "type",      "attrs",        "options", "timerel",     "timeAt",
    "endTimeAt", "timeproperty", "lastN",   "aggrMethods", "aggrPeriodDuration"};

template <size_t N>
bool allowed(std::string_view name, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

}  // namespace

Status admitPublicRead(Call& call, const store::TenantRecord& tenant) {
  http::Request& r = call.request();
  bool temporal = r.path.rfind("/ngsi-ld/v1/temporal/entities/", 0) == 0;
  bool retrieval = call.pathParamIf("entityId") != nullptr && !temporal;
  bool query = r.path == "/ngsi-ld/v1/entities";
  if (temporal && (call.pathParamIf("entityId") == nullptr || call.pathParamIf("attrId") != nullptr)) temporal = false;
  if (r.method != "GET" || (!retrieval && !query && !temporal)) {
    return refuse("only entity queries, retrievals and the history of one entity are public");
  }
  if (r.hasHeader("link")) return refuse("public data is read with the core @context (no Link header)");
  for (const auto& [name, value] : r.query) {
    bool ok = temporal    ? allowed(name, kTemporalParams)
              : retrieval ? allowed(name, kRetrieveParams)
                          : allowed(name, kQueryParams);
    if (!ok) {
      return refuse("parameter '" + name.substr(0, 40) + "' is not available");
    }
  }
  const std::string* type = call.param("type");
  if (!type) return refuse("name one public entity type with ?type=");
  auto publicAttrs = publicAttributes(tenant, *type);
  if (!publicAttrs) return refuse("type '" + type->substr(0, 80) + "' is not public");
  std::vector<std::string> attrs;
  if (const std::string* asked = call.param("attrs")) {
    for (const auto& a : split(*asked)) {
      if (!publicAttrs->count(a)) return refuse("attribute '" + a.substr(0, 80) + "' is not public");
      attrs.push_back(a);
    }
  } else {
    attrs.assign(publicAttrs->begin(), publicAttrs->end());
  }
  if (attrs.empty()) return refuse("type '" + *type + "' has no public attribute");
  // Geometries leave through geoQ and GeoJSON too: only public ones.
  bool geoJson = r.header("accept").find("geo+json") != std::string_view::npos;
  for (const char* p : {"geoproperty", "geometryProperty"}) {
    const std::string* g = call.param(p);
    bool used = g || (std::string_view(p) == "geoproperty" ? call.param("georel") != nullptr : geoJson);
    if (used && !publicAttrs->count(g ? *g : "location")) return refuse("the geometry is not public");
  }
  std::string list;
  for (const auto& a : attrs) list += (list.empty() ? "" : ",") + a;
  r.query.erase(std::remove_if(r.query.begin(), r.query.end(), [](const auto& kv) { return kv.first == "attrs"; }),
                r.query.end());
  r.query.emplace_back("attrs", list);
  return Status::ok();
}

}  // namespace allmende::api
