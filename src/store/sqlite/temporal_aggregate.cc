// Aggregation of the temporal store on SQLite (store/temporal.h, AggregationQuery): per period,
// the whole hours inside it from attr_rollups and the partial hours at its ends from
// attr_instances, added up (history.h). Without rollups (distinctCount, string min / max,
// timeproperty createdAt or modifiedAt) a period is one SQL aggregate over its instances.
#include <algorithm>
#include <ctime>

#include "store/calendar.h"
#include "store/sqlite/temporal_sql.h"

namespace allmende::store::sqlite {

namespace {

int64_t ceilHour(Micros t) { return rollupHour(t - 1) + 1; }

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

// One series as the aggregation needs it: its key prefix (?1 - ?4) and names.
struct Series {
  int64_t tenant, hid, attrId, ds;
  std::string attr, datasetId;

  void bind(Statement& s) const {
    s.bind(1, tenant);
    s.bind(2, hid);
    s.bind(3, attrId);
    s.bind(4, ds);
  }
};

// The statements of one aggregation, prepared once for all its series and periods.
struct Aggregation {
  const AggregationQuery& q;
  sqlite3* db;
  AggregateSql cols;
  Statement *first = nullptr, *last = nullptr, *raw = nullptr, *rolled = nullptr, *strings = nullptr;

  Status prepare(SqliteStore::Reader& r) {
    const bool observed = q.time.property == TimeFilter::Property::kObservedAt;
    // Aggregating along observedAt covers the observed instances (those with observedAt).
    const std::string where =
        "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND del IS NULL" +
        std::string(observed && q.time.rel == TimeFilter::Rel::kNone ? " AND rec IS NOT NULL" : "") +
        timeCondition(q.time);
    const std::string e = timeExpr(q.time.property);
    const std::pair<Statement**, std::string> sql[] = {
        {&first, "SELECT " + e + ", doc FROM attr_instances " + where + " ORDER BY t ASC LIMIT 1"},
        {&last, "SELECT " + e + " FROM attr_instances " + where + " ORDER BY t DESC LIMIT 1"},
        {&raw,
         "SELECT " + cols.columns() + " FROM attr_instances " + where + " AND " + e + " >= ?7 AND " + e + " < ?8"},
        {&rolled,
         "SELECT sum(n), sum(nn), total(sum), total(sumsq), min(min), max(max), 0, NULL, NULL FROM attr_rollups "
         "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND hour >= ?7 AND hour < ?8"},
        {&strings, "SELECT 1 FROM attr_rollups WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND n > nn LIMIT 1"},
    };
    for (const auto& [target, text] : sql) {
      auto st = r.statement(text);
      if (!st) return st.status();
      *target = *st;
    }
    return Status::ok();
  }

  // Adds the rows of `stmt` between ?7 and ?8 to `into`.
  Status piece(Statement& stmt, const Series& s, bool timeFilter, int64_t from, int64_t to, PeriodAggregate& into) {
    s.bind(stmt);
    if (timeFilter) bindTime(stmt, q.time);
    stmt.bind(7, from);
    stmt.bind(8, to);
    int rc = stmt.step();
    if (rc != SQLITE_ROW) {
      stmt.reset();
      return sqliteError(db, rc, "aggregate history");
    }
    PeriodAggregate p;
    if (!stmt.isNull(0)) AggregateSql::read(stmt, p);
    stmt.reset();
    combine(into, p);
    return Status::ok();
  }

  // Whether whole hours may come from the rollups.
  bool rollupsServe(const Series& s) {
    if (q.time.property != TimeFilter::Property::kObservedAt || cols.distinct) return false;
    if (!cols.text) return true;
    s.bind(*strings);
    bool hasStrings = strings->step() == SQLITE_ROW;  // their min / max need the rows
    strings->reset();
    return !hasStrings;
  }

  // The range [lo, hi) the periods cover and the attribute's kind; false when nothing matches.
  bool range(const Series& s, Micros& lo, Micros& hi, std::string& kind) {
    s.bind(*first);
    bindTime(*first, q.time);
    if (first->step() != SQLITE_ROW) {
      first->reset();
      return false;
    }
    lo = first->int64(0);
    kind = "Property";
    if (!first->isNull(1)) {
      JsonDocument d;
      parseJsonText(std::string(first->text(1)).c_str(), d);
      if (d.IsObject() && d.HasMember("type") && d["type"].IsString()) kind = d["type"].GetString();
    }
    first->reset();
    s.bind(*last);
    bindTime(*last, q.time);
    hi = last->step() == SQLITE_ROW ? last->int64(0) + 1 : lo + 1;
    last->reset();
    // NGSI-LD 4.5.19: periods start at timeAt when the query gives a start.
    if (q.time.rel == TimeFilter::Rel::kAfter || q.time.rel == TimeFilter::Rel::kBetween) lo = q.time.timeAt;
    if (q.time.rel == TimeFilter::Rel::kBefore) hi = q.time.timeAt;
    if (q.time.rel == TimeFilter::Rel::kBetween) hi = q.time.endTimeAt;
    return true;
  }

  // One period [start, end) of a series whose data ends before `hi`.
  Status period(const Series& s, bool rollups, Micros start, Micros end, Micros hi, PeriodAggregate& p) {
    p.start = start;
    p.end = end;
    // The hours wholly inside both the period and the time filter (after excludes timeAt).
    const auto rel = q.time.rel;
    Micros from = rel == TimeFilter::Rel::kAfter ? std::max(start, q.time.timeAt + 1) : start;
    Micros to = rel == TimeFilter::Rel::kBefore || rel == TimeFilter::Rel::kBetween ? std::min(end, hi) : end;
    int64_t hs = ceilHour(from), he = rollupHour(to);
    if (!rollups || hs >= he) return piece(*raw, s, true, start, end, p);
    ALLMENDE_RETURN_IF_ERROR(piece(*rolled, s, false, hs, he, p));
    if (start < hs * kRollupMicros) ALLMENDE_RETURN_IF_ERROR(piece(*raw, s, true, start, hs * kRollupMicros, p));
    if (he * kRollupMicros < end) ALLMENDE_RETURN_IF_ERROR(piece(*raw, s, true, he * kRollupMicros, end, p));
    return Status::ok();
  }

  // Every period of one series; nullopt when it has no matching instance.
  Result<std::optional<AttributeAggregate>> series(const Series& s) {
    Micros lo = 0, hi = 0;
    AttributeAggregate a;
    if (!range(s, lo, hi, a.kind)) return std::optional<AttributeAggregate>();
    a.attr = s.attr;
    a.datasetId = s.datasetId;
    const bool rollups = rollupsServe(s);
    size_t n = 0;
    for (Micros start = lo; start < hi; ++n) {
      if (n >= q.maxPeriods) {
        return Status(ErrorType::kTooManyResults, "the aggregation has more than " + std::to_string(q.maxPeriods) +
                                                      " periods; use a longer aggrPeriodDuration or a shorter range");
      }
      Micros end = q.period.zero() ? hi : addMonths(start, q.period.months) + q.period.micros;
      if (end <= start) end = hi;  // a degenerate duration spans the rest
      PeriodAggregate p;
      ALLMENDE_RETURN_IF_ERROR(period(s, rollups, start, end, hi, p));
      if (p.count > 0) a.periods.push_back(std::move(p));
      start = end;
    }
    return std::optional<AttributeAggregate>(std::move(a));
  }
};

}  // namespace

Result<AggregatedEntity> SqliteStore::aggregate(const TenantId& tenant, const std::string& id,
                                                const AggregationQuery& q) {
  TemporalReader lease(this);
  if (!lease.status().isOk()) return lease.status();
  auto scope = historyScope(*lease, tenant, id, q.attrs, std::nullopt);
  if (!scope) return scope.status();
  Aggregation run{q, lease->conn.get(), AggregateSql(q.methods)};
  ALLMENDE_RETURN_IF_ERROR(run.prepare(*lease));
  AggregatedEntity out;
  out.id = id;
  out.types = scope->types;
  for (const auto& s : scope->series) {
    auto a = run.series({scope->tenant, scope->hid, s.attrId, s.ds, s.attr, s.datasetId});
    if (!a) return a.status();
    if (*a) out.attrs.push_back(std::move(**a));
  }
  return out;
}

}  // namespace allmende::store::sqlite
