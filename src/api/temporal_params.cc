#include "api/temporal_params.h"

#include <cmath>
#include <deque>

#include "api/entity_query.h"

namespace allmende::api {

namespace {

using store::AggrMethod;
using store::TimeFilter;

// Reads the five temporal query members from `get` (a URL parameter or a member of temporalQ).
template <typename Get>
Status readTimeQuery(Get get, TemporalParams& p) {
  const std::string* rel = get("timerel");
  const std::string* at = get("timeAt");
  const std::string* end = get("endTimeAt");
  if (rel) {
    if (*rel == "before")
      p.time.rel = TimeFilter::Rel::kBefore;
    else if (*rel == "after")
      p.time.rel = TimeFilter::Rel::kAfter;
    else if (*rel == "between")
      p.time.rel = TimeFilter::Rel::kBetween;
    else
      return badRequestData("timerel must be before, after or between, not '" + *rel + "'");
    if (!at) return badRequestData("timerel needs timeAt");
    auto t = parseDateTime(*at);
    if (!t) return badRequestData("timeAt '" + *at + "' is not an ISO 8601 date-time");
    p.time.timeAt = *t;
    if (p.time.rel == TimeFilter::Rel::kBetween) {
      if (!end) return badRequestData("timerel=between needs endTimeAt");
      auto e = parseDateTime(*end);
      if (!e) return badRequestData("endTimeAt '" + *end + "' is not an ISO 8601 date-time");
      if (*e <= *t) return badRequestData("endTimeAt must be later than timeAt");
      p.time.endTimeAt = *e;
    } else if (end) {
      return badRequestData("endTimeAt is only allowed with timerel=between");
    }
  } else if (at || end) {
    return badRequestData("timeAt and endTimeAt need timerel");
  }
  if (const std::string* prop = get("timeproperty")) {
    if (*prop == "observedAt")
      p.time.property = TimeFilter::Property::kObservedAt;
    else if (*prop == "createdAt")
      p.time.property = TimeFilter::Property::kCreatedAt;
    else if (*prop == "modifiedAt")
      p.time.property = TimeFilter::Property::kModifiedAt;
    else
      return badRequestData("timeproperty must be observedAt, createdAt or modifiedAt, not '" + *prop + "'");
  }
  if (const std::string* n = get("lastN")) {
    if (n->empty() || n->size() > 9 || n->find_first_not_of("0123456789") != std::string::npos || std::stoul(*n) == 0)
      return badRequestData("lastN must be a positive integer");
    p.lastN = std::stoul(*n);
  }
  return Status::ok();
}

Result<AggrMethod> aggrMethod(const std::string& name) {
  static const std::pair<const char*, AggrMethod> kMethods[] = {{"totalCount", AggrMethod::kTotalCount},
                                                                {"distinctCount", AggrMethod::kDistinctCount},
                                                                {"sum", AggrMethod::kSum},
                                                                {"avg", AggrMethod::kAvg},
                                                                {"min", AggrMethod::kMin},
                                                                {"max", AggrMethod::kMax},
                                                                {"stddev", AggrMethod::kStddev},
                                                                {"sumsq", AggrMethod::kSumsq}};
  for (const auto& [n, m] : kMethods) {
    if (name == n) return m;
  }
  return badRequestData("unknown aggregation method '" + name + "'");
}

// options / format (NGSI-LD 6.3.7: temporalValues, aggregatedValues; sysAttrs) and the
// aggregation parameters.
Status readRepresentation(const Call& call, TemporalParams& p) {
  std::vector<std::string> names;
  if (const std::string* o = call.param("options")) names = splitList(*o);
  if (const std::string* f = call.param("format")) names.push_back(*f);
  bool values = false, aggregated = false;
  for (const auto& n : names) {
    if (n == "temporalValues" || n == "simplified" || n == "keyValues")
      values = true;
    else if (n == "aggregatedValues")
      aggregated = true;
    else if (n == "sysAttrs")
      p.sysAttrs = true;
    else if (n != "normalized")
      return badRequestData("unknown option '" + n + "'");
  }
  if (values && aggregated) return badRequestData("temporalValues and aggregatedValues exclude each other");
  if (values) p.format = TemporalFormat::kTemporalValues;
  const std::string* methods = call.param("aggrMethods");
  const std::string* duration = call.param("aggrPeriodDuration");
  if (!aggregated) {
    if (methods || duration) return badRequestData("aggrMethods and aggrPeriodDuration need aggregatedValues");
    return Status::ok();
  }
  p.format = TemporalFormat::kAggregated;
  if (!methods || splitList(*methods).empty()) return badRequestData("aggregatedValues needs aggrMethods");
  for (const auto& m : splitList(*methods)) {
    auto method = aggrMethod(m);
    if (!method) return method.status();
    p.methods.push_back(*method);
  }
  if (duration) {
    auto d = parseDuration(*duration);
    if (!d) return badRequestData("aggrPeriodDuration '" + *duration + "' is not an ISO 8601 duration");
    p.period = *d;
  }
  return Status::ok();
}

}  // namespace

std::optional<store::Period> parseDuration(std::string_view s) {
  if (s.size() < 3 || s[0] != 'P') return std::nullopt;
  store::Period p;
  bool inTime = false, any = false;
  size_t i = 1;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (inTime) return std::nullopt;
      inTime = true;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == ',')) ++j;
    if (j == i || j >= s.size() || j - i > 12) return std::nullopt;
    std::string number(s.substr(i, j - i));
    for (auto& c : number) c = c == ',' ? '.' : c;
    double n = std::strtod(number.c_str(), nullptr);
    const char unit = s[j];
    const bool fraction = number.find('.') != std::string::npos;
    if (fraction && !(inTime && unit == 'S')) return std::nullopt;
    constexpr double kSecond = 1e6;
    if (!inTime && unit == 'Y')
      p.months += static_cast<int64_t>(n) * 12;
    else if (!inTime && unit == 'M')
      p.months += static_cast<int64_t>(n);
    else if (!inTime && unit == 'W')
      p.micros += static_cast<Micros>(n * 7 * 86400 * kSecond);
    else if (!inTime && unit == 'D')
      p.micros += static_cast<Micros>(n * 86400 * kSecond);
    else if (inTime && unit == 'H')
      p.micros += static_cast<Micros>(n * 3600 * kSecond);
    else if (inTime && unit == 'M')
      p.micros += static_cast<Micros>(n * 60 * kSecond);
    else if (inTime && unit == 'S')
      p.micros += static_cast<Micros>(std::llround(n * kSecond));
    else
      return std::nullopt;
    any = true;
    i = j + 1;
  }
  if (!any || s.back() == 'T') return std::nullopt;
  return p;
}

Result<TemporalParams> temporalParamsFromUrl(const Call& call) {
  TemporalParams p;
  ALLMENDE_RETURN_IF_ERROR(readTimeQuery([&](const char* n) { return call.param(n); }, p));
  ALLMENDE_RETURN_IF_ERROR(readRepresentation(call, p));
  return p;
}

Result<TemporalParams> temporalParamsFromQuery(const Call& call, const Json* temporalQ) {
  TemporalParams p;
  if (temporalQ && !temporalQ->IsObject()) return badRequestData("temporalQ must be an object");
  std::deque<std::string> texts;  // member values as text, kept alive for the getter
  auto get = [&](const char* name) -> const std::string* {
    const Json* v = temporalQ ? findMember(*temporalQ, name) : nullptr;
    if (!v) return nullptr;
    texts.push_back(v->IsString() ? std::string(asView(*v)) : v->IsUint() ? std::to_string(v->GetUint()) : "?");
    return &texts.back();
  };
  ALLMENDE_RETURN_IF_ERROR(readTimeQuery(get, p));
  ALLMENDE_RETURN_IF_ERROR(readRepresentation(call, p));
  return p;
}

Result<store::TemporalStore*> temporalStore(Call& call) {
  store::TemporalStore* t = call.services().store.temporal();
  if (!t) return Status(ErrorType::kOperationNotSupported, "this store keeps no history");
  return t;
}

}  // namespace allmende::api
