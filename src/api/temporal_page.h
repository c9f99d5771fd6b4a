// Temporal pagination (NGSI-LD 6.3.10): an answer holds at most ApiOptions::maxTemporalInstances
// (--max-temporal-instances) instances per attribute; when some attribute had more, every
// attribute of every entity in the answer is cut at the same instant, so the answer is complete up to it, and it is
// sent as 206 Partial Content with "Content-Range: date-time <first>-<last>/<size>".
#pragma once

#include <vector>

#include "api/temporal_params.h"
#include "http/message.h"
#include "store/temporal.h"

namespace allmende::api {

struct TemporalPage {
  bool partial = false;
  Micros first = 0, last = 0;  // the instants of the first and last instance kept (in page order)
};

// Cuts `entities` (forwards, or backwards with lastN) where the earliest-ending truncated
// attribute ends: instances beyond that instant are dropped from every attribute, so the next
// page (timerel=after&timeAt=<last>, or before with lastN) continues without gaps or repeats.
TemporalPage cutPage(std::vector<store::TemporalEntity>& entities, const TemporalParams& p);

// 206 and Content-Range when the page is partial.
void addPageHeaders(http::Response& r, const TemporalPage& page, const TemporalParams& p);

}  // namespace allmende::api
