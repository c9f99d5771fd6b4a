#include "api/output.h"

#include "api/entity_query.h"
#include "geo/geo_query.h"
#include "model/expand.h"

namespace allmende::api {

namespace {

// Projection names: "id", "type" and "scope" stay as they are; the rest are attribute terms.
Result<std::string> projectionName(const std::string& term, const ld::Context& ctx) {
  if (term == "id" || term == "type" || term == "scope") return term;
  return model::expandAttributeName(term, ctx);
}

Status addNames(const std::string* list, const ld::Context& ctx, std::unordered_set<std::string>& out) {
  if (!list) return Status::ok();
  for (const auto& term : splitList(*list)) {
    auto name = projectionName(term, ctx);
    if (!name) return name.status();
    out.insert(*name);
  }
  return Status::ok();
}

}  // namespace

Result<OutputOptions> outputOptions(const Call& call, const std::vector<std::string>& queryAttrs) {
  OutputOptions o;
  model::RenderOptions& r = o.render;
  const std::string* options = call.param("options");
  for (const auto& opt : options ? splitList(*options) : std::vector<std::string>{}) {
    if (opt == "keyValues" || opt == "simplified") r.format = model::Format::kKeyValues;
    else if (opt == "concise") r.format = model::Format::kConcise;
    else if (opt == "normalized") r.format = model::Format::kNormalized;
    else if (opt == "sysAttrs") r.sysAttrs = true;
    else if (opt != "noOverwrite" && opt != "replace" && opt != "update")
      return badRequestData("unknown option '" + opt + "'");
  }
  if (const std::string* format = call.param("format")) {
    if (*format == "keyValues" || *format == "simplified") r.format = model::Format::kKeyValues;
    else if (*format == "concise") r.format = model::Format::kConcise;
    else if (*format == "normalized") r.format = model::Format::kNormalized;
    else return badRequestData("unknown format '" + *format + "'");
  }
  const ld::Context& ctx = call.context();
  // NGSI-LD 4.21: pick and omit; `attrs` picks attributes and keeps id and type.
  std::vector<std::string> attrs = queryAttrs;
  if (const std::string* a = call.param("attrs")) {
    for (auto& term : splitList(*a)) attrs.push_back(std::move(term));
  }
  if (call.param("pick") || !attrs.empty()) {
    r.projection.pick.emplace();
    ALLMENDE_RETURN_IF_ERROR(addNames(call.param("pick"), ctx, *r.projection.pick));
    if (!attrs.empty() && !call.param("pick")) r.projection.pick->insert({"id", "type", "scope"});
    for (const auto& term : attrs) {
      auto name = projectionName(term, ctx);
      if (!name) return name.status();
      r.projection.pick->insert(*name);
    }
  }
  if (call.param("pick") && call.param("omit")) return badRequestData("pick and omit cannot be used together");
  ALLMENDE_RETURN_IF_ERROR(addNames(call.param("omit"), ctx, r.projection.omit));
  if (const std::string* lang = call.param("lang")) r.lang = *lang;
  r.contextJson = call.embeddedContext();
  const std::string* gp = call.param("geometryProperty");
  o.geometryProperty = gp ? ctx.expandTerm(*gp) : std::string(geo::kDefaultGeoProperty);
  return o;
}

std::string renderOne(const Call& call, const Json& entity, const OutputOptions& o) {
  JsonBuffer buf;
  JsonWriter w(buf);
  if (call.responseType() == MediaType::kGeoJson) {
    model::renderFeature(entity, call.context(), o.render, o.geometryProperty, w);
  } else {
    model::renderEntity(entity, call.context(), o.render, w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

std::string renderList(const Call& call, const std::vector<JsonDocument>& entities, const OutputOptions& o) {
  JsonBuffer buf;
  JsonWriter w(buf);
  if (call.responseType() == MediaType::kGeoJson) {
    // NGSI-LD 6.3.15: a FeatureCollection; its @context (ld+json) is not embedded per feature.
    model::RenderOptions inner = o.render;
    inner.contextJson.clear();
    w.StartObject();
    w.Key("type");
    w.String("FeatureCollection");
    w.Key("features");
    w.StartArray();
    for (const auto& e : entities) model::renderFeature(e, call.context(), inner, o.geometryProperty, w);
    w.EndArray();
    w.EndObject();
  } else {
    w.StartArray();
    for (const auto& e : entities) model::renderEntity(e, call.context(), o.render, w);
    w.EndArray();
  }
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace allmende::api
