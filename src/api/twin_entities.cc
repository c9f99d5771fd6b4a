#include "api/twin_entities.h"

#include <cstdio>

#include "model/expand.h"
#include "model/mutation.h"

namespace allmende::api {

namespace {

std::string quoted(const std::string& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string property(const std::string& value, const std::string& extra = "") {
  return "{\"type\":\"Property\",\"value\":" + value + extra + "}";
}

// What every write of one run shares.
struct Publication {
  store::Store& store;
  const ld::Context& ctx;
  const twin::RunRecord& run;
  const twin::ScenarioSpec& spec;
  const twin::RunOutcome& outcome;
  std::string key;
  Micros eventStart;
  Micros now;
  std::string simulationId;  // urn of the FloodSimulation entity
  std::string scenarioUrn;   // datasetId of the building instances

  std::string localId(const std::string& type, const std::string& local) const {
    return "urn:ngsi-ld:" + type + ":" + key + ":" + local;
  }
};

// An op that creates the entity from `full`, or merges `fragment` into the existing one.
Result<store::WriteOp> createOrMerge(const Publication& p, const std::string& id, const std::string& full,
                                     const std::string& fragment) {
  JsonDocument fullDoc, fragDoc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(full, fullDoc));
  ALLMENDE_RETURN_IF_ERROR(parseJson(fragment, fragDoc));
  auto entity = model::expandEntity(fullDoc, p.ctx);
  if (!entity) return entity.status();
  auto frag = model::expandFragment(fragDoc, p.ctx, id);
  if (!frag) return frag.status();
  auto e = std::make_shared<JsonDocument>(std::move(*entity));
  auto f = std::make_shared<JsonDocument>(std::move(*frag));
  Micros now = p.now;
  return store::WriteOp{id, [e, f, now](const Json* current) -> Result<store::WriteEffect> {
                          auto next =
                              current ? model::mergeEntity(current, *f, now) : model::createEntity(nullptr, *e, now);
                          if (!next) return next.status();
                          store::WriteEffect eff;
                          eff.kind = store::WriteEffect::Kind::kUpsert;
                          eff.entity = std::move(next).value();
                          return eff;
                        }};
}

Status writeAll(const Publication& p, std::vector<store::WriteOp> ops) {
  if (ops.empty()) return Status::ok();
  for (const auto& st : p.store.write(p.run.tenant, std::move(ops))) ALLMENDE_RETURN_IF_ERROR(st);
  return Status::ok();
}

std::string boundsPolygon(const twin::Bounds& b) {
  return "{\"type\":\"Polygon\",\"coordinates\":[[[" + number(b.west) + "," + number(b.south) + "],[" + number(b.east) +
         "," + number(b.south) + "],[" + number(b.east) + "," + number(b.north) + "],[" + number(b.west) + "," +
         number(b.north) + "],[" + number(b.west) + "," + number(b.south) + "]]]}";
}

Status publishSummary(const Publication& p) {
  const auto& o = p.outcome;
  long affected = 0;
  for (const auto& b : o.buildings) affected += b.depthClass > 0;
  std::string attrs =
      "\"name\":" + property(quoted(p.spec.name.empty() ? p.run.scenario : p.spec.name)) +
      ",\"scenario\":" + property(quoted(p.run.scenario)) + ",\"status\":" + property("\"succeeded\"") +
      ",\"eventStart\":" +
      property("{\"@type\":\"DateTime\",\"@value\":" + quoted(formatDateTime(p.eventStart)) + "}") +
      ",\"rainfall\":" + property(number(o.rainDepthMm), ",\"unitCode\":\"MMT\"") +
      ",\"simulatedDuration\":" + property(number(o.summary.simulatedSeconds), ",\"unitCode\":\"SEC\"") +
      ",\"maxFloodDepth\":" + property(number(o.summary.maxDepth), ",\"unitCode\":\"MTR\"") +
      ",\"floodedArea\":" + property(number(o.floodedAreaM2), ",\"unitCode\":\"MTK\"") +
      ",\"buildingsAssessed\":" + property(std::to_string(o.buildings.size())) +
      ",\"affectedBuildings\":" + property(std::to_string(affected)) +
      ",\"massBalanceError\":" + property(number(o.summary.balance.relativeError())) +
      ",\"results\":" + property(quoted("/twin/v1/runs/" + p.run.id + "/results"));
  if (o.hasBounds) attrs += ",\"location\":{\"type\":\"GeoProperty\",\"value\":" + boundsPolygon(o.bounds) + "}";
  std::string full = "{\"id\":" + quoted(p.simulationId) + ",\"type\":\"FloodSimulation\"," + attrs + "}";
  auto op = createOrMerge(p, p.simulationId, full, "{" + attrs + "}");
  if (!op) return op.status();
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(*op));
  return writeAll(p, std::move(ops));
}

Status publishBuildings(const Publication& p) {
  constexpr size_t kPerWrite = 500;
  std::vector<store::WriteOp> ops;
  const std::string sub =
      ",\"datasetId\":" + quoted(p.scenarioUrn) + ",\"observedAt\":" + quoted(formatDateTime(p.eventStart)) +
      ",\"refFloodSimulation\":{\"type\":\"Relationship\",\"object\":" + quoted(p.simulationId) + "}";
  for (const auto& b : p.outcome.buildings) {
    std::string id = b.id.rfind("urn:", 0) == 0 ? b.id : p.localId("Building", b.id);
    std::string attrs = "\"maxFloodDepth\":" + property(number(b.maxDepth), ",\"unitCode\":\"MTR\"" + sub) +
                        ",\"floodHazardClass\":" + property(std::to_string(b.depthClass), sub);
    std::string full = "{\"id\":" + quoted(id) + ",\"type\":\"Building\"," + attrs;
    if (!b.name.empty()) full += ",\"name\":" + property(quoted(b.name));
    if (!b.geometryWgs84.empty()) full += ",\"location\":{\"type\":\"GeoProperty\",\"value\":" + b.geometryWgs84 + "}";
    auto op = createOrMerge(p, id, full + "}", "{" + attrs + "}");
    if (!op) return Status(op.status().type(), "building '" + b.id + "': " + op.status().detail());
    ops.push_back(std::move(*op));
    if (ops.size() == kPerWrite) ALLMENDE_RETURN_IF_ERROR(writeAll(p, std::exchange(ops, {})));
  }
  return writeAll(p, std::move(ops));
}

Status publishGauges(const Publication& p) {
  const auto& gauges = p.outcome.gauges;
  if (gauges.empty()) return Status::ok();
  // One write per sample time (all gauges together): each leaves one history instance.
  size_t samples = gauges.front().samples.size();
  for (size_t s = 0; s < samples; ++s) {
    std::vector<store::WriteOp> ops;
    for (const auto& g : gauges) {
      const auto& [t, depth] = g.samples[s];
      std::string id = p.localId("FloodMonitoring", "twin-" + p.run.scenario + "-" + g.id);
      Micros at = p.eventStart + Micros(t * 1e6);
      std::string level =
          "\"currentLevel\":" +
          property(number(depth), ",\"unitCode\":\"MTR\",\"observedAt\":" + quoted(formatDateTime(at))) +
          ",\"refFloodSimulation\":{\"type\":\"Relationship\",\"object\":" + quoted(p.simulationId) + "}";
      std::string full = "{\"id\":" + quoted(id) + ",\"type\":\"FloodMonitoring\"," + level +
                         ",\"name\":" + property(quoted(g.name.empty() ? g.id : g.name)) +
                         ",\"scenario\":" + property(quoted(p.run.scenario));
      if (!g.geometryWgs84.empty())
        full += ",\"location\":{\"type\":\"GeoProperty\",\"value\":" + g.geometryWgs84 + "}";
      std::string fragment = "{" + level;
      if (s + 1 == samples) fragment += ",\"maxLevel\":" + property(number(g.maxDepth), ",\"unitCode\":\"MTR\"");
      auto op = createOrMerge(p, id, full + "}", fragment + "}");
      if (!op) return Status(op.status().type(), "gauge '" + g.id + "': " + op.status().detail());
      ops.push_back(std::move(*op));
    }
    ALLMENDE_RETURN_IF_ERROR(writeAll(p, std::move(ops)));
  }
  return Status::ok();
}

}  // namespace

std::string twinMunicipalityKey(const twin::ScenarioSpec& spec, const std::string& tenant,
                                store::TenantRegistry* tenants) {
  if (!spec.municipalityKey.empty()) return spec.municipalityKey;
  if (tenants && !tenant.empty()) {
    if (auto t = tenants->findTenant(tenant); t && !t->ags.empty()) return t->ags;
  }
  return tenant.empty() ? "default" : tenant;
}

namespace {

// The default instance (the first) of an expanded attribute, or null.
const Json* defaultInstance(const Json& attrs, const std::string& iri) {
  const Json* a = findMember(attrs, iri.c_str());
  if (!a || !a->IsArray() || a->Empty() || !(*a)[0].IsObject()) return nullptr;
  return &(*a)[0];
}

// One Building entity as a GeoJSON feature, "" when its location is no (Multi)Polygon.
std::string footprintFeature(const Json& entity, const ld::Context& ctx) {
  const Json* id = findMember(entity, "id");
  const Json* attrs = findMember(entity, "attrs");
  if (!id || !id->IsString() || !attrs || !attrs->IsObject()) return "";
  const Json* loc = defaultInstance(*attrs, ctx.expandTerm("location"));
  const Json* geometry = loc ? findMember(*loc, "value") : nullptr;
  const Json* gtype = geometry && geometry->IsObject() ? findMember(*geometry, "type") : nullptr;
  if (!gtype || !gtype->IsString() || (asView(*gtype) != "Polygon" && asView(*gtype) != "MultiPolygon")) return "";
  std::string props;
  const Json* name = defaultInstance(*attrs, ctx.expandTerm("name"));
  const Json* nameValue = name ? findMember(*name, "value") : nullptr;
  if (nameValue && nameValue->IsString()) props += "\"name\":" + toJsonString(*nameValue);
  const Json* height = defaultInstance(*attrs, ctx.expandTerm("height"));
  const Json* heightValue = height ? findMember(*height, "value") : nullptr;
  if (heightValue && heightValue->IsNumber() && heightValue->GetDouble() >= 0)
    props += std::string(props.empty() ? "" : ",") + "\"height\":" + number(heightValue->GetDouble());
  return "{\"type\":\"Feature\",\"id\":" + toJsonString(*id) + ",\"properties\":{" + props +
         "},\"geometry\":" + toJsonString(*geometry) + "}";
}

}  // namespace

twin::BuildingSource makeBuildingSource(store::Store& store, ld::ContextStore& contexts) {
  return [&store, &contexts](const std::string& tenant) -> Result<std::string> {
    constexpr size_t kMaxBuildings = 500000;
    auto ctx = contexts.core();
    store::EntityQuery q;
    q.typeIris = {ctx->expandTerm("Building"), "https://smartdatamodels.org/dataModel.Building/Building"};
    q.selectionExact = true;
    q.limit = 1000;
    std::string out = "{\"type\":\"FeatureCollection\",\"features\":[";
    size_t count = 0;
    for (;;) {
      auto page = store.queryEntities(tenant, q);
      if (!page) return page.status();
      if (page->entities.empty()) break;
      for (const auto& e : page->entities) {
        std::string f = footprintFeature(e, *ctx);
        if (f.empty()) continue;
        if (++count > kMaxBuildings)
          return badRequestData("the tenant has more than " + std::to_string(kMaxBuildings) + " Building footprints");
        out += (count > 1 ? "," : "") + f;
      }
      q.after = page->cursor;
    }
    return out + "]}";
  };
}

twin::RunPublisher makeRunPublisher(store::Store& store, ld::ContextStore& contexts, store::TenantRegistry* tenants,
                                    const Clock& clock) {
  return [&store, &contexts, tenants, &clock](const twin::RunRecord& run, const twin::ScenarioSpec& spec,
                                              const twin::RunOutcome& outcome) -> Status {
    auto ctx = contexts.core();
    std::string key = twinMunicipalityKey(spec, run.tenant, tenants);
    // Whole seconds: observedAt values of the series stay readable.
    Micros start = spec.eventStart ? *spec.eventStart : run.started / 1000000 * 1000000;
    Publication p{store, *ctx, run, spec, outcome, key, start, clock.now(), "", ""};
    p.simulationId = p.localId("FloodSimulation", run.id);
    p.scenarioUrn = p.localId("FloodScenario", run.scenario);
    ALLMENDE_RETURN_IF_ERROR(publishSummary(p));
    ALLMENDE_RETURN_IF_ERROR(publishBuildings(p));
    return publishGauges(p);
  };
}

}  // namespace allmende::api
