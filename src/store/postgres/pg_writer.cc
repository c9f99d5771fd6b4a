// The write half of the PostgreSQL store: one transaction per Store::write, read-modify-write
// under row locks, and the maintenance of the index tables.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <unordered_map>

#include "store/postgres/pg_store_impl.h"

namespace allmende::store::postgres {

namespace {

Micros wallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename T>
std::vector<T> minus(const std::vector<T>& a, const std::vector<T>& b) {  // both sorted
  std::vector<T> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// The three parallel arrays of (attribute, number, string) value rows, for unnest; strings as
// bytea cut after kValuePrefix bytes.
void addValues(const std::vector<std::pair<std::string, IndexValue>>& values, Params& p, std::string& attrs,
               std::string& numbers, std::string& strings) {
  std::vector<std::string> a;
  std::vector<std::optional<double>> n;
  std::vector<std::optional<std::string>> s;
  for (const auto& [attr, v] : values) {
    a.push_back(attr);
    if (const double* d = std::get_if<double>(&v)) {
      n.push_back(*d);
      s.push_back(std::nullopt);
    } else {
      n.push_back(std::nullopt);
      s.push_back(Params::bytesLiteral(std::get<std::string>(v), kValuePrefix));
    }
  }
  attrs = p.addArray(a);
  numbers = p.addArray(n);
  strings = p.addArray(s);
}

// Cuts the strings of the value entries to what the index holds (kValuePrefix bytes), so that
// the difference of two states is taken on what is stored.
void cutValues(IndexEntries& e) {
  bool cut = false;
  for (auto& [attr, v] : e.values) {
    if (auto* s = std::get_if<std::string>(&v); s && s->size() > kValuePrefix) {
      s->resize(kValuePrefix);
      cut = true;
    }
  }
  if (!cut) return;
  std::sort(e.values.begin(), e.values.end());
  e.values.erase(std::unique(e.values.begin(), e.values.end()), e.values.end());
}

}  // namespace

Status PgStore::work(const TenantId& tenant, WriteOp& op, const Json* current, OpOutcome& out,
                     JsonDocument& next) const {
  Result<WriteEffect> effect = op.apply(current);
  if (!effect) return effect.status();
  out.kind = effect->kind;
  if (out.kind == WriteEffect::Kind::kNone || (out.kind == WriteEffect::Kind::kDelete && !current)) {
    out.kind = WriteEffect::Kind::kNone;
    return Status::ok();
  }
  out.before = current ? sqlite::indexEntriesOf(*current) : IndexEntries{};
  cutValues(out.before);
  const Json* after = nullptr;
  if (out.kind == WriteEffect::Kind::kUpsert) {
    next = std::move(effect->entity);
    after = &next;
    out.after = sqlite::indexEntriesOf(next);
    cutValues(out.after);
    if (const Json* a = findMember(next, "attrs"); a && a->IsObject()) {
      for (const auto& m : a->GetObject()) out.attrNames.emplace_back(asView(m.name));
    }
    out.text = toJsonString(next);
  }
  // An entity deletion has no modifiedAt to take the deletion time from: the wall clock's.
  model::diffHistory(current, after, after ? 0 : wallMicros(), out.history);
  if (matcher_) matcher_->match(tenant, current, after, systemClock().now(), out.notifications);
  return Status::ok();
}

namespace {

// The index rows of entity `seq` (a SQL expression) going from `before` to `after`, as CTEs.
void indexParts(const std::string& t, const std::string& s, const IndexEntries& before, const IndexEntries& after,
                Params& p, std::vector<std::string>& parts) {
  auto name = [&parts] { return "x" + std::to_string(parts.size()) + " AS ("; };
  auto typesGone = minus(before.types, after.types), typesNew = minus(after.types, before.types);
  if (!typesGone.empty()) {
    parts.push_back(name() + "DELETE FROM entity_types WHERE tenant = " + t + " AND seq = " + s + " AND type = ANY(" +
                    p.addArray(typesGone) + "::text[]))");
  }
  if (!typesNew.empty()) {
    parts.push_back(name() + "INSERT INTO entity_types (tenant, type, seq) SELECT " + t + ", x, " + s +
                    " FROM unnest(" + p.addArray(typesNew) + "::text[]) x ON CONFLICT DO NOTHING)");
  }
  auto valuesGone = minus(before.values, after.values), valuesNew = minus(after.values, before.values);
  if (!valuesGone.empty()) {
    std::string a, n, str;
    addValues(valuesGone, p, a, n, str);
    parts.push_back(name() + "DELETE FROM attr_values v USING unnest(" + a + "::text[], " + n + "::float8[], " + str +
                    "::bytea[]) AS x(a, n, s) WHERE v.seq = " + s + " AND v.attr = x.a AND (v.n = x.n OR v.s = x.s))");
  }
  if (!valuesNew.empty()) {
    std::string a, n, str;
    addValues(valuesNew, p, a, n, str);
    parts.push_back(name() + "INSERT INTO attr_values (tenant, attr, seq, n, s) SELECT " + t + ", x.a, " + s +
                    ", x.n, x.s FROM unnest(" + a + "::text[], " + n + "::float8[], " + str +
                    "::bytea[]) AS x(a, n, s) ON CONFLICT DO NOTHING)");
  }
  if (before.geo != after.geo) {
    // Rows of one entity are replaced together (the sibling statements see the old rows only).
    if (!before.geo.empty()) parts.push_back(name() + "DELETE FROM geo_index WHERE seq = " + s + ")");
    if (!after.geo.empty()) {
      std::vector<std::string> attrs;
      std::vector<std::optional<double>> x1, y1, x2, y2;
      for (const auto& g : after.geo) {
        attrs.push_back(g.attr);
        x1.push_back(g.box.minX);
        y1.push_back(g.box.minY);
        x2.push_back(g.box.maxX);
        y2.push_back(g.box.maxY);
      }
      parts.push_back(name() + "INSERT INTO geo_index (tenant, attr, seq, box) SELECT " + t + ", g.a, " + s +
                      ", CASE WHEN g.x1 = g.x2 AND g.y1 = g.y2 THEN ST_MakePoint(g.x1, g.y1) "
                      "ELSE ST_MakeEnvelope(g.x1, g.y1, g.x2, g.y2) END FROM unnest(" +
                      p.addArray(attrs) + "::text[], " + p.addArray(x1) + "::float8[], " + p.addArray(y1) +
                      "::float8[], " + p.addArray(x2) + "::float8[], " + p.addArray(y2) +
                      "::float8[]) AS g(a, x1, y1, x2, y2))");
    }
  }
}

// The outbox rows of a change, in the entries' order (outbox seq is the order of delivery).
void outboxPart(const std::string& t, const std::vector<OutboxEntry>& entries, Params& p,
                std::vector<std::string>& parts) {
  if (entries.empty()) return;
  std::vector<std::string> subs, ids, payloads;
  for (const auto& e : entries) {
    subs.push_back(e.subscriptionId);
    ids.push_back(e.entityId);
    payloads.push_back(e.payload);
  }
  parts.push_back("ob AS (INSERT INTO outbox (tenant, subscription, entity, payload, created) SELECT " + t +
                  ", x.s, x.e, x.p, " + p.add(static_cast<int64_t>(systemClock().now())) + "::bigint FROM unnest(" +
                  p.addArray(subs) + "::text[], " + p.addArray(ids) + "::text[], " + p.addArray(payloads) +
                  "::text[]) WITH ORDINALITY AS x(s, e, p, o) ORDER BY x.o)");
}

}  // namespace

Status PgStore::storeOp(Connection& c, const TenantId& tenant, const std::string& id, int64_t& seq, const OpOutcome& o,
                        std::vector<int64_t>& fresh) {
  if (seq == 0) {
    if (fresh.empty()) return internalError("no entity number left for this write");
    seq = fresh.back();
    fresh.pop_back();
  }
  Params p;
  std::vector<std::string> parts;
  const std::string t = p.add(tenant), s = p.add(seq) + "::bigint";
  if (o.kind == WriteEffect::Kind::kDelete) {
    parts.push_back("e AS (DELETE FROM entities WHERE tenant = " + t + " AND seq = " + s + ")");
    indexParts(t, s, o.before, IndexEntries{}, p, parts);
  } else {
    const std::string attrs = p.addArray(o.attrNames) + "::text[]", doc = p.add(o.text) + "::json";
    parts.push_back(o.isNew ? "e AS (INSERT INTO entities (tenant, id, seq, attrs, doc) VALUES (" + t + ", " +
                                  p.add(id) + ", " + s + ", " + attrs + ", " + doc + "))"
                            : "e AS (UPDATE entities SET attrs = " + attrs + ", doc = " + doc + " WHERE tenant = " + t +
                                  " AND seq = " + s + ")");
    indexParts(t, s, o.before, o.after, p, parts);
  }
  historyParts(tenant, o.history, p, parts);
  outboxPart(t, o.notifications, p, parts);
  return runParts(c, parts, p);
}

Status PgStore::runWrite(Connection& c, const TenantId& tenant, std::vector<WriteOp>& ops, bool savepoints,
                         std::vector<Status>& results, bool& outboxWritten, bool& opFailedInSql) {
  results.clear();
  outboxWritten = false;
  opFailedInSql = false;
  ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN"));
  std::vector<std::string> ids;
  for (const auto& op : ops) ids.push_back(op.entityId);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  Params lp;
  lp.add(tenant);
  lp.addArray(ids);
  // A lock per entity id, taken in one order by every writer (no deadlocks), also for ids that
  // do not exist yet (two creations of one id wait for each other instead of one failing on the
  // key); then the rows themselves FOR UPDATE.
  auto locked = c.run(
      "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended($1 || ' ' || i, 0) AS h "
      "FROM unnest($2::text[]) i ORDER BY h) x",
      lp);
  if (!locked) return locked.status();
  auto rows = c.run("SELECT id, seq, doc FROM entities WHERE tenant = $1 AND id = ANY($2::text[]) FOR UPDATE", lp);
  if (!rows) return rows.status();
  struct Current {
    bool exists = false;
    int64_t seq = 0;
    JsonDocument doc;
  };
  std::unordered_map<std::string, Current> state;
  for (int i = 0; i < rows->rows(); ++i) {
    Current& cur = state[std::string(rows->text(i, 0))];
    cur.exists = true;
    cur.seq = rows->int64(i, 1);
    ALLMENDE_RETURN_IF_ERROR(parseDoc(rows->cstr(i, 2), cur.doc));
  }
  // Numbers for the entities this write may create, in one round trip (unused ones are gaps).
  std::vector<int64_t> fresh;
  {
    Params np;
    np.add(static_cast<int64_t>(ops.size()));
    auto r = c.run("SELECT nextval('entity_seq') FROM generate_series(1, $1::int) ORDER BY 1 DESC", np);
    if (!r) return r.status();
    for (int i = 0; i < r->rows(); ++i) fresh.push_back(r->int64(i, 0));
  }
  bool anyOk = false;
  for (auto& op : ops) {
    Current& cur = state[op.entityId];
    OpOutcome o;
    JsonDocument next;
    Status st = work(tenant, op, cur.exists ? &cur.doc : nullptr, o, next);
    if (st.isOk() && o.kind != WriteEffect::Kind::kNone) {
      if (savepoints) ALLMENDE_RETURN_IF_ERROR(c.exec("SAVEPOINT op"));
      int64_t seq = cur.exists ? cur.seq : 0;
      o.isNew = !cur.exists;
      st = storeOp(c, tenant, op.entityId, seq, o, fresh);
      if (!st.isOk()) {
        if (!c.healthy()) return st;
        if (!savepoints) {
          opFailedInSql = true;
          c.exec("ROLLBACK");
          return Status::ok();
        }
        ALLMENDE_RETURN_IF_ERROR(c.exec("ROLLBACK TO SAVEPOINT op"));
      } else {
        if (savepoints) ALLMENDE_RETURN_IF_ERROR(c.exec("RELEASE SAVEPOINT op"));
        outboxWritten = outboxWritten || !o.notifications.empty();
        cur.exists = o.kind == WriteEffect::Kind::kUpsert;
        cur.seq = cur.exists ? seq : 0;
        cur.doc = std::move(next);
      }
    }
    anyOk = anyOk || st.isOk();
    results.push_back(std::move(st));
  }
  // NGSI-LD 4.14: a tenant comes into being with its first successful write.
  if (anyOk && !tenant.empty() && !tenantKnown(tenant)) {
    Params tp;
    tp.add(tenant);
    auto r = c.run("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING", tp);
    if (!r) return r.status();
  }
  return c.exec("COMMIT");
}

std::vector<Status> PgStore::write(const TenantId& tenant, std::vector<WriteOp> ops) {
  if (ops.empty()) return {};
  auto lease = pool_.lease();
  if (!lease) return std::vector<Status>(ops.size(), Status(ErrorType::kServiceUnavailable, lease.status().detail()));
  Connection& c = **lease;
  std::vector<Status> results;
  bool outboxWritten = false, opFailedInSql = false;
  // An op whose SQL fails (in practice never specific to one op) sends the write round again
  // with a savepoint per op, so that it fails alone; savepoints cost, so only then.
  Status st = runWrite(c, tenant, ops, false, results, outboxWritten, opFailedInSql);
  if (st.isOk() && opFailedInSql) st = runWrite(c, tenant, ops, true, results, outboxWritten, opFailedInSql);
  if (!st.isOk()) {
    if (c.healthy() && c.inTransaction()) c.exec("ROLLBACK");
    Status failed(ErrorType::kServiceUnavailable, "store: " + st.detail());
    return std::vector<Status>(ops.size(), failed);
  }
  size_t ok = 0;
  for (const auto& r : results) ok += r.isOk();
  if (ok && !tenant.empty()) noteTenant(tenant);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.writeBatches++;
    stats_.writeOps += ops.size();
  }
  if (outboxWritten && commitListener_) commitListener_();
  return results;
}

}  // namespace allmende::store::postgres
