#include "store/sqlite/history.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

namespace allmende::store::sqlite {

namespace {

Micros wallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status rebuildRollups(sqlite3* db, int64_t tenant, int64_t hid, int64_t attr, int64_t ds, int64_t fromHour,
                      int64_t toHour) {
  // Hours far outside any instant are clamped so the bounds in micros do not overflow.
  constexpr int64_t kLimit = INT64_MAX / kRollupMicros - 1;
  fromHour = std::clamp(fromHour, -kLimit, kLimit);
  toHour = std::clamp(toHour, -kLimit, kLimit);
  const std::string series =
      std::string(" tenant=?1 AND hid=?2") + (attr >= 0 ? " AND attr=?3" : "") + (ds >= 0 ? " AND ds=?4" : "");
  const std::string h = std::to_string(kRollupMicros);
  const std::string remove = "DELETE FROM attr_rollups WHERE" + series + " AND hour >= ?5 AND hour < ?6";
  const std::string insert =
      "INSERT INTO attr_rollups (tenant, hid, attr, ds, hour, n, nn, sum, sumsq, min, max) "
      "SELECT tenant, hid, attr, ds, (CASE WHEN t >= 0 THEN t / " +
      h + " ELSE (t - " + h + " + 1) / " + h +
      " END), "
      "count(*), count(num), total(num), total(num * num), min(num), max(num) FROM attr_instances WHERE" +
      series + " AND t >= ?7 AND t < ?8 AND del IS NULL AND rec IS NOT NULL GROUP BY 1, 2, 3, 4, 5";
  for (const std::string* sql : {&remove, &insert}) {
    auto s = Statement::prepare(db, *sql);
    if (!s) return s.status();
    s->bind(1, tenant);
    s->bind(2, hid);
    if (attr >= 0) s->bind(3, attr);
    if (ds >= 0) s->bind(4, ds);
    if (sql == &remove) {
      s->bind(5, fromHour);
      s->bind(6, toHour);
    } else {
      s->bind(7, fromHour * kRollupMicros);
      s->bind(8, toHour * kRollupMicros);
    }
    int rc = s->step();
    if (rc != SQLITE_DONE) return sqliteError(db, rc, "rebuild rollups");
  }
  return Status::ok();
}

Status HistoryWriter::open(sqlite3* writer) {
  db_ = writer;
  auto prep = [&](Statement& s, std::string_view sql) -> Status {
    auto r = Statement::prepare(writer, sql);
    if (!r) return r.status();
    s = std::move(r).value();
    return Status::ok();
  };
  ALLMENDE_RETURN_IF_ERROR(prep(lookup_, "SELECT hid, deleted FROM temporal_entities WHERE tenant=?1 AND id=?2"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(create_,
           "INSERT OR IGNORE INTO temporal_entities (tenant, id, hid, types, deleted) VALUES (?1, ?2, ?3, ?4, ?5)"));
  ALLMENDE_RETURN_IF_ERROR(prep(setTypes_, "UPDATE temporal_entities SET types=?3 WHERE tenant=?1 AND id=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(setDeleted_, "UPDATE temporal_entities SET deleted=?3 WHERE tenant=?1 AND id=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(insert_,
                                "INSERT INTO attr_instances (tenant, hid, attr, ds, t, iid, rec, num, doc, del) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(rollup_,
           "INSERT INTO attr_rollups (tenant, hid, attr, ds, hour, n, nn, sum, sumsq, min, max) "
           "VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6 IS NOT NULL, coalesce(?6, 0), coalesce(?6 * ?6, 0), ?6, ?6) "
           "ON CONFLICT DO UPDATE SET n = n + 1, nn = nn + excluded.nn, sum = sum + excluded.sum, "
           "sumsq = sumsq + excluded.sumsq, "
           "min = CASE WHEN min IS NULL OR excluded.min < min THEN coalesce(excluded.min, min) ELSE min END, "
           "max = CASE WHEN max IS NULL OR excluded.max > max THEN coalesce(excluded.max, max) ELSE max END"));
  auto max = Statement::prepare(writer, "SELECT coalesce(max(hid), 0) FROM temporal_entities");
  if (!max) return max.status();
  if (max->step() == SQLITE_ROW) lastHid_ = max->int64(0);
  return Status::ok();
}

Result<int64_t> HistoryWriter::historyId(int64_t tenant, std::string_view id, std::string_view types, bool deleted,
                                         Micros deletedAt, bool likelyNew) {
  auto run = [&](Statement& s, const char* what) -> Status {
    int r = s.step();
    s.reset();
    return r == SQLITE_DONE ? Status::ok() : sqliteError(db_, r, what);
  };
  auto create = [&](int64_t hid) -> Status {
    create_.bind(1, tenant);
    create_.bindStatic(2, id);
    create_.bind(3, hid);
    create_.bindStatic(4, types.empty() ? std::string_view("[]") : types);
    if (deleted)
      create_.bind(5, deletedAt);
    else
      create_.bindNull(5);
    return run(create_, "create history");
  };
  std::string key(sizeof tenant + id.size(), '\0');
  std::memcpy(key.data(), &tenant, sizeof tenant);
  std::memcpy(key.data() + sizeof tenant, id.data(), id.size());
  bool known = false, wasDeleted = false;
  int64_t hid = 0;
  if (auto it = known_.find(key); it != known_.end()) {
    known = true;
    hid = it->second.hid;
    wasDeleted = it->second.deleted;
  } else if (likelyNew) {
    ALLMENDE_RETURN_IF_ERROR(create(lastHid_ + 1));
    if (sqlite3_changes(db_) == 1) {  // it was new
      hid = ++lastHid_;
      if (known_.size() >= kMaxKnown) known_.clear();
      known_.insert_or_assign(std::move(key), Known{hid, deleted});
      return hid;
    }
  }
  if (!known) {
    lookup_.bind(1, tenant);
    lookup_.bindStatic(2, id);
    int rc = lookup_.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      lookup_.reset();
      return sqliteError(db_, rc, "look up history");
    }
    known = rc == SQLITE_ROW;
    hid = known ? lookup_.int64(0) : ++lastHid_;
    wasDeleted = known && !lookup_.isNull(1);
    lookup_.reset();
  }
  // Remembered before the rows are written: a failure below fails the op, and every failed op
  // is rolled back with forget() (sqlite_writer.cc).
  if (known_.size() >= kMaxKnown) known_.clear();
  known_.insert_or_assign(std::move(key), Known{hid, deleted});
  if (!known) {
    ALLMENDE_RETURN_IF_ERROR(create(hid));
    return hid;
  }
  if (!types.empty()) {
    setTypes_.bind(1, tenant);
    setTypes_.bindStatic(2, id);
    setTypes_.bindStatic(3, types);
    ALLMENDE_RETURN_IF_ERROR(run(setTypes_, "update history types"));
  }
  if (deleted || wasDeleted) {  // deleted now, or re-created after a deletion
    setDeleted_.bind(1, tenant);
    setDeleted_.bindStatic(2, id);
    if (deleted)
      setDeleted_.bind(3, deletedAt);
    else
      setDeleted_.bindNull(3);
    ALLMENDE_RETURN_IF_ERROR(run(setDeleted_, "mark history deleted"));
  }
  return hid;
}

Result<int64_t> HistoryWriter::insert(int64_t tenant, int64_t hid, const model::HistoryInstance& h, Dictionary& terms) {
  auto attr = terms.intern(h.attr);
  if (!attr) return attr.status();
  int64_t ds = 0;
  if (!h.datasetId.empty()) {
    auto id = terms.intern(h.datasetId);
    if (!id) return id.status();
    ds = *id;
  }
  // Instance ids follow the wall clock (so they stay unique across restarts without a counter
  // in the database) and increase strictly within the process.
  lastIid_ = std::max(lastIid_ + 1, wallMicros());
  const Micros t = h.observedAt.value_or(h.recordedAt);
  Statement& s = insert_;
  s.bind(1, tenant);
  s.bind(2, hid);
  s.bind(3, *attr);
  s.bind(4, ds);
  s.bind(5, t);
  s.bind(6, lastIid_);
  if (h.observedAt)
    s.bind(7, h.recordedAt - t);
  else
    s.bindNull(7);
  if (h.number)
    s.bind(8, *h.number);
  else
    s.bindNull(8);
  if (h.doc.empty())
    s.bindNull(9);
  else
    s.bindStatic(9, h.doc);
  if (h.deleted)
    s.bind(10, int64_t{1});
  else
    s.bindNull(10);
  int rc = s.step();
  s.reset();
  if (rc != SQLITE_DONE) return sqliteError(db_, rc, "insert attribute instance");
  if (h.observedAt && !h.deleted) {
    Statement& r = rollup_;
    r.bind(1, tenant);
    r.bind(2, hid);
    r.bind(3, *attr);
    r.bind(4, ds);
    r.bind(5, rollupHour(t));
    if (h.number)
      r.bind(6, *h.number);
    else
      r.bindNull(6);
    rc = r.step();
    r.reset();
    if (rc != SQLITE_DONE) return sqliteError(db_, rc, "update rollup");
  }
  return lastIid_;
}

Status HistoryWriter::store(int64_t tenant, const model::HistoryChange& change, Dictionary& terms, bool created) {
  if (change.entityId.empty()) return Status::ok();
  // Nothing changed that the history keeps (e.g. only the scope): no need to look it up.
  if (change.instances.empty() && change.types.empty() && !change.entityDeleted) return Status::ok();
  Micros deletedAt = 0;
  if (change.entityDeleted) deletedAt = change.instances.empty() ? wallMicros() : change.instances.front().recordedAt;
  auto hid = historyId(tenant, change.entityId, change.types, change.entityDeleted, deletedAt, created);
  if (!hid) return hid.status();
  for (const auto& h : change.instances) {
    auto iid = insert(tenant, *hid, h, terms);
    if (!iid) return iid.status();
  }
  return Status::ok();
}

}  // namespace allmende::store::sqlite
