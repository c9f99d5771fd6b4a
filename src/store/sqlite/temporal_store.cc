// The temporal store on SQLite (store/temporal.h), reading instances: the series of an entity,
// and per series one walk of its (tenant, hid, attr, ds, t) key range. Aggregation:
// temporal_aggregate.cc; writes: temporal_writes.cc.
#include <algorithm>

#include "store/sqlite/temporal_sql.h"

namespace allmende::store::sqlite {

const char* timeExpr(TimeFilter::Property p) {
  switch (p) {
    case TimeFilter::Property::kCreatedAt:
      return "(t + coalesce(rec, 0))";
    case TimeFilter::Property::kModifiedAt:
      return "coalesce(mod, t + coalesce(rec, 0))";
    case TimeFilter::Property::kObservedAt:
      break;
  }
  return "t";
}

std::string timeCondition(const TimeFilter& f) {
  std::string e = timeExpr(f.property);
  std::string c =
      f.property == TimeFilter::Property::kObservedAt && f.rel != TimeFilter::Rel::kNone ? " AND rec IS NOT NULL" : "";
  switch (f.rel) {
    case TimeFilter::Rel::kBefore:
      return c + " AND " + e + " < ?5";
    case TimeFilter::Rel::kAfter:
      return c + " AND " + e + " > ?5";
    case TimeFilter::Rel::kBetween:
      return c + " AND " + e + " >= ?5 AND " + e + " < ?6";
    case TimeFilter::Rel::kNone:
      break;
  }
  return c;
}

void bindTime(Statement& s, const TimeFilter& f) {
  if (f.rel != TimeFilter::Rel::kNone) s.bind(5, f.timeAt);
  if (f.rel == TimeFilter::Rel::kBetween) s.bind(6, f.endTimeAt);
}

namespace {

// The next key value after `after` of a statement "... WHERE <prefix ?1..?n> AND key > ?n+1
// ORDER BY key LIMIT 1": one index seek, however many rows lie between.
std::optional<int64_t> nextKey(Statement& s, std::initializer_list<int64_t> prefix, int64_t after) {
  int i = 1;
  for (int64_t v : prefix) s.bind(i++, v);
  s.bind(i, after);
  std::optional<int64_t> out;
  if (s.step() == SQLITE_ROW) out = s.int64(0);
  s.reset();
  return out;
}

// One row of the history statement of history() as a stored instance.
StoredInstance instanceOfRow(Statement& s, const std::string& attr, const std::string& datasetId) {
  StoredInstance i;
  const Micros t = s.int64(0);
  i.instanceId = s.int64(1);
  i.h.attr = attr;
  i.h.datasetId = datasetId;
  if (!s.isNull(2)) i.h.observedAt = t;
  i.h.recordedAt = t + (s.isNull(2) ? 0 : s.int64(2));
  if (!s.isNull(3)) i.h.number = sqlite3_column_double(s.get(), 3);
  if (!s.isNull(4)) i.h.doc = std::string(s.text(4));
  i.modifiedAt = s.isNull(5) ? i.h.recordedAt : s.int64(5);
  i.h.deleted = !s.isNull(6);
  return i;
}

}  // namespace

Result<SqliteStore::HistoryScope> SqliteStore::historyScope(Reader& r, const TenantId& tenant, const std::string& id,
                                                            const std::vector<std::string>& attrs,
                                                            const std::optional<std::string>& datasetId) {
  HistoryScope scope;
  auto tid = tenants_.find(tenant);
  if (!tid) return notFound("no temporal representation of entity " + id);
  scope.tenant = *tid;
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
  ALLMENDE_RETURN_IF_ERROR(findSeries(r, attrs, datasetId, scope));
  return scope;
}

Status SqliteStore::findSeries(Reader& r, const std::vector<std::string>& attrs,
                               const std::optional<std::string>& datasetId, HistoryScope& scope) {
  auto keyOf = r.statement("SELECT key FROM terms WHERE id=?1");
  auto nextAttr =
      r.statement("SELECT attr FROM attr_instances WHERE tenant=?1 AND hid=?2 AND attr>?3 ORDER BY attr LIMIT 1");
  auto nextDs =
      r.statement("SELECT ds FROM attr_instances WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds>?4 ORDER BY ds LIMIT 1");
  for (auto* st : {&keyOf, &nextAttr, &nextDs}) {
    if (!*st) return st->status();
  }
  auto nameOf = [&](int64_t termId) {
    Statement& s = **keyOf;
    s.bind(1, termId);
    std::string key = s.step() == SQLITE_ROW ? std::string(s.text(0)) : std::string();
    s.reset();
    return key;
  };
  std::vector<std::pair<int64_t, std::string>> attrIds;
  if (attrs.empty()) {
    for (auto a = nextKey(**nextAttr, {scope.tenant, scope.hid}, -1); a;
         a = nextKey(**nextAttr, {scope.tenant, scope.hid}, *a)) {
      attrIds.emplace_back(*a, nameOf(*a));
    }
  } else {
    for (const auto& a : attrs) {
      if (auto t = terms_.find(a)) attrIds.emplace_back(*t, a);
    }
  }
  std::optional<int64_t> onlyDs;
  if (datasetId && !datasetId->empty()) {
    onlyDs = terms_.find(*datasetId);
    if (!onlyDs) return Status::ok();  // no instance has that datasetId
  } else if (datasetId) {
    onlyDs = 0;
  }
  for (const auto& [attrId, name] : attrIds) {
    const int64_t id = attrId;
    for (auto d = nextKey(**nextDs, {scope.tenant, scope.hid, id}, -1); d;
         d = nextKey(**nextDs, {scope.tenant, scope.hid, id}, *d)) {
      if (onlyDs && *onlyDs != *d) continue;
      scope.series.push_back({name, *d ? nameOf(*d) : std::string(), attrId, *d});
    }
  }
  return Status::ok();
}

Result<TemporalEntity> SqliteStore::history(const TenantId& tenant, const std::string& id, const InstanceQuery& q) {
  TemporalReader lease(this);
  if (!lease.status().isOk()) return lease.status();
  auto scope = historyScope(*lease, tenant, id, q.attrs, q.datasetId);
  if (!scope) return scope.status();
  TemporalEntity out;
  out.id = id;
  out.types = scope->types;
  // limit + 1 rows: the extra one only tells that the page is partial.
  auto st = lease->statement(
      "SELECT t, iid, rec, num, doc, mod, del FROM attr_instances "
      "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4" +
      timeCondition(q.time) + " ORDER BY t " + (q.fromEnd ? "DESC" : "ASC") + " LIMIT ?7");
  if (!st) return st.status();
  Statement& s = **st;
  for (const auto& series : scope->series) {
    scope->bind(s, series);
    bindTime(s, q.time);
    s.bind(7, static_cast<int64_t>(q.limit) + 1);
    if (out.attrs.empty() || out.attrs.back().attr != series.attr) out.attrs.push_back({series.attr, {}, false});
    AttributeHistory& a = out.attrs.back();
    const size_t first = a.instances.size();
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      if (a.instances.size() - first == q.limit) {
        a.truncated = true;
        break;
      }
      a.instances.push_back(instanceOfRow(s, series.attr, series.datasetId));
    }
    s.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqliteError(lease->conn.get(), rc, "read history");
    if (q.fromEnd) std::reverse(a.instances.begin() + static_cast<std::ptrdiff_t>(first), a.instances.end());
  }
  return out;
}

Result<TenantUsage> SqliteStore::usage(const TenantId& tenant) {
  TenantUsage u;
  auto tid = tenants_.find(tenant);
  if (!tid) return u;
  TemporalReader lease(this);  // one snapshot for both counts
  if (!lease.status().isOk()) return lease.status();
  // length() of TEXT counts characters: the bytes of the (mostly ASCII) JSON text.
  const char* sqls[] = {"SELECT count(*), total(length(doc)) FROM entities WHERE tenant=?1",
                        "SELECT count(*), total(coalesce(length(doc), 8)) FROM attr_instances WHERE tenant=?1"};
  int64_t* counts[] = {&u.entities, &u.historyInstances};
  int64_t* bytes[] = {&u.entityBytes, &u.historyBytes};
  for (int i = 0; i < 2; ++i) {
    auto s = lease->statement(sqls[i]);
    if (!s) return s.status();
    (*s)->bind(1, *tid);
    int rc = (*s)->step();
    if (rc != SQLITE_ROW) {
      (*s)->reset();
      return sqliteError(lease->conn.get(), rc, "count usage");
    }
    *counts[i] = (*s)->int64(0);
    *bytes[i] = static_cast<int64_t>(sqlite3_column_double((*s)->get(), 1));
    (*s)->reset();
  }
  return u;
}

}  // namespace allmende::store::sqlite
