// The write half of the SQLite store: one writer thread, group commit, ops that fail alone, and
// the maintenance of the secondary indexes.
#include <algorithm>
#include <iterator>

#include "store/sqlite/sqlite_store_impl.h"
#include "store/sqlite/zorder.h"

namespace allmende::store::sqlite {

Status SqliteStore::prepareWriter() {
  auto prep = [&](Statement& s, std::string_view sql) -> Status {
    auto r = Statement::prepare(writer_.get(), sql);
    if (!r) return r.status();
    s = std::move(r).value();
    return Status::ok();
  };
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.load, "SELECT seq, doc FROM entities WHERE tenant=?1 AND id=?2"));
  // OR IGNORE: an id that exists already is told by sqlite3_changes() (applyOp).
  ALLMENDE_RETURN_IF_ERROR(
      prep(ws_.insert, "INSERT OR IGNORE INTO entities (tenant, seq, id, doc) VALUES (?1, ?2, ?3, ?4)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.update, "UPDATE entities SET doc=?3 WHERE tenant=?1 AND seq=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.remove, "DELETE FROM entities WHERE tenant=?1 AND seq=?2"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(ws_.insertType, "INSERT OR IGNORE INTO entity_types (tenant, type, seq) VALUES (?1, ?2, ?3)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.removeType, "DELETE FROM entity_types WHERE tenant=?1 AND type=?2 AND seq=?3"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoInsert,
                                "INSERT INTO geo_index (gid, minX, maxX, minY, maxY, tenant, attr) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoRemove, "DELETE FROM geo_index WHERE gid=?1"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(ws_.pointInsert,
           "INSERT OR IGNORE INTO geo_points (tenant, attr, z, seq, x, y) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(ws_.pointRemove, "DELETE FROM geo_points WHERE tenant=?1 AND attr=?2 AND z=?3 AND seq=?4"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(ws_.valueInsert, "INSERT OR IGNORE INTO attr_values (tenant, attr, v, seq) VALUES (?1, ?2, ?3, ?4)"));
  ALLMENDE_RETURN_IF_ERROR(
      prep(ws_.valueRemove, "DELETE FROM attr_values WHERE tenant=?1 AND attr=?2 AND v=?3 AND seq=?4"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.journalInsert, "INSERT OR IGNORE INTO audit_journal (id, rec) VALUES (?1, ?2)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.savepoint, "SAVEPOINT op"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.release, "RELEASE op"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.rollbackTo, "ROLLBACK TO op"));
  auto max = Statement::prepare(writer_.get(), "SELECT coalesce(max(seq), 0) FROM entities");
  if (!max) return max.status();
  if (max->step() == SQLITE_ROW) lastSeq_ = max->int64(0);
  return Status::ok();
}

std::vector<Status> SqliteStore::write(const TenantId& tenant, std::vector<WriteOp> ops) {
  PendingWrite pending{&tenant, &ops, {}, {}, {}};
  pending.journal = JournalScope::current();
  // Large writes (batches) are worked out here, in parallel with the writer thread, which then
  // mostly stores results. For a few ops the extra snapshot read costs more than it saves.
  if (ops.size() >= options_.prepareMinOps) {
    prepare(tenant, ops, pending.prepared);
  } else {
    pending.prepared.resize(ops.size());
  }
  auto done = pending.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    if (stopping_) return std::vector<Status>(ops.size(), Status(ErrorType::kServiceUnavailable, "shutting down"));
    queue_.push_back(&pending);
  }
  queueCv_.notify_one();
  done.wait();
  return std::move(pending.results);
}

void SqliteStore::writerLoop() {
  for (;;) {
    std::vector<PendingWrite*> group;
    {
      std::unique_lock<std::mutex> lock(queueMutex_);
      queueCv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      size_t ops = 0;
      while (!queue_.empty() && (group.empty() || ops + queue_.front()->ops->size() <= options_.maxOpsPerCommit)) {
        ops += queue_.front()->ops->size();
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    commitGroup(group);
  }
}

// A group is first run without savepoints: an op that fails before it writes anything (its
// rule said no, which is how ops fail) leaves nothing to undo, and a savepoint per op costs a
// copy of every page the op touches. Only when an op fails after it began writing (an SQL error,
// in practice never specific to one op) is the group rolled back and run again with a savepoint
// per op, so that this op fails alone.
void SqliteStore::commitGroup(std::vector<PendingWrite*>& group) {
  GroupRun run = runGroup(group, false);
  if (run.outcome == GroupRun::kNeedsSavepoints) run = runGroup(group, true);
  if (run.outcome != GroupRun::kCommitted) {
    for (auto* p : group) p->results.assign(p->ops->size(), run.error);
  } else {
    std::lock_guard<std::mutex> lock(statsMutex_);
    stats_.writeBatches++;
    stats_.writeOps += run.ops;
  }
  if (outboxWritten_ && commitListener_) commitListener_();
  outboxWritten_ = false;
  for (auto* p : group) p->done.set_value();
}

SqliteStore::GroupRun SqliteStore::runGroup(std::vector<PendingWrite*>& group, bool savepoints) {
  GroupRun out;
  auto abandon = [&](GroupRun::Outcome outcome, Status st) {
    if (writer_.inTransaction()) writer_.exec("ROLLBACK");
    outboxWritten_ = false;
    tenants_.discard();
    terms_.discard();
    history_.forget();
    for (auto* p : group) p->results.clear();
    out.outcome = outcome;
    out.error = std::move(st);
    return out;
  };
  Status st = writer_.exec("BEGIN IMMEDIATE");
  if (!st.isOk()) return abandon(GroupRun::kFailed, st);
  for (auto* p : group) {
    bool opFailedAfterWriting = false;
    st = applyPending(*p, savepoints, out.ops, opFailedAfterWriting);
    if (!st.isOk()) return abandon(GroupRun::kFailed, st);
    if (opFailedAfterWriting) return abandon(GroupRun::kNeedsSavepoints, Status::ok());
  }
  st = writer_.exec("COMMIT");
  if (!st.isOk()) return abandon(GroupRun::kFailed, st);
  tenants_.publish();
  terms_.publish();
  for (auto* p : group) {
    if (p->journaled) p->journal->written = true;
  }
  out.outcome = GroupRun::kCommitted;
  return out;
}

// The ops of one caller. A failing op leaves no trace and does not fail the others; a tenant
// comes into being with its first successful write, not with a failed one. Without savepoints,
// an op that fails after it began writing stops the run (`failedAfterWriting`).
Status SqliteStore::applyPending(PendingWrite& p, bool savepoints, size_t& opCount, bool& failedAfterWriting) {
  const size_t tenantMark = tenants_.mark();
  const bool newTenant = !tenants_.contains(*p.tenant);
  auto tenant = tenants_.intern(*p.tenant);
  if (!tenant) return tenant.status();
  p.results.reserve(p.ops->size());
  bool anyApplied = false;
  if (p.task) anyApplied = applyTask(p, *tenant, opCount);  // temporal_writes.cc
  for (size_t i = 0; i < p.ops->size() && !p.task; ++i) {
    WriteOp& op = (*p.ops)[i];
    const PreparedOp& prepared = p.prepared[i];
    if (prepared.valid && !prepared.error.isOk()) {  // decided on the snapshot
      p.results.push_back(prepared.error);
      ++opCount;
      continue;
    }
    const size_t termMark = terms_.mark();
    Status st = savepoints ? run(ws_.savepoint, "savepoint") : Status::ok();
    if (st.isOk()) {
      bool wrote = false;
      st = applyOp(*p.tenant, *tenant, op, prepared, wrote);
      if (!st.isOk() && wrote && !savepoints) {
        failedAfterWriting = true;
        return Status::ok();
      }
      if (!st.isOk() && savepoints) {
        run(ws_.rollbackTo, "rollback to savepoint");
        terms_.rollbackTo(termMark);
        history_.forget();
      }
      if (savepoints) run(ws_.release, "release savepoint");
    }
    anyApplied = anyApplied || st.isOk();
    p.results.push_back(std::move(st));
    ++opCount;
  }
  p.journaled = false;
  if (p.journal && anyApplied) {
    // The request's audit record commits with its change (store/audit_journal.h).
    ws_.journalInsert.bind(1, p.journal->id);
    ws_.journalInsert.bindStatic(2, p.journal->text);
    ALLMENDE_RETURN_IF_ERROR(run(ws_.journalInsert, "journal the audit record"));
    p.journaled = true;
  }
  if (newTenant && !anyApplied && tenants_.mark() > tenantMark) {
    // The tenant row was interned for nothing: remove it again.
    ALLMENDE_RETURN_IF_ERROR(writer_.exec("DELETE FROM tenants WHERE id=" + std::to_string(*tenant)));
    tenants_.rollbackTo(tenantMark);
  }
  return Status::ok();
}

Status SqliteStore::run(Statement& s, const char* what) {
  int rc = s.step();
  s.reset();
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::ok() : sqliteError(writer_.get(), rc, what);
}

Status SqliteStore::work(const TenantId& tenant, WriteOp& op, const Json* current, PreparedOp& out) const {
  Result<WriteEffect> effect = op.apply(current);
  if (!effect) return effect.status();
  out.kind = effect->kind;
  out.before = current ? indexEntriesOf(*current) : IndexEntries{};
  if (out.kind == WriteEffect::Kind::kNone || (out.kind == WriteEffect::Kind::kDelete && !current)) {
    return Status::ok();
  }
  if (out.kind == WriteEffect::Kind::kDelete) {
    traceChange(tenant, current, nullptr, out.trail);
    return Status::ok();
  }
  out.after = indexEntriesOf(effect->entity);
  if (out.after.geo.size() > static_cast<size_t>(kGeoSlots)) {
    return badRequestData("an entity may have at most " + std::to_string(kGeoSlots) + " GeoProperty instances");
  }
  out.text = toJsonString(effect->entity);
  traceChange(tenant, current, &effect->entity, out.trail);
  return Status::ok();
}

Status SqliteStore::applyOp(const TenantId& tenantName, int64_t tenant, WriteOp& op, const PreparedOp& prepared,
                            bool& wrote) {
  // Inserts the entity under the next seq; whether it was new (else nothing was written).
  auto insertNew = [&](const std::string& text) -> Result<bool> {
    ws_.insert.bind(1, tenant);
    ws_.insert.bind(2, lastSeq_ + 1);
    ws_.insert.bindStatic(3, op.entityId);
    ws_.insert.bindStatic(4, text);
    ALLMENDE_RETURN_IF_ERROR(run(ws_.insert, "insert entity"));
    if (sqlite3_changes(writer_.get()) != 1) return false;
    ++lastSeq_;
    return true;
  };
  // Stores the index rows and the trail of entity `seq`, now written.
  auto finish = [&](int64_t seq, const PreparedOp& p, bool created) -> Status {
    if (!options_.faultEntityId.empty() && op.entityId == options_.faultEntityId) {
      return Status(ErrorType::kInternalError, "injected fault after writing");
    }
    ALLMENDE_RETURN_IF_ERROR(updateIndexes(tenant, seq, p.before, p.after));
    return storeTrail(tenant, seq, p.trail, created);
  };
  // A new entity worked out on the snapshot (most of a batch that creates): inserted at once, and
  // the unique index on (tenant, id) tells whether it is still new, instead of a look-up first.
  // If an entity of that id came into being since the snapshot, nothing was written and the op
  // is worked out again below.
  if (prepared.valid && prepared.error.isOk() && !prepared.existed && prepared.kind == WriteEffect::Kind::kUpsert) {
    wrote = true;  // a failing insert statement may have written part of its rows
    auto inserted = insertNew(prepared.text);
    if (!inserted) return inserted.status();
    if (*inserted) return finish(lastSeq_, prepared, true);
    wrote = false;
  }
  Statement& load = ws_.load;
  load.bind(1, tenant);
  load.bindStatic(2, op.entityId);
  int rc = load.step();
  int64_t seq = 0;
  if (rc == SQLITE_ROW) {
    seq = load.int64(0);
  } else if (rc != SQLITE_DONE) {
    load.reset();
    return sqliteError(writer_.get(), rc, "load entity");
  }
  // The snapshot is still current: store what the caller's thread worked out.
  const PreparedOp* p = &prepared;
  PreparedOp fresh;
  bool unchanged = prepared.valid && (seq ? prepared.existed && load.text(1) == prepared.expected : !prepared.existed);
  if (!unchanged) {
    JsonDocument current;
    if (seq) {
      Status parsed = parseDoc(load.text(1), current);
      if (!parsed.isOk()) {
        load.reset();
        return parsed;
      }
    }
    load.reset();
    ALLMENDE_RETURN_IF_ERROR(work(tenantName, op, seq ? &current : nullptr, fresh));
    p = &fresh;
  } else {
    load.reset();
  }
  wrote = p->kind != WriteEffect::Kind::kNone;
  switch (p->kind) {
    case WriteEffect::Kind::kNone:
      return Status::ok();
    case WriteEffect::Kind::kDelete:
      if (!seq) return Status::ok();
      ALLMENDE_RETURN_IF_ERROR(updateIndexes(tenant, seq, p->before, IndexEntries{}));
      ws_.remove.bind(1, tenant);
      ws_.remove.bind(2, seq);
      ALLMENDE_RETURN_IF_ERROR(run(ws_.remove, "delete entity"));
      return storeTrail(tenant, seq, p->trail, false);
    case WriteEffect::Kind::kUpsert:
      break;
  }
  const bool created = seq == 0;
  if (seq) {
    ws_.update.bind(1, tenant);
    ws_.update.bind(2, seq);
    ws_.update.bindStatic(3, p->text);
    ALLMENDE_RETURN_IF_ERROR(run(ws_.update, "update entity"));
  } else {
    auto inserted = insertNew(p->text);
    if (!inserted) return inserted.status();
    if (!*inserted) return internalError("entity " + op.entityId + " appeared while being written");
    seq = lastSeq_;
  }
  return finish(seq, *p, created);
}

Status SqliteStore::updateIndexes(int64_t tenant, int64_t seq, const IndexEntries& before, const IndexEntries& after) {
  auto termId = [&](const std::string& iri) { return terms_.intern(iri); };
  if (before.types != after.types) {
    for (const auto* list : {&before.types, &after.types}) {
      Statement& s = list == &before.types ? ws_.removeType : ws_.insertType;
      for (const auto& t : *list) {
        auto id = termId(t);
        if (!id) return id.status();
        s.bind(1, tenant);
        s.bind(2, *id);
        s.bind(3, seq);
        ALLMENDE_RETURN_IF_ERROR(run(s, "index type"));
      }
    }
  }
  // Attribute values: only the difference (sensor updates change one or two values).
  std::vector<std::pair<std::string, IndexValue>> gone, added;
  std::set_difference(before.values.begin(), before.values.end(), after.values.begin(), after.values.end(),
                      std::back_inserter(gone));
  std::set_difference(after.values.begin(), after.values.end(), before.values.begin(), before.values.end(),
                      std::back_inserter(added));
  for (const auto* list : {&gone, &added}) {
    Statement& s = list == &gone ? ws_.valueRemove : ws_.valueInsert;
    for (const auto& [attr, value] : *list) {
      auto id = termId(attr);
      if (!id) return id.status();
      s.bind(1, tenant);
      s.bind(2, *id);
      bindIndexValue(s, 3, value);
      s.bind(4, seq);
      ALLMENDE_RETURN_IF_ERROR(run(s, "index attribute value"));
    }
  }
  if (before.geo == after.geo) return Status::ok();
  for (const auto* list : {&before.geo, &after.geo}) {
    const bool removing = list == &before.geo;
    for (size_t k = 0; k < list->size(); ++k) {
      const auto& g = (*list)[k];
      auto attr = termId(g.attr);
      if (!attr) return attr.status();
      if (g.point) {
        Statement& s = removing ? ws_.pointRemove : ws_.pointInsert;
        s.bind(1, tenant);
        s.bind(2, *attr);
        s.bind(3, zKey(g.box.minX, g.box.minY));
        s.bind(4, seq);
        if (!removing) {
          s.bind(5, g.box.minX);
          s.bind(6, g.box.minY);
        }
        ALLMENDE_RETURN_IF_ERROR(run(s, "index point"));
      } else if (removing) {
        ws_.geoRemove.bind(1, seq * kGeoSlots + static_cast<int64_t>(k));
        ALLMENDE_RETURN_IF_ERROR(run(ws_.geoRemove, "remove geometry"));
      } else {
        ws_.geoInsert.bind(1, seq * kGeoSlots + static_cast<int64_t>(k));
        ws_.geoInsert.bind(2, g.box.minX);
        ws_.geoInsert.bind(3, g.box.maxX);
        ws_.geoInsert.bind(4, g.box.minY);
        ws_.geoInsert.bind(5, g.box.maxY);
        ws_.geoInsert.bind(6, tenant);
        ws_.geoInsert.bind(7, *attr);
        ALLMENDE_RETURN_IF_ERROR(run(ws_.geoInsert, "index geometry"));
      }
    }
  }
  return Status::ok();
}

}  // namespace allmende::store::sqlite
