#include "app/demo_history.h"

#include <cmath>
#include <string>
#include <vector>

#include "model/expand.h"
#include "model/mutation.h"
#include "store/temporal.h"

namespace allmende::app {

namespace {

constexpr Micros kHour = 3'600'000'000;
constexpr const char* kAgs = "09999001";

std::string urn(const std::string& type, int i) { return "urn:ngsi-ld:" + type + ":" + kAgs + ":" + std::to_string(i); }

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Hour h (0 = the oldest) of gauge i: a daily swing and a rain event on the second day.
double level(int i, int h) {
  double rain = 0.9 * std::exp(-std::pow((h - 40) / 6.0, 2));
  return 0.8 + 0.35 * i + 0.12 * std::sin(2 * M_PI * h / 24.0) + rain * (0.6 + 0.1 * i);
}

// NO2 with morning and evening rush hours; particles follow loosely.
double no2(int i, int hourOfDay) {
  double rush =
      14 * std::exp(-std::pow((hourOfDay - 8) / 1.5, 2)) + 10 * std::exp(-std::pow((hourOfDay - 17) / 2.0, 2));
  return 14 + 4 * i + rush;
}

struct Update {
  std::string id;
  std::string fragment;  // JSON text
};

std::vector<Update> updatesAt(int h, int hourOfDay, const std::string& at) {
  std::vector<Update> out;
  for (int i = 1; i <= 6; ++i) {
    double v = level(i, h);
    out.push_back({urn("FloodMonitoring", i), R"({"currentLevel":{"type":"Property","value":)" + number(v) +
                                                  R"(,"unitCode":"MTR","observedAt":")" + at +
                                                  R"("},"floodLevelStatus":{"type":"Property","value":")" +
                                                  (v > 2.8   ? "danger"
                                                   : v > 2.0 ? "alert"
                                                             : "normal") +
                                                  R"("}})"});
  }
  for (int i = 1; i <= 5; ++i) {
    double n = no2(i, hourOfDay);
    out.push_back({urn("AirQualityObserved", i),
                   R"({"no2":{"type":"Property","value":)" + number(n) + R"(,"unitCode":"GQ","observedAt":")" + at +
                       R"("},"pm10":{"type":"Property","value":)" + number(0.6 * n) +
                       R"(,"unitCode":"GQ","observedAt":")" + at + R"("},"pm25":{"type":"Property","value":)" +
                       number(0.35 * n) + R"(,"unitCode":"GQ","observedAt":")" + at + R"("}})"});
  }
  return out;
}

bool alreadySeeded(store::Store& store) {
  store::TemporalStore* t = store.temporal();
  if (!t) return true;  // nothing to seed into
  store::InstanceQuery q;
  q.limit = 2;
  auto h = t->history("", urn("FloodMonitoring", 1), q);
  if (!h) return false;
  for (const auto& a : h->attrs) {
    if (a.instances.size() > 1) return true;
  }
  return false;
}

}  // namespace

Status seedDemoHistory(store::Store& store, const ld::Context& ctx, const Clock& clock, int days) {
  if (alreadySeeded(store)) return Status::ok();
  const Micros now = clock.now();
  const Micros lastHour = now / kHour * kHour;
  const int hours = days * 24;
  for (int h = 0; h < hours; ++h) {
    const Micros at = lastHour - static_cast<Micros>(hours - h) * kHour;
    const int hourOfDay = static_cast<int>((at / kHour) % 24);
    std::vector<JsonDocument> fragments;
    std::vector<store::WriteOp> ops;
    auto updates = updatesAt(h, hourOfDay, formatDateTime(at));
    fragments.reserve(updates.size());
    for (const auto& u : updates) {
      JsonDocument body;
      ALLMENDE_RETURN_IF_ERROR(parseJson(u.fragment, body));
      auto f = model::expandFragment(body, ctx, u.id);
      if (!f) return f.status();
      fragments.push_back(std::move(f).value());
    }
    // Recorded a few seconds after the observation, as a sensor's message would be.
    const Micros recorded = std::min(now, at + 5'000'000);
    for (size_t k = 0; k < updates.size(); ++k) {
      const Json* fragment = &fragments[k];
      ops.push_back({updates[k].id, [fragment, recorded](const Json* cur) -> Result<store::WriteEffect> {
                       auto next = model::updateAttributes(cur, *fragment, recorded, nullptr);
                       if (!next) return next.status();
                       store::WriteEffect eff;
                       eff.kind = store::WriteEffect::Kind::kUpsert;
                       eff.entity = std::move(next).value();
                       return eff;
                     }});
    }
    for (const auto& st : store.write("", std::move(ops))) ALLMENDE_RETURN_IF_ERROR(st);
  }
  return Status::ok();
}

}  // namespace allmende::app
