#include "app/demo.h"

#include <cmath>
#include <string>
#include <vector>

#include "model/expand.h"
#include "model/mutation.h"

namespace allmende::app {

namespace {

// Musterhausen lies in the (invented) municipality key 09999001; its centre is placed in a field
// in Bavaria so the map has something to show.
constexpr double kLon = 11.2500, kLat = 48.9000;
constexpr const char* kAgs = "09999001";

std::string point(double dx, double dy) {
  char buf[96];
  std::snprintf(buf, sizeof buf, R"({"type":"Point","coordinates":[%.5f,%.5f]})", kLon + dx, kLat + dy);
  return buf;
}

std::string urn(const std::string& type, int i) { return "urn:ngsi-ld:" + type + ":" + kAgs + ":" + std::to_string(i); }

std::vector<std::string> demoEntities() {
  std::vector<std::string> out;
  const char* statuses[] = {"free", "occupied", "occupied", "free", "closed", "unknown"};
  for (int i = 1; i <= 12; ++i) {
    out.push_back(R"({"id":")" + urn("ParkingSpot", i) + R"(","type":"ParkingSpot",
      "status":{"type":"Property","value":")" + statuses[i % 6] + R"(","observedAt":"2026-11-25T07:00:00Z"},
      "category":{"type":"Property","value":["onStreet"]},
      "refParkingSite":{"type":"Relationship","object":")" + urn("OffStreetParking", 1 + i % 2) + R"("},
      "location":{"type":"GeoProperty","value":)" + point(0.001 * i, 0.0005 * (i % 3)) + "}}");
  }
  for (int i = 1; i <= 2; ++i) {
    out.push_back(R"({"id":")" + urn("OffStreetParking", i) + R"(","type":"OffStreetParking",
      "name":{"type":"Property","value":"Parkhaus )" + std::string(i == 1 ? "Marktplatz" : "Bahnhof") + R"("},
      "totalSpotNumber":{"type":"Property","value":)" + std::to_string(120 * i) + R"(},
      "availableSpotNumber":{"type":"Property","value":)" + std::to_string(37 * i) + R"(,"observedAt":"2026-11-25T07:00:00Z"},
      "location":{"type":"GeoProperty","value":)" + point(-0.004 * i, 0.002) + "}}");
  }
  for (int i = 1; i <= 6; ++i) {
    double level = 0.8 + 0.35 * i;
    out.push_back(R"({"id":")" + urn("FloodMonitoring", i) + R"(","type":"FloodMonitoring",
      "name":{"type":"Property","value":"Pegel Mühlbach )" + std::to_string(i) + R"("},
      "currentLevel":{"type":"Property","value":)" + std::to_string(level) + R"(,"unitCode":"MTR","observedAt":"2026-11-25T07:00:00Z"},
      "alertLevel":{"type":"Property","value":2.0,"unitCode":"MTR"},
      "dangerLevel":{"type":"Property","value":2.8,"unitCode":"MTR"},
      "floodLevelStatus":{"type":"Property","value":")" + std::string(level > 2.8 ? "danger" : level > 2.0 ? "alert" : "normal") + R"("},
      "location":{"type":"GeoProperty","value":)" + point(0.003 * i - 0.01, -0.006 + 0.001 * i) + "}}");
  }
  for (int i = 1; i <= 5; ++i) {
    out.push_back(R"({"id":")" + urn("AirQualityObserved", i) + R"(","type":"AirQualityObserved",
      "no2":{"type":"Property","value":)" + std::to_string(18 + 4 * i) + R"(,"unitCode":"GQ","observedAt":"2026-11-25T07:00:00Z"},
      "pm10":{"type":"Property","value":)" + std::to_string(12 + 3 * i) + R"(,"unitCode":"GQ","observedAt":"2026-11-25T07:00:00Z"},
      "pm25":{"type":"Property","value":)" + std::to_string(7 + 2 * i) + R"(,"unitCode":"GQ","observedAt":"2026-11-25T07:00:00Z"},
      "airQualityIndex":{"type":"Property","value":)" + std::to_string(1 + i % 3) + R"(},
      "location":{"type":"GeoProperty","value":)" + point(0.006 * std::cos(i), 0.004 * std::sin(i)) + "}}");
  }
  for (int i = 1; i <= 2; ++i) {
    out.push_back(R"({"id":")" + urn("WeatherObserved", i) + R"(","type":"WeatherObserved",
      "temperature":{"type":"Property","value":)" + std::to_string(3.5 + i) + R"(,"unitCode":"CEL","observedAt":"2026-11-25T07:00:00Z"},
      "precipitation":{"type":"Property","value":)" + std::to_string(1.2 * i) + R"(,"unitCode":"MMT","observedAt":"2026-11-25T07:00:00Z"},
      "relativeHumidity":{"type":"Property","value":0.82},
      "windSpeed":{"type":"Property","value":4.1,"unitCode":"MTS"},
      "location":{"type":"GeoProperty","value":)" + point(0.002 * i, -0.003) + "}}");
  }
  for (int i = 1; i <= 6; ++i) {
    out.push_back(R"({"id":")" + urn("WasteContainer", i) + R"(","type":"WasteContainer",
      "fillingLevel":{"type":"Property","value":)" + std::to_string(0.15 * i) + R"(,"observedAt":"2026-11-25T07:00:00Z"},
      "status":{"type":"Property","value":")" + std::string(i == 6 ? "full" : "ok") + R"("},
      "location":{"type":"GeoProperty","value":)" + point(-0.002 * i, -0.001 * i) + "}}");
  }
  for (int i = 1; i <= 6; ++i) {
    out.push_back(R"({"id":")" + urn("Streetlight", i) + R"(","type":"Streetlight",
      "status":{"type":"Property","value":")" + std::string(i == 4 ? "defectiveLamp" : "ok") + R"("},
      "powerState":{"type":"Property","value":"on"},
      "location":{"type":"GeoProperty","value":)" + point(0.0007 * i, 0.003) + "}}");
  }
  return out;
}

}  // namespace

Status seedDemo(store::Store& store, const ld::Context& ctx, const Clock& clock) {
  std::vector<JsonDocument> entities;
  for (const auto& text : demoEntities()) {
    JsonDocument body;
    ALLMENDE_RETURN_IF_ERROR(parseJson(text, body));
    auto e = model::expandEntity(body, ctx);
    if (!e) return e.status();
    entities.push_back(std::move(e).value());
  }
  Micros now = clock.now();
  std::vector<store::WriteOp> ops;
  for (const auto& e : entities) {
    ops.push_back({std::string(asView(e["id"])), [&e, now](const Json* cur) -> Result<store::WriteEffect> {
                     auto next = model::upsertEntity(cur, e, now, false);
                     if (!next) return next.status();
                     store::WriteEffect eff;
                     eff.kind = store::WriteEffect::Kind::kUpsert;
                     eff.entity = std::move(next).value();
                     return eff;
                   }});
  }
  for (const auto& st : store.write("", std::move(ops))) ALLMENDE_RETURN_IF_ERROR(st);
  return Status::ok();
}

}  // namespace allmende::app
