// The read half of the temporal store on SQLite (store/temporal.h): instances by time range and
// aggregates per period, each one walk of the (tenant, hid, attr, ds, t) key range.
#include <ctime>

#include "store/sqlite/temporal_reader.h"

namespace allmende::store::sqlite {

namespace {

// The SQL expression of a time property over attr_instances (history.h).
const char* timeExpr(TimeFilter::Property p) {
  switch (p) {
    case TimeFilter::Property::kCreatedAt: return "(t + coalesce(rec, 0))";
    case TimeFilter::Property::kModifiedAt: return "coalesce(mod, t + coalesce(rec, 0))";
    case TimeFilter::Property::kObservedAt: break;
  }
  return "t";
}

// NGSI-LD 4.11: before = earlier than timeAt, after = later than timeAt, between = from timeAt
// (inclusive) to endTimeAt (exclusive). With observedAt, instances without it never match.
// Binds ?5 (timeAt) and ?6 (endTimeAt).
std::string timeCondition(const TimeFilter& f) {
  std::string e = timeExpr(f.property);
  std::string c = f.property == TimeFilter::Property::kObservedAt && f.rel != TimeFilter::Rel::kNone
                       ? " AND rec IS NOT NULL"
                       : "";
  switch (f.rel) {
    case TimeFilter::Rel::kBefore: return c + " AND " + e + " < ?5";
    case TimeFilter::Rel::kAfter: return c + " AND " + e + " > ?5";
    case TimeFilter::Rel::kBetween: return c + " AND " + e + " >= ?5 AND " + e + " < ?6";
    case TimeFilter::Rel::kNone: break;
  }
  return c;
}

void bindTime(Statement& s, const TimeFilter& f) {
  if (f.rel != TimeFilter::Rel::kNone) s.bind(5, f.timeAt);
  if (f.rel == TimeFilter::Rel::kBetween) s.bind(6, f.endTimeAt);
}

// Adds calendar months to an instant (UTC), keeping the day of the month where it exists.
Micros addMonths(Micros t, int64_t months) {
  if (months == 0) return t;
  const int64_t kDay = 86'400'000'000;
  int64_t days = t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
  Micros inDay = t - days * kDay;
  time_t secs = static_cast<time_t>(days * 86400);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  int64_t m = tm.tm_mon + months;
  tm.tm_year += static_cast<int>(m >= 0 ? m / 12 : (m - 11) / 12);
  tm.tm_mon = static_cast<int>(((m % 12) + 12) % 12);
  static const int kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = tm.tm_year + 1900;
  int len = kLen[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
  if (tm.tm_mday > len) tm.tm_mday = len;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  return static_cast<Micros>(timegm(&tm)) * 1'000'000 + inDay;
}

}  // namespace

// What the readers share: the entity's history id and the attribute / dataset ranges.
struct SqliteStore::HistoryScope {
  int64_t tenant = 0, hid = 0;
  std::string id, types;
  // (attribute IRI, attribute id, dataset ids with their datasetId text)
  struct Series {
    std::string attr, datasetId;
    int64_t attrId = 0, ds = 0;
  };
  std::vector<Series> series;
};

Result<SqliteStore::HistoryScope> SqliteStore::historyScope(Reader& r, const TenantId& tenant, const std::string& id,
                                                            const std::vector<std::string>& attrs,
                                                            const std::optional<std::string>& datasetId) {
  HistoryScope scope;
  auto tid = tenants_.find(tenant);
  if (!tid) return notFound("no temporal representation of entity " + id);
  scope.tenant = *tid;
  scope.id = id;
  auto look = r.statement("SELECT hid, types FROM temporal_entities WHERE tenant=?1 AND id=?2");
  if (!look) return look.status();
  (*look)->bind(1, *tid);
  (*look)->bindStatic(2, id);
  int rc = (*look)->step();
  if (rc == SQLITE_DONE) return notFound("no temporal representation of entity " + id);
  if (rc != SQLITE_ROW) return sqliteError(r.conn.get(), rc, "look up history");
  scope.hid = (*look)->int64(0);
  scope.types = std::string((*look)->text(1));
  (*look)->reset();

  auto keyOf = r.statement("SELECT key FROM terms WHERE id=?1");
  if (!keyOf) return keyOf.status();
  auto nameOf = [&](int64_t termId) {
    Statement& s = **keyOf;
    s.bind(1, termId);
    std::string key = s.step() == SQLITE_ROW ? std::string(s.text(0)) : std::string();
    s.reset();
    return key;
  };
  // The next attribute (dataset) after `after`: one index seek each, however many instances.
  auto nextAttr = r.statement("SELECT attr FROM attr_instances WHERE tenant=?1 AND hid=?2 AND attr>?3 ORDER BY attr LIMIT 1");
  auto nextDs = r.statement(
      "SELECT ds FROM attr_instances WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds>?4 ORDER BY ds LIMIT 1");
  if (!nextAttr) return nextAttr.status();
  if (!nextDs) return nextDs.status();
  std::vector<std::pair<int64_t, std::string>> attrIds;
  if (attrs.empty()) {
    for (int64_t after = -1;;) {
      Statement& s = **nextAttr;
      s.bind(1, scope.tenant);
      s.bind(2, scope.hid);
      s.bind(3, after);
      if (s.step() != SQLITE_ROW) {
        s.reset();
        break;
      }
      after = s.int64(0);
      s.reset();
      attrIds.emplace_back(after, nameOf(after));
    }
  } else {
    for (const auto& a : attrs) {
      if (auto t = terms_.find(a)) attrIds.emplace_back(*t, a);
    }
  }
  std::optional<int64_t> onlyDs;
  if (datasetId) {
    if (datasetId->empty()) {
      onlyDs = 0;
    } else if (auto d = terms_.find(*datasetId)) {
      onlyDs = *d;
    } else {
      return scope;  // no instance has that datasetId
    }
  }
  for (const auto& [attrId, name] : attrIds) {
    for (int64_t after = -1;;) {
      Statement& s = **nextDs;
      s.bind(1, scope.tenant);
      s.bind(2, scope.hid);
      s.bind(3, attrId);
      s.bind(4, after);
      if (s.step() != SQLITE_ROW) {
        s.reset();
        break;
      }
      after = s.int64(0);
      s.reset();
      if (onlyDs && *onlyDs != after) continue;
      scope.series.push_back({name, after ? nameOf(after) : std::string(), attrId, after});
    }
  }
  return scope;
}

Result<TemporalEntity> SqliteStore::history(const TenantId& tenant, const std::string& id, const InstanceQuery& q) {
  TemporalReader lease(this);
  if (!lease.status().isOk()) return lease.status();
  auto scope = historyScope(*lease, tenant, id, q.attrs, q.datasetId);
  if (!scope) return scope.status();
  TemporalEntity out;
  out.id = id;
  out.types = scope->types;
  const std::string sql = "SELECT t, iid, rec, num, doc, mod, del FROM attr_instances "
                          "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4" + timeCondition(q.time) +
                          " ORDER BY t " + (q.fromEnd ? "DESC" : "ASC") + " LIMIT ?7";
  auto st = lease->statement(sql);
  if (!st) return st.status();
  for (const auto& series : scope->series) {
    Statement& s = **st;
    s.bind(1, scope->tenant);
    s.bind(2, scope->hid);
    s.bind(3, series.attrId);
    s.bind(4, series.ds);
    bindTime(s, q.time);
    s.bind(7, static_cast<int64_t>(q.limit) + 1);
    if (out.attrs.empty() || out.attrs.back().attr != series.attr) out.attrs.push_back({series.attr, {}, false});
    AttributeHistory& a = out.attrs.back();
    std::vector<StoredInstance> rows;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      if (rows.size() == q.limit) {
        a.truncated = true;
        break;
      }
      StoredInstance i;
      const Micros t = s.int64(0);
      i.instanceId = s.int64(1);
      i.h.attr = series.attr;
      i.h.datasetId = series.datasetId;
      if (!s.isNull(2)) i.h.observedAt = t;
      i.h.recordedAt = t + (s.isNull(2) ? 0 : s.int64(2));
      if (!s.isNull(3)) i.h.number = sqlite3_column_double(s.get(), 3);
      if (!s.isNull(4)) i.h.doc = std::string(s.text(4));
      i.modifiedAt = s.isNull(5) ? i.h.recordedAt : s.int64(5);
      i.h.deleted = !s.isNull(6);
      rows.push_back(std::move(i));
    }
    s.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqliteError(lease->conn.get(), rc, "read history");
    if (q.fromEnd) std::reverse(rows.begin(), rows.end());
    for (auto& r : rows) a.instances.push_back(std::move(r));
  }
  return out;
}

namespace {

// The aggregate columns a query needs, and reading them into a PeriodAggregate.
struct AggregateSql {
  bool distinct = false, text = false;

  explicit AggregateSql(const std::vector<AggrMethod>& methods) {
    for (auto m : methods) {
      distinct = distinct || m == AggrMethod::kDistinctCount;
      text = text || m == AggrMethod::kMin || m == AggrMethod::kMax;
    }
  }
  std::string columns() const {
    std::string c = "count(*), count(num), total(num), total(num * num), min(num), max(num)";
    c += distinct ? ", count(DISTINCT coalesce(num, doc))" : ", 0";
    if (text) {
      c += ", min(CASE WHEN num IS NULL THEN json_extract(doc, '$.value') END)"
           ", max(CASE WHEN num IS NULL THEN json_extract(doc, '$.value') END)";
    } else {
      c += ", NULL, NULL";
    }
    return c;
  }
  static void read(Statement& s, PeriodAggregate& p) {
    p.count = s.int64(0);
    p.numbers = s.int64(1);
    p.sum = sqlite3_column_double(s.get(), 2);
    p.sumsq = sqlite3_column_double(s.get(), 3);
    if (!s.isNull(4)) p.min = sqlite3_column_double(s.get(), 4);
    if (!s.isNull(5)) p.max = sqlite3_column_double(s.get(), 5);
    p.distinct = s.int64(6);
    if (sqlite3_column_type(s.get(), 7) == SQLITE_TEXT) p.minText = std::string(s.text(7));
    if (sqlite3_column_type(s.get(), 8) == SQLITE_TEXT) p.maxText = std::string(s.text(8));
  }
};

}  // namespace

namespace {

// Adds the aggregates of a piece of a period (rollup hours or raw edges) to the period's.
void combine(PeriodAggregate& into, const PeriodAggregate& piece) {
  into.count += piece.count;
  into.numbers += piece.numbers;
  into.distinct += piece.distinct;
  into.sum += piece.sum;
  into.sumsq += piece.sumsq;
  if (piece.min && (!into.min || *piece.min < *into.min)) into.min = piece.min;
  if (piece.max && (!into.max || *piece.max > *into.max)) into.max = piece.max;
  if (piece.minText && (!into.minText || *piece.minText < *into.minText)) into.minText = piece.minText;
  if (piece.maxText && (!into.maxText || *piece.maxText > *into.maxText)) into.maxText = piece.maxText;
}

int64_t ceilHour(Micros t) { return rollupHour(t - 1) + 1; }

}  // namespace

// Per period [s, e): the whole hours inside it from attr_rollups, the partial hours at its ends
// from attr_instances (history.h). Without rollups (distinctCount, string min/max, a time
// property other than observedAt) the period is one range of attr_instances.
Result<AggregatedEntity> SqliteStore::aggregate(const TenantId& tenant, const std::string& id,
                                                const AggregationQuery& q) {
  TemporalReader lease(this);
  if (!lease.status().isOk()) return lease.status();
  auto scope = historyScope(*lease, tenant, id, q.attrs, std::nullopt);
  if (!scope) return scope.status();
  AggregatedEntity out;
  out.id = id;
  out.types = scope->types;
  const bool observed = q.time.property == TimeFilter::Property::kObservedAt;
  // Aggregating along observedAt covers the observed instances (those with observedAt).
  const std::string where = "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND del IS NULL" +
                            std::string(observed && q.time.rel == TimeFilter::Rel::kNone ? " AND rec IS NOT NULL" : "") +
                            timeCondition(q.time);
  const std::string e = timeExpr(q.time.property);
  auto first = lease->statement("SELECT " + e + ", doc FROM attr_instances " + where + " ORDER BY t ASC LIMIT 1");
  auto last = lease->statement("SELECT " + e + " FROM attr_instances " + where + " ORDER BY t DESC LIMIT 1");
  AggregateSql cols(q.methods);
  auto raw = lease->statement("SELECT " + cols.columns() + " FROM attr_instances " + where + " AND " + e + " >= ?7 AND " +
                              e + " < ?8");
  auto rolled = lease->statement(
      "SELECT sum(n), sum(nn), total(sum), total(sumsq), min(min), max(max), 0, NULL, NULL FROM attr_rollups "
      "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND hour >= ?7 AND hour < ?8");
  auto strings = lease->statement(
      "SELECT 1 FROM attr_rollups WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND n > nn LIMIT 1");
  for (auto* st : {&first, &last, &raw, &rolled, &strings}) {
    if (!*st) return st->status();
  }
  auto bindSeries = [&](Statement& s, const HistoryScope::Series& series, bool time) {
    s.bind(1, scope->tenant);
    s.bind(2, scope->hid);
    s.bind(3, series.attrId);
    s.bind(4, series.ds);
    if (time) bindTime(s, q.time);
  };
  // One piece: rows of `stmt` between ?7 and ?8.
  auto piece = [&](Statement& stmt, const HistoryScope::Series& series, bool time, int64_t from, int64_t to,
                   PeriodAggregate& into) -> Status {
    bindSeries(stmt, series, time);
    stmt.bind(7, from);
    stmt.bind(8, to);
    int rc = stmt.step();
    if (rc != SQLITE_ROW) {
      stmt.reset();
      return sqliteError(lease->conn.get(), rc, "aggregate history");
    }
    PeriodAggregate p;
    if (!stmt.isNull(0)) AggregateSql::read(stmt, p);
    stmt.reset();
    combine(into, p);
    return Status::ok();
  };
  for (const auto& series : scope->series) {
    Statement& f = **first;
    bindSeries(f, series, true);
    if (f.step() != SQLITE_ROW) {
      f.reset();
      continue;
    }
    Micros lo = f.int64(0);
    AttributeAggregate a;
    a.attr = series.attr;
    a.datasetId = series.datasetId;
    a.kind = "Property";
    if (!f.isNull(1)) {
      JsonDocument d;
      d.Parse(std::string(f.text(1)).c_str());
      if (d.IsObject() && d.HasMember("type") && d["type"].IsString()) a.kind = d["type"].GetString();
    }
    f.reset();
    Statement& l = **last;
    bindSeries(l, series, true);
    Micros hi = l.step() == SQLITE_ROW ? l.int64(0) + 1 : lo + 1;
    l.reset();
    // NGSI-LD 4.5.19: periods start at timeAt when the query gives a start.
    if (q.time.rel == TimeFilter::Rel::kAfter || q.time.rel == TimeFilter::Rel::kBetween) lo = q.time.timeAt;
    if (q.time.rel == TimeFilter::Rel::kBefore) hi = q.time.timeAt;
    if (q.time.rel == TimeFilter::Rel::kBetween) hi = q.time.endTimeAt;
    bool useRollups = observed && !cols.distinct;
    if (useRollups && cols.text) {
      Statement& s = **strings;
      bindSeries(s, series, false);
      useRollups = s.step() != SQLITE_ROW;  // string values need their min / max from the rows
      s.reset();
    }
    size_t n = 0;
    for (Micros start = lo; start < hi; ++n) {
      if (n >= q.maxPeriods) {
        return Status(ErrorType::kTooManyResults, "the aggregation has more than " + std::to_string(q.maxPeriods) +
                                                      " periods; use a longer aggrPeriodDuration or a shorter range");
      }
      Micros end = q.period.zero() ? hi : addMonths(start, q.period.months) + q.period.micros;
      if (end <= start) end = hi;  // a degenerate duration spans the rest
      PeriodAggregate p;
      p.start = start;
      p.end = end;
      // The hours wholly inside both the period and the time filter (after excludes timeAt).
      Micros from = q.time.rel == TimeFilter::Rel::kAfter ? std::max(start, q.time.timeAt + 1) : start;
      Micros to = q.time.rel == TimeFilter::Rel::kBefore || q.time.rel == TimeFilter::Rel::kBetween ? std::min(end, hi) : end;
      int64_t hs = ceilHour(from), he = rollupHour(to);
      if (useRollups && hs < he) {
        ALLMENDE_RETURN_IF_ERROR(piece(**rolled, series, false, hs, he, p));
        if (start < hs * kRollupMicros) ALLMENDE_RETURN_IF_ERROR(piece(**raw, series, true, start, hs * kRollupMicros, p));
        if (he * kRollupMicros < end) ALLMENDE_RETURN_IF_ERROR(piece(**raw, series, true, he * kRollupMicros, end, p));
      } else {
        ALLMENDE_RETURN_IF_ERROR(piece(**raw, series, true, start, end, p));
      }
      if (p.count > 0) a.periods.push_back(std::move(p));
      start = end;
    }
    out.attrs.push_back(std::move(a));
  }
  return out;
}

}  // namespace allmende::store::sqlite
