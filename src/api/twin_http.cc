#include "api/twin_http.h"

#include <fstream>
#include <sstream>

#include "api/handlers.h"
#include "api/problem.h"
#include "twin/features.h"
#include "twin/run_queue.h"

namespace allmende::api {

namespace {

using twin::RunQueue;
using twin::RunRecord;
using twin::RunState;
using twin::ScenarioRecord;

// The queue and the tenant of a call; 501 when the twin is not configured. Reads of a tenant
// without entities are admitted (its scenarios live outside the entity store).
Result<RunQueue*> twinFor(Call& call) {
  RunQueue* q = call.services().twin;
  if (!q) return Status(ErrorType::kOperationNotSupported, "the digital twin is not enabled on this server");
  ALLMENDE_RETURN_IF_ERROR(call.resolveTenant(true));
  return q;
}

std::string mediaType(const Call& call) {
  std::string_view t = call.request().header("content-type");
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
}

Status parseJsonObject(Call& call, JsonDocument& body) {
  std::string type = mediaType(call);
  if (type != "application/json" && type != "application/ld+json") {
    return Status(ErrorType::kUnsupportedMediaType, "the twin API takes application/json");
  }
  ALLMENDE_RETURN_IF_ERROR(parseJson(call.request().body, body, call.services().options.json));
  if (!body.IsObject()) return badRequestData("the body must be a JSON object");
  return Status::ok();
}

void writeString(JsonWriter& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

void writeTime(JsonWriter& w, const char* key, Micros t) {
  if (t > 0) writeString(w, key, formatDateTime(t));
}

void writeScenario(JsonWriter& w, const ScenarioRecord& s) {
  std::string base = "/twin/v1/scenarios/" + s.id;
  w.StartObject();
  writeString(w, "id", s.id);
  writeString(w, "href", base);
  writeTime(w, "createdAt", s.created);
  writeTime(w, "modifiedAt", s.modified);
  writeString(w, "createdBy", s.createdBy);
  w.Key("inputs");
  w.StartObject();
  for (const auto& in : s.inputs) writeString(w, in.c_str(), base + "/inputs/" + in);
  w.EndObject();
  w.Key("definition");
  w.RawValue(s.definition.c_str(), s.definition.size(), rapidjson::kObjectType);
  w.EndObject();
}

void writeProgress(JsonWriter& w, const RunRecord& r) {
  const auto& p = r.progress;
  w.StartObject();
  w.Key("simulatedSeconds");
  w.Double(p.simulatedSeconds);
  w.Key("endSeconds");
  w.Double(p.endSeconds);
  double fraction = r.state == RunState::kSucceeded ? 1 : p.endSeconds > 0 ? p.simulatedSeconds / p.endSeconds : 0;
  w.Key("fraction");
  w.Double(fraction);
  w.Key("steps");
  w.Int64(p.steps);
  w.Key("wallSeconds");
  w.Double(p.wallSeconds);
  if (r.state == RunState::kRunning && p.simulatedSeconds > 0) {
    w.Key("etaSeconds");
    w.Double(p.wallSeconds * (p.endSeconds - p.simulatedSeconds) / p.simulatedSeconds);
  }
  w.Key("massError");
  w.Double(p.massError);
  if (r.checkpointSeconds >= 0) {  // the newest checkpoint (simulated s) a restart would continue from
    w.Key("checkpointSeconds");
    w.Double(r.checkpointSeconds);
  }
  w.EndObject();
}

void writeRun(JsonWriter& w, const RunRecord& r) {
  w.StartObject();
  writeString(w, "id", r.id);
  writeString(w, "href", "/twin/v1/runs/" + r.id);
  writeString(w, "scenario", r.scenario);
  writeString(w, "state", twin::runStateName(r.state));
  if (r.cancelRequested) {
    w.Key("cancelRequested");
    w.Bool(true);
  }
  writeString(w, "createdBy", r.createdBy);
  writeTime(w, "createdAt", r.created);
  writeTime(w, "startedAt", r.started);
  writeTime(w, "endedAt", r.ended);
  w.Key("progress");
  writeProgress(w, r);
  if (r.resumedFrom >= 0) {  // continued from a checkpoint after a restart
    w.Key("resumedFrom");
    w.Double(r.resumedFrom);
  }
  if (!r.error.empty()) writeString(w, "error", r.error);
  if (r.state == RunState::kSucceeded) {
    w.Key("summary");
    w.RawValue(r.outcome.c_str(), r.outcome.size(), rapidjson::kObjectType);
    writeString(w, "results", "/twin/v1/runs/" + r.id + "/results");
    w.Key("entities");
    w.StartObject();
    w.Key("published");
    w.Bool(r.publishError.empty());
    if (!r.publishError.empty()) writeString(w, "error", r.publishError);
    w.EndObject();
  }
  w.EndObject();
}

std::string text(JsonBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

http::Response scenarioResponse(int status, const ScenarioRecord& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  writeScenario(w, s);
  http::Response r = plainJsonResponse(status, text(buf));
  if (status == 201) r.setHeader("Location", "/twin/v1/scenarios/" + s.id);
  return r;
}

http::Response runResponse(int status, const RunRecord& run) {
  JsonBuffer buf;
  JsonWriter w(buf);
  writeRun(w, run);
  http::Response r = plainJsonResponse(status, text(buf));
  if (status == 201) r.setHeader("Location", "/twin/v1/runs/" + run.id);
  return r;
}

// The definition: every member but "id", checked by the solver's own parser (and the gauges'
// geometries, which are Points).
Result<std::string> checkedDefinition(const JsonDocument& body) {
  auto spec = twin::parseScenarioSpec(body);
  if (!spec) return spec.status();
  if (!spec->gauges.empty()) {
    auto g = twin::parseFeatures(spec->gauges, twin::Raster{}, true);
    if (!g) return badRequestData("scenario: gauges: " + g.status().detail());
  }
  JsonDocument copy;
  copy.CopyFrom(body, copy.GetAllocator());
  copy.RemoveMember("id");
  return toJsonString(copy);
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return notFound("result file missing");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

http::Response fileResponse(const std::string& path, const std::string& type, const std::string& name) {
  auto bytes = readFile(path);
  if (!bytes) return problemResponse(bytes.status());
  http::Response r;
  r.status = 200;
  r.setHeader("Content-Type", type);
  r.setHeader("Content-Disposition", "inline; filename=\"" + name + "\"");
  r.body = std::move(*bytes);
  return r;
}

std::string fileType(const std::string& name) {
  auto ends = [&name](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".tif")) return "image/tiff";
  if (ends(".png")) return "image/png";
  if (ends(".geojson")) return "application/geo+json";
  if (ends(".csv")) return "text/csv; charset=utf-8";
  return "application/json";
}

}  // namespace

http::Response twinCreateScenario(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseJsonObject(call, body));
  std::string id;
  if (const Json* v = findMember(body, "id")) {
    if (!v->IsString()) return problemResponse(badRequestData("\"id\" must be a string"));
    id = std::string(asView(*v));
  } else {
    id = "s-" + std::to_string(call.now());
  }
  auto def = checkedDefinition(body);
  if (!def) return problemResponse(def.status());
  auto s = (*q)->putScenario(call.tenant(), id, *def, call.principal().subject, true);
  if (!s) return problemResponse(s.status());
  return scenarioResponse(201, *s);
}

http::Response twinListScenarios(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& s : (*q)->scenarios(call.tenant())) writeScenario(w, s);
  w.EndArray();
  return plainJsonResponse(200, text(buf));
}

http::Response twinShowScenario(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  auto s = (*q)->scenario(call.tenant(), call.pathParam("scenarioId"));
  if (!s) return problemResponse(s.status());
  return scenarioResponse(200, *s);
}

http::Response twinReplaceScenario(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseJsonObject(call, body));
  const std::string& id = call.pathParam("scenarioId");
  if (const Json* v = findMember(body, "id"); v && !(v->IsString() && asView(*v) == id)) {
    return problemResponse(badRequestData("\"id\" differs from the path"));
  }
  auto def = checkedDefinition(body);
  if (!def) return problemResponse(def.status());
  auto s = (*q)->putScenario(call.tenant(), id, *def, call.principal().subject, false);
  if (!s) return problemResponse(s.status());
  return scenarioResponse(200, *s);
}

http::Response twinDeleteScenario(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE((*q)->deleteScenario(call.tenant(), call.pathParam("scenarioId")));
  return emptyResponse(204);
}

http::Response twinPutInput(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  const std::string& input = call.pathParam("input");
  std::string type = mediaType(call);
  bool raster = twin::isRasterInput(input);
  bool ok = raster ? (type == "image/tiff" || type == "application/octet-stream")
                   : (type == "application/geo+json" || type == "application/json");
  if (!ok) {
    return problemResponse(Status(ErrorType::kUnsupportedMediaType,
                                  raster ? "the rasters (dem, manning, infiltration) are sent as image/tiff"
                                         : "footprints and areas are sent as application/geo+json"));
  }
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(
      (*q)->putInput(call.tenant(), call.pathParam("scenarioId"), input, call.request().body));
  return emptyResponse(204);
}

http::Response twinGetInput(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  const std::string& input = call.pathParam("input");
  auto path = (*q)->inputFile(call.tenant(), call.pathParam("scenarioId"), input);
  if (!path) return problemResponse(path.status());
  bool raster = twin::isRasterInput(input);
  return fileResponse(*path, raster ? "image/tiff" : "application/geo+json", input + (raster ? ".tif" : ".geojson"));
}

http::Response twinCreateRun(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseJsonObject(call, body));
  const Json* scenario = findMember(body, "scenario");
  if (!scenario || !scenario->IsString())
    return problemResponse(badRequestData("\"scenario\" (the scenario id) is required"));
  const Json* start = findMember(body, "start");
  if (start && !start->IsBool()) return problemResponse(badRequestData("\"start\" must be a boolean"));
  auto r = (*q)->createRun(call.tenant(), std::string(asView(*scenario)), call.principal().subject,
                           !start || start->GetBool());
  if (!r) return problemResponse(r.status());
  return runResponse(201, *r);
}

http::Response twinListRuns(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  std::optional<std::string> scenario;
  if (const std::string* s = call.param("scenario")) scenario = *s;
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& r : (*q)->runs(call.tenant(), scenario)) writeRun(w, r);
  w.EndArray();
  return plainJsonResponse(200, text(buf));
}

http::Response twinShowRun(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  auto r = (*q)->run(call.tenant(), call.pathParam("runId"));
  if (!r) return problemResponse(r.status());
  return runResponse(200, *r);
}

http::Response twinRunProgress(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  auto r = (*q)->run(call.tenant(), call.pathParam("runId"));
  if (!r) return problemResponse(r.status());
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeString(w, "state", twin::runStateName(r->state));
  w.Key("progress");
  writeProgress(w, *r);
  w.EndObject();
  return plainJsonResponse(200, text(buf));
}

http::Response twinStartRun(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  auto r = (*q)->startRun(call.tenant(), call.pathParam("runId"));
  if (!r) return problemResponse(r.status());
  return runResponse(202, *r);
}

http::Response twinCancelRun(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  auto r = (*q)->cancelRun(call.tenant(), call.pathParam("runId"));
  if (!r) return problemResponse(r.status());
  return runResponse(202, *r);
}

http::Response twinRunResults(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  auto r = (*q)->run(call.tenant(), call.pathParam("runId"));
  if (!r) return problemResponse(r.status());
  if (r->state != RunState::kSucceeded) {
    return problemResponse(
        Status(ErrorType::kConflict, "run '" + r->id + "' is " + twin::runStateName(r->state) + ": no results"));
  }
  std::string base = "/twin/v1/runs/" + r->id + "/results/";
  JsonDocument outcome;
  (void)parseJson(r->outcome, outcome);
  const Json* b = findMember(outcome, "bounds");
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeString(w, "run", r->id);
  w.Key("summary");
  w.RawValue(r->outcome.c_str(), r->outcome.size(), rapidjson::kObjectType);
  struct File {
    const char* name;
    const char* about;
    bool needsCrs;
  } files[] = {{"max_depth.tif", "maximum water depth (m), Float32", false},
               {"max_velocity.tif", "maximum flow speed (m/s), Float32", false},
               {"time_to_10cm.tif", "seconds until 10 cm depth, -1 = never", false},
               {"hazard_depth.tif", "depth classes 0-4 (0.1/0.3/0.5/1 m), Byte", false},
               {"hazard_rating.tif", "FD2320 hazard rating classes 0-3, Byte", false},
               {"hazard_depth.png", "depth classes as an RGBA image in WGS84 (see overlay.bounds)", true},
               {"hazard_depth.geojson", "depth classes as polygons in WGS84", true},
               {"buildings.geojson", "footprints with maxDepth and depthClass", true},
               {"gauges.csv", "depth series of the virtual gauges", false},
               {"summary.json", "cells, steps, mass balance", false}};
  w.Key("files");
  w.StartArray();
  for (const auto& f : files) {
    if (f.needsCrs && !b) continue;
    w.StartObject();
    writeString(w, "name", f.name);
    writeString(w, "href", base + f.name);
    writeString(w, "type", fileType(f.name));
    writeString(w, "description", f.about);
    w.EndObject();
  }
  w.EndArray();
  if (b && b->IsObject()) {
    // Leaflet: L.imageOverlay(image, bounds) and L.geoJSON(polygons).
    w.Key("overlay");
    w.StartObject();
    writeString(w, "image", base + "hazard_depth.png");
    w.Key("bounds");
    w.StartArray();
    w.StartArray();
    w.Double((*b)["south"].GetDouble());
    w.Double((*b)["west"].GetDouble());
    w.EndArray();
    w.StartArray();
    w.Double((*b)["north"].GetDouble());
    w.Double((*b)["east"].GetDouble());
    w.EndArray();
    w.EndArray();
    writeString(w, "polygons", base + "hazard_depth.geojson");
    writeString(w, "buildings", base + "buildings.geojson");
    w.EndObject();
  }
  w.EndObject();
  return plainJsonResponse(200, text(buf));
}

http::Response twinRunResultFile(Call& call) {
  auto q = twinFor(call);
  if (!q) return problemResponse(q.status());
  const std::string& file = call.pathParam("file");
  auto path = (*q)->resultFile(call.tenant(), call.pathParam("runId"), file);
  if (!path) return problemResponse(path.status());
  return fileResponse(*path, fileType(file), file);
}

}  // namespace allmende::api
