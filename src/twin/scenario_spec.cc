#include "twin/scenario_spec.h"

#include <algorithm>
#include <cmath>

#include "twin/rain.h"

namespace allmende::twin {

const std::map<std::string, LandUseClass>& defaultLandUseClasses() {
  // Manning's n: Chow (1959) table 5-6 and the values German heavy-rain studies commonly use;
  // infiltration: a steady rate of soaked soil, an order of magnitude only.
  static const std::map<std::string, LandUseClass> classes = {
      {"sealed", {0.015, 0}}, {"street", {0.015, 0}}, {"residential", {0.05, 2}}, {"grass", {0.035, 10}},
      {"field", {0.04, 8}},   {"forest", {0.1, 20}},  {"water", {0.03, 0}},
  };
  return classes;
}

namespace {

Status bad(const std::string& member, const std::string& why) {
  return badRequestData("scenario: " + member + " " + why);
}

Result<double> number(const Json& def, const char* name, double fallback, double min, double max) {
  const Json* v = findMember(def, name);
  if (!v) return fallback;
  if (!v->IsNumber()) return bad(name, "must be a number");
  double d = v->GetDouble();
  if (!(d >= min && d <= max))
    return bad(name, "must lie between " + std::to_string(min) + " and " + std::to_string(max));
  return d;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// {"type": "uniform", "mmPerHour", "durationMinutes"} | {"type": "blocks", "stepMinutes",
// "mmPerHour": [...]} | {"type": "euler2", "durationMinutes", "depths": [[minutes, mm], ...]}
Result<std::string> rainSpec(const Json& r) {
  if (r.IsString()) return std::string(asView(r));
  if (!r.IsObject()) return bad("rain", "must be a string or an object");
  const Json* type = findMember(r, "type");
  std::string t = type && type->IsString() ? std::string(asView(*type)) : "";
  auto field = [&r](const char* name) -> Result<double> {
    const Json* v = findMember(r, name);
    if (!v || !v->IsNumber()) return bad(std::string("rain.") + name, "must be a number");
    return v->GetDouble();
  };
  if (t == "uniform") {
    auto i = field("mmPerHour");
    auto d = field("durationMinutes");
    if (!i) return i.status();
    if (!d) return d.status();
    return "uniform:" + num(*i) + ":" + num(*d);
  }
  if (t == "blocks" || t == "euler2") {
    const char* listName = t == "blocks" ? "mmPerHour" : "depths";
    auto head = field(t == "blocks" ? "stepMinutes" : "durationMinutes");
    if (!head) return head.status();
    const Json* list = findMember(r, listName);
    if (!list || !list->IsArray() || list->Empty())
      return bad(std::string("rain.") + listName, "must be a non-empty array");
    std::string s = t + ":" + num(*head) + ":";
    bool first = true;
    for (const auto& e : list->GetArray()) {
      if (!first) s += ",";
      first = false;
      if (t == "blocks") {
        if (!e.IsNumber()) return bad("rain.mmPerHour", "must hold numbers");
        s += num(e.GetDouble());
      } else {
        if (!e.IsArray() || e.Size() != 2 || !e[0].IsNumber() || !e[1].IsNumber()) {
          return bad("rain.depths", "must hold [minutes, mm] pairs");
        }
        s += num(e[0].GetDouble()) + "=" + num(e[1].GetDouble());
      }
    }
    return s;
  }
  return bad("rain.type", "must be uniform, blocks or euler2");
}

Status landUse(const Json* v, ScenarioSpec& s) {
  s.landUseClasses = defaultLandUseClasses();
  if (!v) return Status::ok();
  if (!v->IsObject()) return bad("landUseClasses", "must be an object");
  for (const auto& m : v->GetObject()) {
    std::string name(asView(m.name));
    if (!m.value.IsObject()) return bad("landUseClasses." + name, "must be an object");
    LandUseClass c = s.landUseClasses.count(name) ? s.landUseClasses[name] : LandUseClass{};
    auto n = number(m.value, "manning", c.manning, 1e-4, 1);
    if (!n) return n.status();
    auto i = number(m.value, "infiltrationMmPerHour", c.infiltrationMmPerHour, 0, 1000);
    if (!i) return i.status();
    s.landUseClasses[name] = LandUseClass{*n, *i};
  }
  return Status::ok();
}

Status strings(const Json& def, ScenarioSpec& s) {
  for (const char* name : {"name", "description", "boundary", "precision", "municipalityKey", "eventStart"}) {
    const Json* v = findMember(def, name);
    if (v && !v->IsString()) return bad(name, "must be a string");
  }
  if (const Json* v = findMember(def, "name")) s.name = std::string(asView(*v));
  if (const Json* v = findMember(def, "boundary")) s.boundary = std::string(asView(*v));
  if (s.boundary != "closed" && s.boundary != "free") return bad("boundary", "must be closed or free");
  if (const Json* v = findMember(def, "precision")) {
    std::string p(asView(*v));
    if (p != "float" && p != "double") return bad("precision", "must be float or double");
    s.precision = p == "float" ? Precision::kFloat : Precision::kDouble;
  }
  if (const Json* v = findMember(def, "municipalityKey")) {
    s.municipalityKey = std::string(asView(*v));
    for (char c : s.municipalityKey) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return bad("municipalityKey", "must be letters, digits, - or _");
    }
  }
  if (const Json* v = findMember(def, "eventStart")) {
    s.eventStart = parseDateTime(asView(*v));
    if (!s.eventStart) return bad("eventStart", "must be an ISO 8601 date-time");
  }
  return Status::ok();
}

Status buildings(const Json* v, ScenarioSpec& s) {
  if (!v) return Status::ok();
  if (!v->IsObject()) return bad("buildings", "must be an object");
  if (const Json* m = findMember(*v, "mode")) {
    if (!m->IsString() || (asView(*m) != "block" && asView(*m) != "raise"))
      return bad("buildings.mode", "must be block or raise");
    s.buildingsBlock = asView(*m) == "block";
  }
  if (const Json* src = findMember(*v, "source")) {
    if (!src->IsString() || (asView(*src) != "upload" && asView(*src) != "entities"))
      return bad("buildings.source", "must be upload or entities");
    s.buildingsFromEntities = asView(*src) == "entities";
  }
  auto h = number(*v, "height", s.buildingHeight, 0, 500);
  if (!h) return h.status();
  s.buildingHeight = *h;
  return Status::ok();
}

// [[seconds, value], ...]: at least one pair, times ascending from 0, values in [0, maxValue].
Result<TimeSeries> timeSeries(const Json& v, const std::string& member, double maxValue) {
  if (!v.IsArray() || v.Empty()) return bad(member, "must be a non-empty array of [seconds, value] pairs");
  TimeSeries out;
  for (const auto& e : v.GetArray()) {
    if (!e.IsArray() || e.Size() != 2 || !e[0].IsNumber() || !e[1].IsNumber())
      return bad(member, "must hold [seconds, value] pairs");
    double t = e[0].GetDouble(), x = e[1].GetDouble();
    if (!(t >= 0) || (!out.empty() && !(t > out.back().first))) return bad(member, "times must ascend from 0");
    if (!(x >= 0 && x <= maxValue)) return bad(member, "values must lie between 0 and " + num(maxValue));
    out.emplace_back(t, x);
  }
  return out;
}

// "inflows": Points with properties.hydrograph [[s, m3/s], ...].
Status inflows(const Json* v, ScenarioSpec& s) {
  if (!v) return Status::ok();
  const Json* type = v->IsObject() ? findMember(*v, "type") : nullptr;
  const Json* features = v->IsObject() ? findMember(*v, "features") : nullptr;
  if (!type || !type->IsString() || asView(*type) != "FeatureCollection" || !features || !features->IsArray())
    return bad("inflows", "must be a GeoJSON FeatureCollection of Points");
  for (const auto& f : features->GetArray()) {
    const Json* props = f.IsObject() ? findMember(f, "properties") : nullptr;
    const Json* h = props && props->IsObject() ? findMember(*props, "hydrograph") : nullptr;
    std::string member = "inflows.features[" + std::to_string(s.inflowHydrographs.size()) + "].properties.hydrograph";
    if (!h) return bad(member, "is required");
    auto series = timeSeries(*h, member, 1e5);
    if (!series) return series.status();
    s.inflowHydrographs.push_back(std::move(*series));
  }
  s.inflows = toJsonString(*v);
  return Status::ok();
}

// "boundaries": {"west": "closed" | "free" | {"type": "free", "outflowSlope": x} |
// {"type": "depth", "depths": [[s, m], ...]}, ...}
Status edges(const Json* v, ScenarioSpec& s) {
  if (!v) return Status::ok();
  if (!v->IsObject()) return bad("boundaries", "must be an object");
  for (const auto& m : v->GetObject()) {
    std::string name(asView(m.name));
    EdgeSpec* e = name == "west"    ? &s.west
                  : name == "east"  ? &s.east
                  : name == "north" ? &s.north
                  : name == "south" ? &s.south
                                    : nullptr;
    std::string member = "boundaries." + name;
    if (!e) return bad("boundaries", "may name west, east, north and south only");
    const Json* type = m.value.IsObject() ? findMember(m.value, "type") : &m.value;
    if (!type || !type->IsString()) return bad(member, "must be closed, free or an object with a type");
    e->kind = std::string(asView(*type));
    if (e->kind != "closed" && e->kind != "free" && e->kind != "depth")
      return bad(member, "must be closed, free or depth");
    if (!m.value.IsObject()) {
      if (e->kind == "depth") return bad(member, "of type depth needs depths");
      continue;
    }
    auto slope = number(m.value, "outflowSlope", 0, 0, 1);
    if (!slope) return slope.status();
    e->slope = *slope;
    if (e->kind == "depth") {
      const Json* d = findMember(m.value, "depths");
      if (!d) return bad(member + ".depths", "is required");
      auto series = timeSeries(*d, member + ".depths", 100);
      if (!series) return series.status();
      e->depths = std::move(*series);
    }
  }
  return Status::ok();
}

}  // namespace

double valueAt(const TimeSeries& series, double t, std::optional<double> outside) {
  if (series.empty()) return outside.value_or(0);
  if (t < series.front().first) return outside.value_or(series.front().second);
  if (t > series.back().first) return outside.value_or(series.back().second);
  auto next = std::upper_bound(series.begin(), series.end(), t, [](double x, const auto& p) { return x < p.first; });
  if (next == series.end()) return series.back().second;
  auto prev = next - 1;
  double f = (t - prev->first) / (next->first - prev->first);
  return prev->second + f * (next->second - prev->second);
}

Result<ScenarioSpec> parseScenarioSpec(const Json& def) {
  if (!def.IsObject()) return badRequestData("a scenario must be a JSON object");
  ScenarioSpec s;
  ALLMENDE_RETURN_IF_ERROR(strings(def, s));
  const Json* rain = findMember(def, "rain");
  if (!rain) return bad("rain", "is required");
  auto r = rainSpec(*rain);
  if (!r) return r.status();
  auto parsed = parseRain(*r);
  if (!parsed) return badRequestData("scenario: rain: " + parsed.status().detail());
  s.rain = *r;
  struct {
    const char* name;
    double* target;
    double min, max;
  } numbers[] = {{"durationSeconds", &s.durationSeconds, 0, 7 * 86400.0},
                 {"manning", &s.manning, 1e-4, 1},
                 {"infiltrationMmPerHour", &s.infiltrationMmPerHour, 0, 1000},
                 {"initialLossMm", &s.initialLossMm, 0, 1000},
                 {"outflowSlope", &s.outflowSlope, 1e-6, 1},
                 {"gaugeIntervalSeconds", &s.gaugeIntervalSeconds, 1, 86400}};
  for (auto& n : numbers) {
    auto v = number(def, n.name, *n.target, n.min, n.max);
    if (!v) return v.status();
    *n.target = *v;
  }
  ALLMENDE_RETURN_IF_ERROR(buildings(findMember(def, "buildings"), s));
  ALLMENDE_RETURN_IF_ERROR(landUse(findMember(def, "landUseClasses"), s));
  if (const Json* g = findMember(def, "gauges")) {
    const Json* type = g->IsObject() ? findMember(*g, "type") : nullptr;
    if (!type || !type->IsString() || asView(*type) != "FeatureCollection") {
      return bad("gauges", "must be a GeoJSON FeatureCollection of Points");
    }
    s.gauges = toJsonString(*g);
  }
  ALLMENDE_RETURN_IF_ERROR(inflows(findMember(def, "inflows"), s));
  ALLMENDE_RETURN_IF_ERROR(edges(findMember(def, "boundaries"), s));
  return s;
}

}  // namespace allmende::twin
