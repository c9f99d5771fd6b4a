// The parameters of the temporal API (NGSI-LD 6.18 - 6.24, 4.11, 4.5.19): the temporal query
// (timerel, timeAt, endTimeAt, timeproperty, lastN), the representation (normalized,
// temporalValues, aggregatedValues with aggrMethods and aggrPeriodDuration) and sysAttrs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/call.h"
#include "store/temporal.h"

namespace allmende::api {

enum class TemporalFormat { kNormalized, kTemporalValues, kAggregated };

struct TemporalParams {
  store::TimeFilter time;
  std::optional<size_t> lastN;
  TemporalFormat format = TemporalFormat::kNormalized;
  std::vector<store::AggrMethod> methods;
  store::Period period;
  bool sysAttrs = false;
};

// Reads the temporal query and representation from the URL parameters. BadRequestData on any
// malformed or inconsistent value (timerel without timeAt, between without endTimeAt, ...).
Result<TemporalParams> temporalParamsFromUrl(const Call& call);

// The same from a TemporalQuery object (5.2.21, `temporalQ` of POST /temporal/entityOperations/
// query); the representation still comes from the URL.
Result<TemporalParams> temporalParamsFromQuery(const Call& call, const Json* temporalQ);

// An ISO 8601 duration "P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S" (seconds may have a fraction).
std::optional<store::Period> parseDuration(std::string_view text);

// The store's history, or OperationNotSupported when the store keeps none.
Result<store::TemporalStore*> temporalStore(Call& call);

}  // namespace allmende::api
