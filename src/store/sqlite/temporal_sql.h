// What the temporal reads of the SQLite store share (temporal_store.cc, temporal_aggregate.cc):
// the SQL of the time filter, the series of an entity's history. Private to store/sqlite.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/temporal_reader.h"

namespace allmende::store::sqlite {

// The SQL expression of a time property over attr_instances (history.h).
const char* timeExpr(TimeFilter::Property p);

// NGSI-LD 4.11: before = earlier than timeAt, after = later than timeAt, between = from timeAt
// (inclusive) to endTimeAt (exclusive). With observedAt, instances without it never match.
// The condition (" AND ...", or "") binds ?5 (timeAt) and ?6 (endTimeAt): bindTime().
std::string timeCondition(const TimeFilter& f);
void bindTime(Statement& s, const TimeFilter& f);

// The history of one entity: its history id and the series (attribute, dataset) it has.
struct SqliteStore::HistoryScope {
  int64_t tenant = 0, hid = 0;
  std::string types;
  struct Series {
    std::string attr, datasetId;
    int64_t attrId = 0, ds = 0;
  };
  std::vector<Series> series;  // by attribute id, then dataset id

  // Binds ?1 - ?4 (tenant, hid, attr, ds) of a statement over one series.
  void bind(Statement& s, const Series& series) const {
    s.bind(1, tenant);
    s.bind(2, hid);
    s.bind(3, series.attrId);
    s.bind(4, series.ds);
  }
};

}  // namespace allmende::store::sqlite
