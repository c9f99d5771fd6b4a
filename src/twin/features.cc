#include "twin/features.h"

#include <algorithm>
#include <cstdio>

#include "common/json.h"
#include "twin/crs.h"

namespace allmende::twin {

namespace {

// The CRS of the input: the legacy "crs" member, else WGS84 (RFC 7946), else nothing when the
// DEM has none either (synthetic terrains share one local frame with their inputs).
std::string inputCrs(const Json& doc, const Raster& dem) {
  const Json* crs = findMember(doc, "crs");
  const Json* props = crs ? findMember(*crs, "properties") : nullptr;
  const Json* name = props ? findMember(*props, "name") : nullptr;
  if (name && name->IsString()) return std::string(asView(*name));
  return dem.crsWkt.empty() ? std::string() : std::string(kWgs84);
}

struct Transforms {
  CrsTransform toDem;
  CrsTransform toWgs84;
  bool wgs84Known = false;
};

Result<Vec2> position(const Json& p, const std::string& what) {
  if (!p.IsArray() || p.Size() < 2 || !p[0].IsNumber() || !p[1].IsNumber()) {
    return badRequestData(what + ": a position must be an array of two numbers");
  }
  return Vec2{p[0].GetDouble(), p[1].GetDouble()};
}

void appendPosition(std::string& out, Vec2 v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%.7f,%.7f]", v.x, v.y);
  out += buf;
}

Result<Ring> ring(const Json& r, const Transforms& t, const std::string& what, std::string& wgs) {
  if (!r.IsArray() || r.Size() < 4) return badRequestData(what + ": a ring needs at least four positions");
  Ring out;
  wgs += '[';
  for (const auto& p : r.GetArray()) {
    auto v = position(p, what);
    if (!v) return v.status();
    Vec2 dem = *v, geo = *v;
    if (!t.toDem.apply(dem.x, dem.y) || !t.toWgs84.apply(geo.x, geo.y)) {
      return badRequestData(what + ": a position cannot be transformed");
    }
    out.push_back(dem);
    if (wgs.size() > 1 && wgs.back() != '[') wgs += ',';
    appendPosition(wgs, geo);
  }
  wgs += ']';
  return out;
}

Result<Polygon> polygon(const Json& rings, const Transforms& t, const std::string& what, std::string& wgs) {
  if (!rings.IsArray() || rings.Empty()) return badRequestData(what + ": a polygon needs rings");
  Polygon out;
  wgs += '[';
  for (const auto& r : rings.GetArray()) {
    if (out.size() > 0) wgs += ',';
    auto one = ring(r, t, what, wgs);
    if (!one) return one.status();
    out.push_back(std::move(*one));
  }
  wgs += ']';
  return out;
}

std::string stringMember(const Json& obj, std::string_view name) {
  const Json* v = findMember(obj, name);
  if (!v) return "";
  if (v->IsString()) return std::string(asView(*v));
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  return "";
}

Status readGeometry(const Json& g, const Transforms& t, bool points, Feature& f, const std::string& what) {
  std::string type = stringMember(g, "type");
  const Json* coords = findMember(g, "coordinates");
  if (!coords) return badRequestData(what + " has no coordinates");
  std::string wgs = "{\"type\":\"" + type + "\",\"coordinates\":";
  if (points) {
    if (type != "Point") return badRequestData(what + " must be a Point, not " + type.substr(0, 40));
    auto v = position(*coords, what);
    if (!v) return v.status();
    Vec2 dem = *v, geo = *v;
    if (!t.toDem.apply(dem.x, dem.y) || !t.toWgs84.apply(geo.x, geo.y))
      return badRequestData(what + " cannot be transformed");
    f.point = dem;
    f.isPoint = true;
    appendPosition(wgs, geo);
  } else if (type == "Polygon") {
    auto p = polygon(*coords, t, what, wgs);
    if (!p) return p.status();
    f.polygons.push_back(std::move(*p));
  } else if (type == "MultiPolygon") {
    if (!coords->IsArray() || coords->Empty()) return badRequestData(what + ": a MultiPolygon needs polygons");
    wgs += '[';
    for (const auto& one : coords->GetArray()) {
      if (!f.polygons.empty()) wgs += ',';
      auto p = polygon(one, t, what, wgs);
      if (!p) return p.status();
      f.polygons.push_back(std::move(*p));
    }
    wgs += ']';
  } else {
    return badRequestData(what + " must be a Polygon or MultiPolygon, not " + type.substr(0, 40));
  }
  if (t.wgs84Known) f.geometryWgs84 = wgs + "}";
  return Status::ok();
}

}  // namespace

Result<std::vector<Feature>> parseFeatures(std::string_view text, const Raster& dem, bool points) {
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(text, doc));
  if (!doc.IsObject()) return badRequestData("GeoJSON must be a FeatureCollection or a Feature");
  std::string crs = inputCrs(doc, dem);
  Transforms t;
  auto toDem = CrsTransform::make(crs, dem.crsWkt);
  if (!toDem) return toDem.status();
  t.toDem = std::move(*toDem);
  t.wgs84Known = !crs.empty();
  auto toWgs = CrsTransform::make(crs, t.wgs84Known ? kWgs84 : "");
  if (!toWgs) return toWgs.status();
  t.toWgs84 = std::move(*toWgs);

  std::vector<const Json*> features;
  std::string type = stringMember(doc, "type");
  if (type == "FeatureCollection") {
    const Json* list = findMember(doc, "features");
    if (!list || !list->IsArray()) return badRequestData("a FeatureCollection needs a features array");
    for (const auto& f : list->GetArray()) features.push_back(&f);
  } else if (type == "Feature") {
    features.push_back(&doc);
  } else {
    return badRequestData("GeoJSON must be a FeatureCollection or a Feature");
  }
  std::vector<Feature> out;
  for (size_t k = 0; k < features.size(); ++k) {
    const Json& fj = *features[k];
    if (!fj.IsObject()) return badRequestData("feature " + std::to_string(k + 1) + " is not an object");
    Feature f;
    const Json* props = findMember(fj, "properties");
    f.id = stringMember(fj, "id");
    if (props && props->IsObject()) {
      if (f.id.empty()) f.id = stringMember(*props, "id");
      f.name = stringMember(*props, "name");
      f.landUse = stringMember(*props, "landUse");
      if (f.landUse.empty()) f.landUse = stringMember(*props, "class");
      const Json* h = findMember(*props, "height");
      if (h && h->IsNumber()) f.height = h->GetDouble();
    }
    if (f.id.empty()) f.id = std::to_string(k + 1);
    const Json* g = findMember(fj, "geometry");
    std::string what = "feature '" + f.id.substr(0, 80) + "'";
    if (!g || !g->IsObject()) return badRequestData(what + " has no geometry");
    ALLMENDE_RETURN_IF_ERROR(readGeometry(*g, t, points, f, what));
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

// Even-odd rule over every ring of the polygon (the holes flip it back).
bool inside(const Polygon& p, double x, double y) {
  bool in = false;
  for (const auto& r : p) {
    for (size_t a = 0, b = r.size() - 1; a < r.size(); b = a++) {
      if ((r[a].y > y) != (r[b].y > y) && x < (r[b].x - r[a].x) * (y - r[a].y) / (r[b].y - r[a].y) + r[a].x) in = !in;
    }
  }
  return in;
}

}  // namespace

bool cellAt(const Raster& g, double x, double y, int& i, int& j) {
  double fi = (x - g.originX) / g.dx, fj = (g.originY - y) / g.dx;
  if (fi < 0 || fj < 0 || fi >= g.nx || fj >= g.ny) return false;
  i = int(fi);
  j = int(fj);
  return true;
}

std::vector<size_t> cellsInside(const Feature& f, const Raster& g) {
  std::vector<size_t> cells;
  for (const auto& p : f.polygons) {
    if (p.empty() || p[0].empty()) continue;
    double minX = p[0][0].x, maxX = minX, minY = p[0][0].y, maxY = minY;
    for (const auto& v : p[0]) {
      minX = std::min(minX, v.x), maxX = std::max(maxX, v.x);
      minY = std::min(minY, v.y), maxY = std::max(maxY, v.y);
    }
    int i0 = std::max(0, int((minX - g.originX) / g.dx - 1)),
        i1 = std::min(g.nx - 1, int((maxX - g.originX) / g.dx + 1));
    int j0 = std::max(0, int((g.originY - maxY) / g.dx - 1)),
        j1 = std::min(g.ny - 1, int((g.originY - minY) / g.dx + 1));
    for (int j = j0; j <= j1; ++j) {
      double y = g.originY - (j + 0.5) * g.dx;
      for (int i = i0; i <= i1; ++i) {
        if (inside(p, g.originX + (i + 0.5) * g.dx, y)) cells.push_back(g.index(i, j));
      }
    }
  }
  std::sort(cells.begin(), cells.end());
  cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
  return cells;
}

}  // namespace allmende::twin
