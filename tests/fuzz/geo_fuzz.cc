// GeoJSON geometries and geoQ (NGSI-LD 4.10): validation and parsing of any input never crash;
// a geoQ that parses can be evaluated against an entity's location.
#include "common/json.h"
#include "fuzz_input.h"
#include "geo/geo_filter.h"
#include "geo/geo_query.h"
#include "geo/geometry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allmende;
  auto f = fuzz::fields(fuzz::asText(data, size), 3);
  // As a GeoJSON geometry (the value of a GeoProperty).
  JsonDocument doc;
  if (parseJson(f[2], doc, JsonLimits{32}).isOk() && geo::validateGeometry(doc).isOk()) {
    auto g = geo::parseGeometry(doc);
    FUZZ_CHECK(g.isOk());
    geo::bboxOf(*g);
  }
  // As the three geoQ parameters: georel, geometry, coordinates.
  auto q = geo::parseGeoQuery(f[0], f[1], f[2], "https://uri.etsi.org/ngsi-ld/location");
  if (q.isOk()) {
    geo::GeoFilter filter(std::move(q).value());
    JsonDocument stored;
    stored.Parse(R"({"type":"Polygon","coordinates":[[[11.4,48.0],[11.6,48.0],[11.6,48.2],[11.4,48.0]]]})");
    filter.matches(stored);
    filter.distanceTo(stored);
    if (doc.IsObject()) filter.matches(doc);
    filter.searchBox();
  }
  return 0;
}
