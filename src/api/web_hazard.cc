#include "api/web_hazard.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "api/open_http.h"
#include "api/problem.h"
#include "api/web_assets.h"
#include "twin/run_queue.h"

namespace allmende::api {

namespace {

using twin::RunQueue;
using twin::RunRecord;
using twin::RunState;

// The overlay files a citizen may read (docs/twin.md, "Web map overlays").
constexpr std::string_view kPublicFiles[] = {"hazard_depth.png", "hazard_depth.geojson", "buildings.geojson"};

// A scenario's definition says `"public": true`.
bool published(const std::string& definition) {
  JsonDocument def;
  if (!parseJson(definition, def).isOk() || !def.IsObject()) return false;
  const Json* pub = findMember(def, "public");
  return pub && pub->IsBool() && pub->GetBool();
}

bool published(RunQueue& q, const std::string& tenant, const std::string& scenario) {
  auto s = q.scenario(tenant, scenario);
  return s && published(s->definition);
}

// The web app's tenant of a request: ?tenant=NAME, else the deployment's default. Nothing of a
// suspended tenant is shown (as for /app-config.json).
std::optional<std::string> hazardTenant(Call& call) {
  const WebAssets* web = call.services().web;
  std::string tenant = web ? web->options().tenant : "";
  if (const std::string* t = call.param("tenant")) tenant = *t;
  if (!tenant.empty() && !isValidTenantName(tenant)) return std::nullopt;
  if (!tenant.empty() && call.services().tenants) {
    auto record = call.services().tenants->findTenant(tenant);
    if (record && record->status != "active") return std::nullopt;
  }
  return tenant;
}

// The newest succeeded run of a published scenario of the tenant. Asked on every request of
// /app-config.json: the tenant's scenarios (a few) are read, of its runs (growing with every
// run) only the one shown is copied.
std::optional<RunRecord> publishedRun(RunQueue& q, const std::string& tenant) {
  std::set<std::string> scenarios;
  for (const auto& s : q.scenarios(tenant)) {
    if (published(s.definition)) scenarios.insert(s.id);
  }
  if (scenarios.empty()) return std::nullopt;
  return q.newestRun(tenant, scenarios, RunState::kSucceeded);
}

void writeString(JsonWriter& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

// The overlay's bounds in the run's outcome (south, west, north, east); false when absent.
bool overlayBounds(const Json& outcome, double out[4]) {
  const Json* b = outcome.IsObject() ? findMember(outcome, "bounds") : nullptr;
  if (!b || !b->IsObject()) return false;
  const char* names[4] = {"south", "west", "north", "east"};
  for (int k = 0; k < 4; ++k) {
    const Json* v = findMember(*b, names[k]);
    if (!v || !v->IsNumber()) return false;
    out[k] = v->GetDouble();
  }
  return true;
}

std::string fileLink(const RunRecord& r, const std::string& tenant, const char* file) {
  return "/app-hazard/" + r.id + "/" + file + (tenant.empty() ? "" : "?tenant=" + http::percentEncode(tenant));
}

}  // namespace

void writeHazard(JsonWriter& w, Call& call, const std::string& tenant) {
  w.Key("hazard");
  RunQueue* q = call.services().twin;
  auto run = q ? publishedRun(*q, tenant) : std::nullopt;
  JsonDocument outcome, def;
  double b[4];
  if (!run || !parseJson(run->outcome, outcome).isOk() || !overlayBounds(outcome, b)) {
    w.Null();  // no overlay without a georeferenced DEM
    return;
  }
  (void)parseJson(run->definition, def);
  w.StartObject();
  writeString(w, "scenario", run->scenario);
  const Json* name = def.IsObject() ? findMember(def, "name") : nullptr;
  writeString(w, "name", name && name->IsString() ? std::string(asView(*name)) : run->scenario);
  writeString(w, "run", run->id);
  if (run->ended > 0) writeString(w, "ended", formatDateTime(run->ended));
  // Leaflet: L.imageOverlay(image, bounds) and L.geoJSON(buildings) (docs/twin.md).
  w.Key("bounds");
  w.StartArray();
  for (int corner = 0; corner < 2; ++corner) {
    w.StartArray();
    w.Double(b[2 * corner]);
    w.Double(b[2 * corner + 1]);
    w.EndArray();
  }
  w.EndArray();
  writeString(w, "image", fileLink(*run, tenant, "hazard_depth.png"));
  writeString(w, "polygons", fileLink(*run, tenant, "hazard_depth.geojson"));
  writeString(w, "buildings", fileLink(*run, tenant, "buildings.geojson"));
  w.Key("summary");
  w.RawValue(run->outcome.c_str(), run->outcome.size(), rapidjson::kObjectType);
  w.EndObject();
}

http::Response serveHazardFile(Call& call) {
  RunQueue* q = call.services().web ? call.services().twin : nullptr;
  const std::string& file = call.pathParam("file");
  auto tenant = hazardTenant(call);
  bool allowed = std::find(std::begin(kPublicFiles), std::end(kPublicFiles), file) != std::end(kPublicFiles);
  std::optional<RunRecord> run;
  if (q && tenant && allowed) {
    auto r = q->run(*tenant, call.pathParam("runId"));
    if (r && r->state == RunState::kSucceeded && published(*q, *tenant, r->scenario)) run = std::move(*r);
  }
  if (!run) return problemResponse(notFound("no published hazard map at " + call.request().path));
  auto path = q->resultFile(*tenant, run->id, file);
  if (!path) return problemResponse(path.status());
  std::ifstream in(*path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return problemResponse(Status(ErrorType::kInternalError, "cannot read " + file));
  WebAsset a;
  a.body = std::move(bytes).str();
  a.mediaType = file.size() > 4 && file.compare(file.size() - 4, 4, ".png") == 0 ? "image/png" : "application/geo+json";
  if (a.mediaType != "image/png") a.gzipped = gzip(a.body);
  a.etag = entityTag(a.body, a.mediaType);
  // A run's results never change; an hour bounds how long an unpublished map stays in caches.
  return webFileResponse(call.request(), a, *call.services().web, "public, max-age=3600");
}

}  // namespace allmende::api
