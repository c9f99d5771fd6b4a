// The temporal store on PostgreSQL (store/temporal.h): the history written with every entity
// change (storeHistory, inside the write's transaction), reads per series, aggregation per
// period in one SQL statement, and the writes of the temporal API.
#include <algorithm>
#include <ctime>

#include "store/calendar.h"
#include "store/postgres/pg_store_impl.h"

namespace allmende::store::postgres {

namespace {

// The SQL expression of a time property over attr_instances.
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

// NGSI-LD 4.11: before = earlier than timeAt, after = later than timeAt, between = from timeAt
// (inclusive) to endTimeAt (exclusive). With observedAt, instances without it never match.
std::string timeCondition(const TimeFilter& f, Params& p) {
  std::string e = timeExpr(f.property);
  std::string c =
      f.property == TimeFilter::Property::kObservedAt && f.rel != TimeFilter::Rel::kNone ? " AND rec IS NOT NULL" : "";
  switch (f.rel) {
    case TimeFilter::Rel::kBefore:
      return c + " AND " + e + " < " + p.add(static_cast<int64_t>(f.timeAt));
    case TimeFilter::Rel::kAfter:
      return c + " AND " + e + " > " + p.add(static_cast<int64_t>(f.timeAt));
    case TimeFilter::Rel::kBetween:
      return c + " AND " + e + " >= " + p.add(static_cast<int64_t>(f.timeAt)) + " AND " + e + " < " +
             p.add(static_cast<int64_t>(f.endTimeAt));
    case TimeFilter::Rel::kNone:
      break;
  }
  return c;
}

// The history of one entity: its history id and its series (attribute, dataset).
struct Scope {
  int64_t hid = 0;
  std::string types;
  std::vector<std::pair<std::string, std::string>> series;  // by attribute, then datasetId
};

Result<Scope> historyScope(Connection& c, const TenantId& tenant, const std::string& id,
                           const std::vector<std::string>& attrs, const std::optional<std::string>& datasetId) {
  Params p;
  p.add(tenant);
  p.add(id);
  auto h = c.run("SELECT hid, types FROM temporal_entities WHERE tenant = $1 AND id = $2", p);
  if (!h) return h.status();
  if (h->rows() == 0) return notFound("no temporal representation of entity " + id);
  Scope s;
  s.hid = h->int64(0, 0);
  s.types = h->text(0, 1);
  // The distinct (attr, ds) keys by skipping from one to the next in the primary key: a few
  // index probes, however many instances lie between.
  Params sp;
  sp.add(s.hid);
  auto series = c.run(
      "WITH RECURSIVE k(attr, ds) AS ("
      " (SELECT attr, ds FROM attr_instances WHERE hid = $1 ORDER BY attr, ds LIMIT 1)"
      " UNION ALL SELECT n.attr, n.ds FROM k, LATERAL (SELECT attr, ds FROM attr_instances"
      "  WHERE hid = $1 AND (attr, ds) > (k.attr, k.ds) ORDER BY attr, ds LIMIT 1) n)"
      " SELECT attr, ds FROM k",
      sp);
  if (!series) return series.status();
  for (int i = 0; i < series->rows(); ++i) {
    std::string attr(series->text(i, 0)), ds(series->text(i, 1));
    if (!attrs.empty() && std::find(attrs.begin(), attrs.end(), attr) == attrs.end()) continue;
    if (datasetId && *datasetId != ds) continue;
    s.series.emplace_back(std::move(attr), std::move(ds));
  }
  return s;
}

StoredInstance instanceOfRow(const PgResult& r, int i, const std::string& attr, const std::string& ds) {
  StoredInstance s;
  const Micros t = r.int64(i, 0);
  s.instanceId = r.int64(i, 1);
  s.h.attr = attr;
  s.h.datasetId = ds;
  if (!r.isNull(i, 2)) s.h.observedAt = t;
  s.h.recordedAt = t + (r.isNull(i, 2) ? 0 : r.int64(i, 2));
  if (!r.isNull(i, 3)) s.h.number = r.dbl(i, 3);
  if (!r.isNull(i, 4)) s.h.doc = std::string(r.text(i, 4));
  s.modifiedAt = r.isNull(i, 5) ? s.h.recordedAt : r.int64(i, 5);
  s.h.deleted = !r.isNull(i, 6) && r.text(i, 6) == "t";
  return s;
}

}  // namespace

void historyParts(const TenantId& tenant, const model::HistoryChange& change, Params& p,
                  std::vector<std::string>& parts) {
  if (change.entityId.empty()) return;
  // Nothing changed that the history keeps (e.g. only the scope).
  if (change.instances.empty() && change.types.empty() && !change.entityDeleted) return;
  std::optional<Micros> deletedAt;
  if (change.entityDeleted) {
    deletedAt = change.instances.empty() ? systemClock().now() : change.instances.front().recordedAt;
  }
  std::vector<std::string> attrs, dss;
  std::vector<int64_t> ts;
  std::vector<std::optional<double>> recs, nums;
  std::vector<std::optional<std::string>> docs, dels;
  for (const auto& h : change.instances) {
    const Micros t = h.observedAt.value_or(h.recordedAt);
    attrs.push_back(h.attr);
    dss.push_back(h.datasetId);
    ts.push_back(t);
    recs.push_back(h.observedAt ? std::optional<double>(static_cast<double>(h.recordedAt - t)) : std::nullopt);
    nums.push_back(h.number);
    docs.push_back(h.doc.empty() ? std::nullopt : std::optional<std::string>(h.doc));
    dels.push_back(h.deleted ? std::optional<std::string>("true") : std::nullopt);
  }
  const std::string t = p.add(tenant), id = p.add(change.entityId), types = p.add(change.types);
  const std::string deleted = (deletedAt ? p.add(static_cast<int64_t>(*deletedAt)) : p.addNull()) + "::bigint";
  // The history row (created, or its types and deletion updated), then its instances in order.
  // `deleted` is set by a deletion and cleared by a re-creation.
  parts.push_back("h AS (INSERT INTO temporal_entities (tenant, id, types, deleted) VALUES (" + t + ", " + id +
                  ", CASE WHEN " + types + " = '' THEN '[]' ELSE " + types + " END, " + deleted +
                  ") ON CONFLICT (tenant, id) DO UPDATE SET types = CASE WHEN " + types +
                  " = '' THEN temporal_entities.types ELSE " + types + " END, deleted = " + deleted +
                  " RETURNING hid)");
  if (change.instances.empty()) return;
  parts.push_back(
      "hi AS (INSERT INTO attr_instances (hid, attr, ds, t, iid, rec, num, doc, del) "
      "SELECT h.hid, x.a, x.ds, x.t, nextval('instance_seq'), x.rec::bigint, x.num, x.doc, x.del FROM h, "
      "unnest(" +
      p.addArray(attrs) + "::text[], " + p.addArray(dss) + "::text[], " + p.addArray(ts) + "::bigint[], " +
      p.addArray(recs) + "::float8[], " + p.addArray(nums) + "::float8[], " + p.addArray(docs) + "::text[], " +
      p.addArray(dels) + "::bool[]) WITH ORDINALITY AS x(a, ds, t, rec, num, doc, del, o) ORDER BY x.o)");
}

Status runParts(Connection& c, const std::vector<std::string>& parts, const Params& p) {
  if (parts.empty()) return Status::ok();
  std::string sql = "WITH ";
  for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ", " : "") + parts[i];
  auto r = c.run(sql + " SELECT 1", p);
  return r ? Status::ok() : r.status();
}

Status PgStore::storeHistory(Connection& c, const TenantId& tenant, const model::HistoryChange& change) {
  Params p;
  std::vector<std::string> parts;
  historyParts(tenant, change, p, parts);
  return runParts(c, parts, p);
}

Status PgStore::inTransaction(const TenantId& tenant, const std::function<Status(Connection&)>& body) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Connection& c = **lease;
  ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN"));
  Status st = body(c);
  if (st.isOk() && !tenant.empty() && !tenantKnown(tenant)) {
    Params p;
    p.add(tenant);
    auto r = c.run("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING", p);
    if (!r) st = r.status();
  }
  if (st.isOk()) st = c.exec("COMMIT");
  if (!st.isOk()) {
    if (c.healthy() && c.inTransaction()) c.exec("ROLLBACK");
    return st;
  }
  if (!tenant.empty()) noteTenant(tenant);
  return st;
}

Result<TemporalEntity> PgStore::history(const TenantId& tenant, const std::string& id, const InstanceQuery& q) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Connection& c = **lease;
  // One snapshot for every series of the answer.
  ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto read = [&]() -> Result<TemporalEntity> {
    auto scope = historyScope(c, tenant, id, q.attrs, q.datasetId);
    if (!scope) return scope.status();
    TemporalEntity out;
    out.id = id;
    out.types = scope->types;
    const std::string dir = q.fromEnd ? "DESC" : "ASC";
    for (const auto& [attr, ds] : scope->series) {
      Params p;
      p.add(scope->hid);
      p.add(attr);
      p.add(ds);
      std::string sql =
          "SELECT t, iid, rec, num, doc, mod, del FROM attr_instances WHERE hid = $1 AND attr = $2 "
          "AND ds = $3" +
          timeCondition(q.time, p);
      // limit + 1 rows: the extra one only tells that the page is partial.
      sql += " ORDER BY t " + dir + ", iid " + dir + " LIMIT " + p.add(static_cast<int64_t>(q.limit) + 1);
      auto r = c.run(sql, p);
      if (!r) return r.status();
      if (out.attrs.empty() || out.attrs.back().attr != attr) out.attrs.push_back({attr, {}, false});
      AttributeHistory& a = out.attrs.back();
      const size_t first = a.instances.size();
      for (int i = 0; i < r->rows(); ++i) {
        if (a.instances.size() - first == q.limit) {
          a.truncated = true;
          break;
        }
        a.instances.push_back(instanceOfRow(*r, i, attr, ds));
      }
      if (q.fromEnd) std::reverse(a.instances.begin() + static_cast<std::ptrdiff_t>(first), a.instances.end());
    }
    return out;
  };
  auto out = read();
  c.exec("COMMIT");
  return out;
}

Result<AggregatedEntity> PgStore::aggregate(const TenantId& tenant, const std::string& id, const AggregationQuery& q) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Connection& c = **lease;
  bool distinct = false, text = false;
  for (auto m : q.methods) {
    distinct = distinct || m == AggrMethod::kDistinctCount;
    text = text || m == AggrMethod::kMin || m == AggrMethod::kMax;
  }
  ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto read = [&]() -> Result<AggregatedEntity> {
    auto scope = historyScope(c, tenant, id, q.attrs, std::nullopt);
    if (!scope) return scope.status();
    AggregatedEntity out;
    out.id = id;
    out.types = scope->types;
    const bool observed = q.time.property == TimeFilter::Property::kObservedAt;
    const std::string e = timeExpr(q.time.property);
    for (const auto& [attr, ds] : scope->series) {
      // Aggregating along observedAt covers the observed instances (those with observedAt).
      Params p;
      std::string where =
          "hid = " + p.add(scope->hid) + " AND attr = " + p.add(attr) + " AND ds = " + p.add(ds) + " AND del IS NULL" +
          (observed && q.time.rel == TimeFilter::Rel::kNone ? " AND rec IS NOT NULL" : "") + timeCondition(q.time, p);
      auto first = c.run("(SELECT " + e + ", doc FROM attr_instances WHERE " + where + " ORDER BY t ASC LIMIT 1) " +
                             "UNION ALL (SELECT " + e + ", NULL FROM attr_instances WHERE " + where +
                             " ORDER BY t DESC LIMIT 1)",
                         p);
      if (!first) return first.status();
      if (first->rows() == 0) continue;
      AttributeAggregate a;
      a.attr = attr;
      a.datasetId = ds;
      a.kind = "Property";
      if (!first->isNull(0, 1)) {
        JsonDocument d;
        parseJsonText(first->cstr(0, 1), d);
        if (d.IsObject() && d.HasMember("type") && d["type"].IsString()) a.kind = d["type"].GetString();
      }
      Micros lo = first->int64(0, 0);
      Micros hi = first->rows() > 1 ? first->int64(1, 0) + 1 : lo + 1;
      // NGSI-LD 4.5.19: periods start at timeAt when the query gives a start.
      if (q.time.rel == TimeFilter::Rel::kAfter || q.time.rel == TimeFilter::Rel::kBetween) lo = q.time.timeAt;
      if (q.time.rel == TimeFilter::Rel::kBefore) hi = q.time.timeAt;
      if (q.time.rel == TimeFilter::Rel::kBetween) hi = q.time.endTimeAt;
      std::vector<int64_t> starts, ends;
      for (Micros start = lo; start < hi;) {
        if (starts.size() >= q.maxPeriods) {
          return Status(ErrorType::kTooManyResults, "the aggregation has more than " + std::to_string(q.maxPeriods) +
                                                        " periods; use a longer aggrPeriodDuration or a shorter range");
        }
        Micros end = q.period.zero() ? hi : addMonths(start, q.period.months) + q.period.micros;
        if (end <= start) end = hi;  // a degenerate duration spans the rest
        starts.push_back(start);
        ends.push_back(end);
        start = end;
      }
      // Every period in one statement: the periods as rows, joined to their instances (an
      // index range each along observedAt).
      std::string cols = "count(*), count(num), coalesce(sum(num), 0), coalesce(sum(num * num), 0), min(num), max(num)";
      cols += distinct ? ", count(DISTINCT coalesce(num::text, doc))" : ", 0";
      cols += text ? ", min(CASE WHEN num IS NULL THEN doc::json ->> 'value' END COLLATE \"C\")"
                     ", max(CASE WHEN num IS NULL THEN doc::json ->> 'value' END COLLATE \"C\")"
                   : ", NULL, NULL";
      const std::string sql = "SELECT p.i, " + cols + " FROM unnest(" + p.addArray(starts) + "::bigint[], " +
                              p.addArray(ends) + "::bigint[]) WITH ORDINALITY AS p(s, e, i) JOIN attr_instances ON " +
                              where + " AND " + e + " >= p.s AND " + e + " < p.e GROUP BY p.i ORDER BY p.i";
      auto r = c.run(sql, p);
      if (!r) return r.status();
      for (int i = 0; i < r->rows(); ++i) {
        PeriodAggregate pa;
        const size_t k = static_cast<size_t>(r->int64(i, 0) - 1);
        pa.start = starts[k];
        pa.end = ends[k];
        pa.count = r->int64(i, 1);
        pa.numbers = r->int64(i, 2);
        pa.sum = r->dbl(i, 3);
        pa.sumsq = r->dbl(i, 4);
        if (!r->isNull(i, 5)) pa.min = r->dbl(i, 5);
        if (!r->isNull(i, 6)) pa.max = r->dbl(i, 6);
        pa.distinct = r->isNull(i, 7) ? 0 : r->int64(i, 7);
        if (!r->isNull(i, 8)) pa.minText = std::string(r->text(i, 8));
        if (!r->isNull(i, 9)) pa.maxText = std::string(r->text(i, 9));
        if (pa.count > 0) a.periods.push_back(std::move(pa));
      }
      out.attrs.push_back(std::move(a));
    }
    return out;
  };
  auto out = read();
  c.exec("COMMIT");
  return out;
}

Status PgStore::appendInstances(const TenantId& tenant, const std::string& id, const std::string& types,
                                const std::vector<model::HistoryInstance>& instances) {
  model::HistoryChange change;
  change.entityId = id;
  change.types = types;
  change.instances = instances;
  return inTransaction(tenant, [&](Connection& c) { return storeHistory(c, tenant, change); });
}

Status PgStore::deleteHistory(const TenantId& tenant, const std::string& id, const std::string& attr,
                              std::optional<std::string> datasetId, int64_t instanceId) {
  return inTransaction(tenant, [&](Connection& c) -> Status {
    Params p;
    p.add(tenant);
    p.add(id);
    auto h = c.run("SELECT hid FROM temporal_entities WHERE tenant = $1 AND id = $2 FOR UPDATE", p);
    if (!h) return h.status();
    if (h->rows() == 0) return notFound("no temporal representation of entity " + id);
    Params d;
    d.add(h->int64(0, 0));
    if (attr.empty()) {  // NGSI-LD 5.6.16: the whole temporal representation
      auto r = c.run(
          "WITH i AS (DELETE FROM attr_instances WHERE hid = $1) DELETE FROM temporal_entities WHERE hid = $1", d);
      return r ? Status::ok() : r.status();
    }
    std::string sql = "DELETE FROM attr_instances WHERE hid = $1 AND attr = " + d.add(attr);
    if (instanceId) {
      sql += " AND iid = " + d.add(instanceId) + " AND del IS NULL";
    } else if (datasetId) {
      sql += " AND ds = " + d.add(*datasetId);
    }
    auto r = c.run(sql, d);
    if (!r) return r.status();
    if (r->affected() == 0) {
      return notFound(instanceId ? "no such attribute instance"
                                 : "attribute " + attr + " has no history in entity " + id);
    }
    return Status::ok();
  });
}

Status PgStore::modifyInstance(const TenantId& tenant, const std::string& id, const std::string& attr,
                               int64_t instanceId, const model::HistoryInstance& replacement, Micros now) {
  return inTransaction(tenant, [&](Connection& c) -> Status {
    Params p;
    p.add(tenant);
    p.add(id);
    p.add(attr);
    p.add(instanceId);
    if (replacement.number)
      p.add(*replacement.number);
    else
      p.addNull();
    if (replacement.doc.empty())
      p.addNull();
    else
      p.add(replacement.doc);
    p.add(static_cast<int64_t>(now));
    // The time key and the identity stay; value and members are replaced (NGSI-LD 5.6.15).
    auto r = c.run(
        "UPDATE attr_instances a SET num = $5::float8, doc = $6, mod = $7::bigint FROM temporal_entities h "
        "WHERE h.tenant = $1 AND h.id = $2 AND a.hid = h.hid AND a.attr = $3 AND a.iid = $4::bigint "
        "AND a.del IS NULL",
        p);
    if (!r) return r.status();
    if (r->affected() == 0) {
      Params e;
      e.add(tenant);
      e.add(id);
      auto h = c.run("SELECT 1 FROM temporal_entities WHERE tenant = $1 AND id = $2", e);
      if (h && h->rows() == 0) return notFound("no temporal representation of entity " + id);
      return notFound("no such attribute instance");
    }
    return Status::ok();
  });
}

Result<size_t> PgStore::purgeHistoryBefore(const TenantId& tenant, Micros cutoff) {
  size_t removed = 0;
  Status st = inTransaction(tenant, [&](Connection& c) -> Status {
    Params p;
    p.add(tenant);
    p.add(static_cast<int64_t>(cutoff));
    // Several nodes run the retention job: one purges a tenant at a time, the others skip it.
    Params lock;
    lock.add(tenant);
    auto mine = c.run("SELECT pg_try_advisory_xact_lock(4281454, hashtext($1))", lock);
    if (!mine) return mine.status();
    if (mine->text(0, 0) != "t") return Status::ok();
    auto r = c.run(
        "DELETE FROM attr_instances a USING temporal_entities h WHERE h.tenant = $1 AND a.hid = h.hid AND a.t < $2", p);
    if (!r) return r.status();
    removed = static_cast<size_t>(r->affected());
    return Status::ok();
  });
  if (!st.isOk()) return st;
  return removed;
}

Result<std::vector<TenantId>> PgStore::historyTenants() {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  auto r = (*lease)->run("SELECT DISTINCT tenant FROM temporal_entities ORDER BY tenant");
  if (!r) return r.status();
  std::vector<TenantId> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->text(i, 0));
  return out;
}

Result<std::vector<std::string>> PgStore::historyIds(const TenantId& tenant) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Params p;
  p.add(tenant);
  auto r = (*lease)->run("SELECT id FROM temporal_entities WHERE tenant = $1 ORDER BY hid", p);
  if (!r) return r.status();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->text(i, 0));
  return out;
}

Status PgStore::restoreHistory(const TenantId& tenant, const std::string& id, const std::string& types,
                               const std::vector<StoredInstance>& instances, bool replace) {
  return inTransaction(tenant, [&](Connection& c) -> Status {
    Params p;
    const std::string t = p.add(tenant), i = p.add(id), ty = p.add(types);
    auto h = c.run("INSERT INTO temporal_entities (tenant, id, types) VALUES (" + t + ", " + i + ", CASE WHEN " + ty +
                       " = '' THEN '[]' ELSE " + ty + " END) ON CONFLICT (tenant, id) DO UPDATE SET types = " +
                       "CASE WHEN " + ty + " = '' THEN temporal_entities.types ELSE " + ty + " END RETURNING hid",
                   p);
    if (!h) return h.status();
    const int64_t hid = h->int64(0, 0);
    if (replace) {
      Params d;
      d.add(hid);
      auto r = c.run("DELETE FROM attr_instances WHERE hid = $1", d);
      if (!r) return r.status();
    }
    if (instances.empty()) return Status::ok();
    // The instances as arrays, unnested in one statement; their ids and times are kept.
    std::vector<std::string> attrs, dss;
    std::vector<int64_t> ts, iids;
    std::vector<std::optional<double>> recs, nums, mods;
    std::vector<std::optional<std::string>> docs, dels;
    for (const auto& s : instances) {
      const model::HistoryInstance& x = s.h;
      const Micros tk = x.observedAt.value_or(x.recordedAt);
      attrs.push_back(x.attr);
      dss.push_back(x.datasetId);
      ts.push_back(tk);
      iids.push_back(s.instanceId);
      recs.push_back(x.observedAt ? std::optional<double>(static_cast<double>(x.recordedAt - tk)) : std::nullopt);
      nums.push_back(x.number);
      mods.push_back(s.modifiedAt != x.recordedAt ? std::optional<double>(static_cast<double>(s.modifiedAt))
                                                  : std::nullopt);
      docs.push_back(x.doc.empty() ? std::nullopt : std::optional<std::string>(x.doc));
      dels.push_back(x.deleted ? std::optional<std::string>("true") : std::nullopt);
    }
    Params q;
    const std::string sql =
        "INSERT INTO attr_instances (hid, attr, ds, t, iid, rec, num, doc, mod, del) SELECT " + q.add(hid) +
        // Instance ids are unique in the database: one another tenant holds (a copy of a
        // tenant under another name) is drawn anew.
        ", x.a, x.ds, x.t, CASE WHEN EXISTS (SELECT 1 FROM attr_instances o WHERE o.iid = x.iid) "
        "THEN nextval('instance_seq') ELSE x.iid END, x.rec::bigint, x.num, x.doc, x.mod::bigint, x.del FROM unnest(" +
        q.addArray(attrs) + "::text[], " + q.addArray(dss) + "::text[], " + q.addArray(ts) + "::bigint[], " +
        q.addArray(iids) + "::bigint[], " + q.addArray(recs) + "::float8[], " + q.addArray(nums) + "::float8[], " +
        q.addArray(docs) + "::text[], " + q.addArray(mods) + "::float8[], " + q.addArray(dels) +
        "::bool[]) AS x(a, ds, t, iid, rec, num, doc, mod, del)";
    auto r = c.run(sql, q);
    if (!r) return r.status();
    // Instance ids of later writes come after the restored ones.
    auto s = c.run("SELECT setval('instance_seq', greatest((SELECT last_value FROM instance_seq), " +
                   std::to_string(*std::max_element(iids.begin(), iids.end())) + "))");
    return s ? Status::ok() : s.status();
  });
}

Status PgStore::deleteTenantHistory(const TenantId& tenant) {
  return inTransaction("", [&](Connection& c) -> Status {
    Params p;
    p.add(tenant);
    auto r = c.run(
        "WITH h AS (DELETE FROM temporal_entities WHERE tenant = $1 RETURNING hid) "
        "DELETE FROM attr_instances a USING h WHERE a.hid = h.hid",
        p);
    return r ? Status::ok() : r.status();
  });
}

Result<TenantUsage> PgStore::usage(const TenantId& tenant) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Connection& c = **lease;
  Params p;
  p.add(tenant);
  // One snapshot for both counts; bytes of the JSON text as the SQLite store counts them.
  ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto r = c.run(
      "SELECT (SELECT count(*) FROM entities WHERE tenant = $1), "
      "(SELECT coalesce(sum(octet_length(doc::text)), 0) FROM entities WHERE tenant = $1), "
      "(SELECT count(*) FROM attr_instances a JOIN temporal_entities h ON a.hid = h.hid WHERE h.tenant = $1), "
      "(SELECT coalesce(sum(coalesce(octet_length(a.doc), 8)), 0) FROM attr_instances a "
      "JOIN temporal_entities h ON a.hid = h.hid WHERE h.tenant = $1)",
      p);
  c.exec("COMMIT");
  if (!r) return r.status();
  TenantUsage u;
  u.entities = r->int64(0, 0);
  u.entityBytes = r->int64(0, 1);
  u.historyInstances = r->int64(0, 2);
  u.historyBytes = r->int64(0, 3);
  return u;
}

}  // namespace allmende::store::postgres
