#include "api/temporal_page.h"

#include <algorithm>
#include <limits>

#include "api/temporal_render.h"

namespace allmende::api {

namespace {

// The instant where the page ends: forwards the earliest last instance of a truncated attribute,
// backwards (lastN, instances still in time order) the latest first one.
std::optional<Micros> cutInstant(const std::vector<store::TemporalEntity>& entities, const TemporalParams& p) {
  std::optional<Micros> cut;
  const bool backwards = p.lastN.has_value();
  for (const auto& e : entities) {
    for (const auto& a : e.attrs) {
      if (!a.truncated || a.instances.empty()) continue;
      Micros t = instanceTime(backwards ? a.instances.front() : a.instances.back(), p.time.property);
      if (!cut || (backwards ? t > *cut : t < *cut)) cut = t;
    }
  }
  return cut;
}

}  // namespace

TemporalPage cutPage(std::vector<store::TemporalEntity>& entities, const TemporalParams& p) {
  TemporalPage page;
  auto cut = cutInstant(entities, p);
  if (!cut) return page;
  page.partial = true;
  const bool backwards = p.lastN.has_value();
  // Instances at the cut instant itself go to the next page (more may share that instant),
  // unless that would leave the page empty.
  auto beyond = [&](const store::StoredInstance& i) {
    Micros t = instanceTime(i, p.time.property);
    return backwards ? t <= *cut : t >= *cut;
  };
  size_t kept = 0;
  for (const auto& e : entities) {
    for (const auto& a : e.attrs) kept += std::count_if(a.instances.begin(), a.instances.end(), [&](auto& i) { return !beyond(i); });
  }
  Micros first = std::numeric_limits<Micros>::max(), last = std::numeric_limits<Micros>::min();
  for (auto& e : entities) {
    for (auto& a : e.attrs) {
      if (kept > 0) a.instances.erase(std::remove_if(a.instances.begin(), a.instances.end(), beyond), a.instances.end());
      for (const auto& i : a.instances) {
        Micros t = instanceTime(i, p.time.property);
        first = std::min(first, t);
        last = std::max(last, t);
      }
    }
  }
  // In page order: forwards from the earliest, backwards from the latest.
  page.first = backwards ? last : first;
  page.last = backwards ? first : last;
  return page;
}

void addPageHeaders(http::Response& r, const TemporalPage& page, const TemporalParams& p) {
  if (!page.partial) return;
  r.status = 206;
  r.setHeader("Content-Range", "date-time " + formatDateTime(page.first) + "-" + formatDateTime(page.last) + "/" +
                                   (p.lastN ? std::to_string(*p.lastN) : "*"));
}

}  // namespace allmende::api
