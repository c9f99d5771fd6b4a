// The writes of the temporal API (store/temporal.h) on the SQLite store: run on the writer
// thread in a group commit, each in its own savepoint like an entity write.
#include "store/sqlite/temporal_reader.h"

namespace allmende::store::sqlite {

namespace {

Status stepDone(sqlite3* db, Statement& s, const char* what) {
  int rc = s.step();
  s.reset();
  return rc == SQLITE_DONE ? Status::ok() : sqliteError(db, rc, what);
}

Result<Statement> prepared(sqlite3* db, std::string_view sql) { return Statement::prepare(db, sql); }

// The history id of `id` in `tenant`, or ResourceNotFound.
Result<int64_t> existingHistory(sqlite3* db, int64_t tenant, const std::string& id) {
  auto s = prepared(db, "SELECT hid FROM temporal_entities WHERE tenant=?1 AND id=?2");
  if (!s) return s.status();
  s->bind(1, tenant);
  s->bindStatic(2, id);
  int rc = s->step();
  if (rc == SQLITE_DONE) return notFound("no temporal representation of entity " + id);
  if (rc != SQLITE_ROW) return sqliteError(db, rc, "look up history");
  return s->int64(0);
}

// The dataset and time key of an instance, or ResourceNotFound.
Result<std::pair<int64_t, int64_t>> locateInstance(sqlite3* db, int64_t tenant, int64_t hid, int64_t attr,
                                                   int64_t iid) {
  auto s = prepared(
      db, "SELECT ds, t FROM attr_instances WHERE tenant=?1 AND hid=?2 AND attr=?3 AND iid=?4 AND del IS NULL");
  if (!s) return s.status();
  s->bind(1, tenant);
  s->bind(2, hid);
  s->bind(3, attr);
  s->bind(4, iid);
  int rc = s->step();
  if (rc == SQLITE_DONE) return notFound("no such attribute instance");
  if (rc != SQLITE_ROW) return sqliteError(db, rc, "look up attribute instance");
  return std::make_pair(s->int64(0), s->int64(1));
}

}  // namespace

Status SqliteStore::runOnWriter(const TenantId& tenant, std::function<Status(int64_t)> task) {
  std::vector<WriteOp> placeholder(1);
  PendingWrite pending{&tenant, &placeholder, {}, {}, {}, std::move(task)};
  pending.journal = JournalScope::current();
  pending.prepared.resize(1);
  auto done = pending.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    if (stopping_) return Status(ErrorType::kServiceUnavailable, "shutting down");
    queue_.push_back(&pending);
  }
  queueCv_.notify_one();
  done.wait();
  return pending.results.empty() ? internalError("write lost") : pending.results[0];
}

bool SqliteStore::applyTask(PendingWrite& p, int64_t tenant, size_t& opCount) {
  const size_t termMark = terms_.mark();
  // A task may delete or restore history rows behind HistoryWriter's back (and may be rolled
  // back): it starts and ends with nothing remembered. Tasks are rare next to entity writes.
  history_.forget();
  Status st = run(ws_.savepoint, "savepoint");
  if (st.isOk()) {
    st = p.task(tenant);
    if (!st.isOk()) {  // leaves no trace, like a failed op
      run(ws_.rollbackTo, "rollback to savepoint");
      terms_.rollbackTo(termMark);
    }
    run(ws_.release, "release savepoint");
  }
  history_.forget();
  const bool ok = st.isOk();
  p.results.push_back(std::move(st));
  ++opCount;
  return ok;
}

Status SqliteStore::appendInstances(const TenantId& tenant, const std::string& id, const std::string& types,
                                    const std::vector<model::HistoryInstance>& instances) {
  return runOnWriter(tenant, [&](int64_t tid) -> Status {
    auto hid = history_.historyId(tid, id, types, false, 0);
    if (!hid) return hid.status();
    for (const auto& h : instances) {
      auto iid = history_.insert(tid, *hid, h, terms_);
      if (!iid) return iid.status();
    }
    return Status::ok();
  });
}

Status SqliteStore::deleteHistory(const TenantId& tenant, const std::string& id, const std::string& attr,
                                  std::optional<std::string> datasetId, int64_t instanceId) {
  if (!tenants_.contains(tenant)) return notFound("no temporal representation of entity " + id);
  return runOnWriter(tenant, [&](int64_t tid) -> Status {
    sqlite3* db = writer_.get();
    auto hid = existingHistory(db, tid, id);
    if (!hid) return hid.status();
    if (attr.empty()) {  // NGSI-LD 5.6.16: the whole temporal representation
      for (const char* sql : {"DELETE FROM attr_instances WHERE tenant=?1 AND hid=?2",
                              "DELETE FROM attr_rollups WHERE tenant=?1 AND hid=?2",
                              "DELETE FROM temporal_entities WHERE tenant=?1 AND id=?3"}) {
        auto s = prepared(db, sql);
        if (!s) return s.status();
        s->bind(1, tid);
        s->bind(2, *hid);
        s->bindStatic(3, id);
        ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "delete history"));
      }
      return Status::ok();
    }
    auto attrId = terms_.find(attr);
    if (!attrId) return notFound("attribute " + attr + " has no history in entity " + id);
    std::optional<int64_t> ds;
    if (datasetId) {
      if (datasetId->empty()) {
        ds = 0;
      } else if (auto d = terms_.find(*datasetId)) {
        ds = *d;
      } else {
        return notFound("no instances with datasetId " + *datasetId);
      }
    }
    if (instanceId) {
      auto where = locateInstance(db, tid, *hid, *attrId, instanceId);
      if (!where) return where.status();
      auto s = prepared(
          db, "DELETE FROM attr_instances WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND t=?5 AND iid=?6");
      if (!s) return s.status();
      s->bind(1, tid);
      s->bind(2, *hid);
      s->bind(3, *attrId);
      s->bind(4, where->first);
      s->bind(5, where->second);
      s->bind(6, instanceId);
      ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "delete attribute instance"));
      const int64_t hour = rollupHour(where->second);
      return rebuildRollups(db, tid, *hid, *attrId, where->first, hour, hour + 1);
    }
    for (const char* table : {"attr_instances", "attr_rollups"}) {
      std::string sql = std::string("DELETE FROM ") + table + " WHERE tenant=?1 AND hid=?2 AND attr=?3";
      if (ds) sql += " AND ds=?4";
      auto s = prepared(db, sql);
      if (!s) return s.status();
      s->bind(1, tid);
      s->bind(2, *hid);
      s->bind(3, *attrId);
      if (ds) s->bind(4, *ds);
      ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "delete attribute history"));
      if (table == std::string("attr_instances") && sqlite3_changes(db) == 0) {
        return notFound("attribute " + attr + " has no history in entity " + id);
      }
    }
    return Status::ok();
  });
}

Status SqliteStore::modifyInstance(const TenantId& tenant, const std::string& id, const std::string& attr,
                                   int64_t instanceId, const model::HistoryInstance& replacement, Micros now) {
  if (!tenants_.contains(tenant)) return notFound("no temporal representation of entity " + id);
  return runOnWriter(tenant, [&](int64_t tid) -> Status {
    sqlite3* db = writer_.get();
    auto hid = existingHistory(db, tid, id);
    if (!hid) return hid.status();
    auto attrId = terms_.find(attr);
    if (!attrId) return notFound("no such attribute instance");
    auto where = locateInstance(db, tid, *hid, *attrId, instanceId);
    if (!where) return where.status();
    // The time key and the identity stay; value and members are replaced (NGSI-LD 5.6.15).
    auto s = prepared(db,
                      "UPDATE attr_instances SET num=?7, doc=?8, mod=?9 "
                      "WHERE tenant=?1 AND hid=?2 AND attr=?3 AND ds=?4 AND t=?5 AND iid=?6 AND del IS NULL");
    if (!s) return s.status();
    s->bind(1, tid);
    s->bind(2, *hid);
    s->bind(3, *attrId);
    s->bind(4, where->first);
    s->bind(5, where->second);
    s->bind(6, instanceId);
    if (replacement.number)
      s->bind(7, *replacement.number);
    else
      s->bindNull(7);
    if (replacement.doc.empty())
      s->bindNull(8);
    else
      s->bindStatic(8, replacement.doc);
    s->bind(9, now);
    ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "modify attribute instance"));
    if (sqlite3_changes(db) == 0) return notFound("no such attribute instance");
    const int64_t hour = rollupHour(where->second);
    return rebuildRollups(db, tid, *hid, *attrId, where->first, hour, hour + 1);
  });
}

Result<size_t> SqliteStore::purgeHistoryBefore(const TenantId& tenant, Micros cutoff) {
  auto tid = tenants_.find(tenant);
  if (!tid) return size_t{0};
  // The entities with history, then one writer task per entity, so the writer is never held
  // for more than one entity's instances.
  std::vector<int64_t> hids;
  {
    TemporalReader lease(this);
    if (!lease.status().isOk()) return lease.status();
    auto s = lease->statement("SELECT hid FROM temporal_entities WHERE tenant=?1");
    if (!s) return s.status();
    (*s)->bind(1, *tid);
    while ((*s)->step() == SQLITE_ROW) hids.push_back((*s)->int64(0));
    (*s)->reset();
  }
  size_t removed = 0;
  for (int64_t hid : hids) {
    Status st = runOnWriter(tenant, [&](int64_t t) -> Status {
      sqlite3* db = writer_.get();
      auto s = prepared(db, "DELETE FROM attr_instances WHERE tenant=?1 AND hid=?2 AND t < ?3");
      if (!s) return s.status();
      s->bind(1, t);
      s->bind(2, hid);
      s->bind(3, cutoff);
      ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "purge history"));
      removed += static_cast<size_t>(sqlite3_changes(db));
      auto r = prepared(db, "DELETE FROM attr_rollups WHERE tenant=?1 AND hid=?2 AND hour < ?3");
      if (!r) return r.status();
      r->bind(1, t);
      r->bind(2, hid);
      r->bind(3, rollupHour(cutoff));
      ALLMENDE_RETURN_IF_ERROR(stepDone(db, *r, "purge rollups"));
      // The hour the cutoff falls in keeps only its later instances.
      return rebuildRollups(db, t, hid, -1, -1, rollupHour(cutoff), rollupHour(cutoff) + 1);
    });
    if (!st.isOk()) return st;
  }
  return removed;
}

Result<std::vector<TenantId>> SqliteStore::historyTenants() {
  TemporalReader lease(this);
  if (!lease.status().isOk()) return lease.status();
  auto s = lease->statement(
      "SELECT t.key FROM tenants t WHERE EXISTS (SELECT 1 FROM temporal_entities h WHERE h.tenant = t.id)");
  if (!s) return s.status();
  std::vector<TenantId> out;
  int rc;
  while ((rc = (*s)->step()) == SQLITE_ROW) out.emplace_back((*s)->text(0));
  (*s)->reset();
  if (rc != SQLITE_DONE) return sqliteError(lease->conn.get(), rc, "list tenants with history");
  return out;
}

Result<std::vector<std::string>> SqliteStore::historyIds(const TenantId& tenant) {
  std::vector<std::string> out;
  auto tid = tenants_.find(tenant);
  if (!tid) return out;
  TemporalReader lease(this);
  if (!lease.status().isOk()) return lease.status();
  auto s = lease->statement("SELECT id FROM temporal_entities WHERE tenant=?1 ORDER BY hid");
  if (!s) return s.status();
  (*s)->bind(1, *tid);
  int rc;
  while ((rc = (*s)->step()) == SQLITE_ROW) out.emplace_back((*s)->text(0));
  (*s)->reset();
  if (rc != SQLITE_DONE) return sqliteError(lease->conn.get(), rc, "list history ids");
  return out;
}

Status SqliteStore::restoreHistory(const TenantId& tenant, const std::string& id, const std::string& types,
                                   const std::vector<StoredInstance>& instances, bool replace) {
  return runOnWriter(tenant, [&](int64_t tid) -> Status {
    sqlite3* db = writer_.get();
    auto hid = history_.historyId(tid, id, types, false, 0);
    if (!hid) return hid.status();
    if (replace) {
      for (const char* sql : {"DELETE FROM attr_instances WHERE tenant=?1 AND hid=?2",
                              "DELETE FROM attr_rollups WHERE tenant=?1 AND hid=?2"}) {
        auto s = prepared(db, sql);
        if (!s) return s.status();
        s->bind(1, tid);
        s->bind(2, *hid);
        ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "clear history"));
      }
    }
    auto ins = prepared(db,
                        "INSERT INTO attr_instances (tenant, hid, attr, ds, t, iid, rec, num, doc, mod, del) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!ins) return ins.status();
    for (const auto& i : instances) {
      const model::HistoryInstance& h = i.h;
      auto attr = terms_.intern(h.attr);
      if (!attr) return attr.status();
      int64_t ds = 0;
      if (!h.datasetId.empty()) {
        auto d = terms_.intern(h.datasetId);
        if (!d) return d.status();
        ds = *d;
      }
      const Micros t = h.observedAt.value_or(h.recordedAt);
      ins->bind(1, tid);
      ins->bind(2, *hid);
      ins->bind(3, *attr);
      ins->bind(4, ds);
      ins->bind(5, t);
      ins->bind(6, i.instanceId);
      if (h.observedAt)
        ins->bind(7, h.recordedAt - t);
      else
        ins->bindNull(7);
      if (h.number)
        ins->bind(8, *h.number);
      else
        ins->bindNull(8);
      if (h.doc.empty())
        ins->bindNull(9);
      else
        ins->bindStatic(9, h.doc);
      if (i.modifiedAt != h.recordedAt)
        ins->bind(10, i.modifiedAt);
      else
        ins->bindNull(10);
      if (h.deleted)
        ins->bind(11, int64_t{1});
      else
        ins->bindNull(11);
      ALLMENDE_RETURN_IF_ERROR(stepDone(db, *ins, "restore attribute instance"));
    }
    return rebuildRollups(db, tid, *hid, -1, -1, INT64_MIN / kRollupMicros, INT64_MAX / kRollupMicros);
  });
}

Status SqliteStore::deleteTenantHistory(const TenantId& tenant) {
  if (!tenants_.contains(tenant)) return Status::ok();
  return runOnWriter(tenant, [&](int64_t tid) -> Status {
    sqlite3* db = writer_.get();
    for (const char* sql : {"DELETE FROM attr_instances WHERE tenant=?1", "DELETE FROM attr_rollups WHERE tenant=?1",
                            "DELETE FROM temporal_entities WHERE tenant=?1"}) {
      auto s = prepared(db, sql);
      if (!s) return s.status();
      s->bind(1, tid);
      ALLMENDE_RETURN_IF_ERROR(stepDone(db, *s, "delete tenant history"));
    }
    return Status::ok();
  });
}

}  // namespace allmende::store::sqlite
