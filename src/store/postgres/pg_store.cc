// The read half of the PostgreSQL store and its start. Writes: pg_writer.cc; history:
// pg_temporal.cc.

#include <algorithm>

#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store_impl.h"

namespace allmende::store {

namespace postgres {

namespace {

bool hasAnyAttribute(const Json& entity, const std::vector<std::string>& attrs) {
  if (attrs.empty()) return true;
  const Json* a = findMember(entity, "attrs");
  if (!a) return false;
  for (const auto& name : attrs) {
    if (findMember(*a, name)) return true;
  }
  return false;
}

// The SQL condition on `entities e` that the filters of an EntityQuery carry: ids, types,
// attribute names, the geoQ box (GiST) and the value hint (attr_values). Each is a necessary
// condition; `exact` tells whether together they are also sufficient (nothing left for C++).
struct Selection {
  Params params;
  std::string where;
  bool exact = false;
};

// The value hint as a condition on `attr_values v`, or "" when its bounds mix numbers and
// strings (q compares values of one data type only, 4.9; such a term matches nothing, and the
// hint is then simply not used).
std::string valueCondition(const ValueHint& h, Params& p) {
  if (!h.anyOf.empty()) {
    std::vector<std::optional<double>> numbers;
    std::vector<std::optional<std::string>> strings;
    for (const auto& v : h.anyOf) {
      if (const double* d = std::get_if<double>(&v))
        numbers.push_back(*d);
      else
        strings.push_back(Params::bytesLiteral(std::get<std::string>(v), kValuePrefix));
    }
    std::string c;
    if (!numbers.empty()) c = "v.n = ANY(" + p.addArray(numbers) + "::float8[])";
    if (!strings.empty()) c += (c.empty() ? "" : " OR ") + ("v.s = ANY(" + p.addArray(strings) + "::bytea[])");
    return "(" + c + ")";
  }
  const bool lowerNumber = h.lower && std::holds_alternative<double>(*h.lower);
  const bool upperNumber = h.upper && std::holds_alternative<double>(*h.upper);
  if (h.lower && h.upper && lowerNumber != upperNumber) return "";
  const bool numeric = h.lower ? lowerNumber : upperNumber;
  const std::string column = numeric ? "v.n" : "v.s";
  auto bound = [&](const IndexValue& v) {
    return numeric ? p.add(std::get<double>(v)) + "::float8"
                   : p.addBytes(std::get<std::string>(v), kValuePrefix) + "::bytea";
  };
  std::string c = column + " IS NOT NULL";
  if (h.lower) c += " AND " + column + " >= " + bound(*h.lower);
  if (h.upper) c += " AND " + column + " <= " + bound(*h.upper);
  return c;
}

Selection select(const TenantId& tenant, const EntityQuery& q) {
  Selection s;
  const std::string t = s.params.add(tenant);
  s.where = "e.tenant = " + t;
  if (!q.ids.empty()) s.where += " AND e.id = ANY(" + s.params.addArray(q.ids) + "::text[])";
  if (!q.typeIris.empty()) {
    s.where += " AND e.seq IN (SELECT y.seq FROM entity_types y WHERE y.tenant = " + t + " AND y.type = ANY(" +
               s.params.addArray(q.typeIris) + "::text[]))";
  }
  if (!q.attrs.empty()) s.where += " AND e.attrs && " + s.params.addArray(q.attrs) + "::text[]";
  if (q.geoBox) {
    const auto& b = *q.geoBox;
    s.where += " AND e.seq IN (SELECT g.seq FROM geo_index g WHERE g.tenant = " + t +
               " AND g.attr = " + s.params.add(b.attr) + " AND g.box && ST_MakeEnvelope(" + s.params.add(b.minX) +
               ", " + s.params.add(b.minY) + ", " + s.params.add(b.maxX) + ", " + s.params.add(b.maxY) + "))";
  }
  if (q.valueHint) {
    std::string c = valueCondition(*q.valueHint, s.params);
    if (!c.empty()) {
      s.where += " AND e.seq IN (SELECT v.seq FROM attr_values v WHERE v.tenant = " + t +
                 " AND v.attr = " + s.params.add(q.valueHint->attr) + " AND " + c + ")";
    }
  }
  s.exact = q.selectionExact && !q.match && !q.geoBox && !q.valueHint;
  return s;
}

}  // namespace

Status parseDoc(const char* text, JsonDocument& doc) {
  doc.Parse(text);
  if (doc.HasParseError()) return internalError("corrupt entity document in store");
  return Status::ok();
}

Status PgStore::init() {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  ALLMENDE_RETURN_IF_ERROR(migrate(**lease, pool_.schema()));
  auto tenants = (*lease)->run("SELECT name FROM tenants");
  if (!tenants) return tenants.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < tenants->rows(); ++i) knownTenants_.emplace(tenants->text(i, 0));
  return Status::ok();
}

bool PgStore::tenantExists(const TenantId& tenant) {
  if (tenant.empty()) return true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (knownTenants_.count(tenant)) return true;
  }
  // Another node may have created it.
  auto lease = pool_.lease();
  if (!lease) return false;
  Params p;
  p.add(tenant);
  auto r = (*lease)->run("SELECT 1 FROM tenants WHERE name = $1", p);
  if (!r || r->rows() == 0) return false;
  noteTenant(tenant);
  return true;
}

bool PgStore::tenantKnown(const TenantId& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  return knownTenants_.count(tenant) > 0;
}

void PgStore::noteTenant(const TenantId& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  knownTenants_.insert(tenant);
}

Result<JsonDocument> PgStore::getEntity(const TenantId& tenant, const std::string& id) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Params p;
  p.add(tenant);
  p.add(id);
  auto r = (*lease)->run("SELECT doc FROM entities WHERE tenant = $1 AND id = $2", p);
  if (!r) return r.status();
  if (r->rows() == 0) return notFound("entity " + id + " not found");
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseDoc(r->cstr(0, 0), doc));
  return doc;
}

Result<QueryResult> PgStore::queryEntities(const TenantId& tenant, const EntityQuery& q) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Connection& c = **lease;
  Selection s = select(tenant, q);
  QueryResult result;
  if (s.exact) {
    // The database selects exactly: it pages and counts.
    if (q.count) {
      auto n = c.run("SELECT count(*) FROM entities e WHERE " + s.where, s.params);
      if (!n) return n.status();
      result.total = static_cast<size_t>(n->int64(0, 0));
    }
    Params p = s.params;
    const std::string sql = "SELECT e.doc FROM entities e WHERE " + s.where + " ORDER BY e.seq LIMIT " +
                            p.add(static_cast<int64_t>(q.limit)) + " OFFSET " + p.add(static_cast<int64_t>(q.offset));
    auto r = c.run(sql, p);
    if (!r) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      result.entities.emplace_back();
      ALLMENDE_RETURN_IF_ERROR(parseDoc(r->cstr(i, 0), result.entities.back()));
    }
    return result;
  }
  // The candidates in seq order, in chunks after the last seq seen (no cursor: `match` may read
  // linked entities on this connection between chunks); match and paging here.
  size_t matched = 0;
  const size_t end = q.offset + q.limit;
  int64_t last = -1;
  int64_t chunk = static_cast<int64_t>(std::clamp<size_t>(end, 16, 256));
  JsonDocument scratch;
  for (;;) {
    Params p = s.params;
    const std::string sql = "SELECT e.seq, e.doc FROM entities e WHERE " + s.where + " AND e.seq > " + p.add(last) +
                            " ORDER BY e.seq LIMIT " + p.add(chunk);
    auto r = c.run(sql, p);
    if (!r) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      last = r->int64(i, 0);
      scratch.SetNull();
      ALLMENDE_RETURN_IF_ERROR(parseDoc(r->cstr(i, 1), scratch));
      if (!hasAnyAttribute(scratch, q.attrs)) continue;
      if (q.match && !q.match(scratch)) continue;
      if (matched >= q.offset && matched < end) {
        result.entities.emplace_back();
        result.entities.back().CopyFrom(scratch, result.entities.back().GetAllocator());
      }
      ++matched;
      if (!q.count && matched >= end) return result;
    }
    if (r->rows() < chunk) break;
    chunk = std::min<int64_t>(chunk * 4, 4096);
  }
  if (q.count) result.total = matched;
  return result;
}

Result<std::vector<AttributeStat>> PgStore::attributeStats(const TenantId& tenant) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Params p;
  p.add(tenant);
  std::vector<AttributeStat> out;
  auto types = (*lease)->run("SELECT type, count(*) FROM entity_types WHERE tenant = $1 GROUP BY type", p);
  if (!types) return types.status();
  for (int i = 0; i < types->rows(); ++i) {
    AttributeStat a;
    a.type = types->text(i, 0);
    a.entities = static_cast<size_t>(types->int64(i, 1));
    out.push_back(std::move(a));
  }
  auto attrs = (*lease)->run(
      "SELECT y.type, j.key, j.value -> 0 ->> 'type', count(*) FROM entity_types y "
      "JOIN entities e ON e.tenant = y.tenant AND e.seq = y.seq, json_each(e.doc -> 'attrs') j "
      "WHERE y.tenant = $1 GROUP BY 1, 2, 3",
      p);
  if (!attrs) return attrs.status();
  for (int i = 0; i < attrs->rows(); ++i) {
    AttributeStat a;
    a.type = attrs->text(i, 0);
    a.attribute = attrs->text(i, 1);
    a.kind = attrs->isNull(i, 2) ? "" : std::string(attrs->text(i, 2));
    a.entities = static_cast<size_t>(attrs->int64(i, 3));
    out.push_back(std::move(a));
  }
  return out;
}

StoreStats PgStore::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace postgres

bool isPostgresStore(const std::string& store) { return postgres::isPostgresUrl(store); }

Result<std::unique_ptr<Store>> openPostgresStore(const PostgresOptions& options) {
  auto target = postgres::parseStoreUrl(options.url);
  if (!target) return target.status();
  auto store = std::make_unique<postgres::PgStore>(options, *target);
  ALLMENDE_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace allmende::store
