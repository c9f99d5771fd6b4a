#include "store/sqlite/sqlite_store.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/json.h"
#include "geo/geometry.h"
#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {
namespace {

using sqlite::Connection;
using sqlite::sqliteError;
using sqlite::Statement;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS entities (
  rowid  INTEGER PRIMARY KEY,  -- creation order: the stable order of query results
  tenant TEXT NOT NULL,
  id     TEXT NOT NULL,
  doc    TEXT NOT NULL,        -- the entity in the internal form, as JSON
  UNIQUE (tenant, id)
);
CREATE INDEX IF NOT EXISTS entities_by_tenant ON entities (tenant);
CREATE TABLE IF NOT EXISTS entity_types (
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  entity INTEGER NOT NULL,
  PRIMARY KEY (tenant, type, entity)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_types_by_entity ON entity_types (entity);
CREATE VIRTUAL TABLE IF NOT EXISTS geo_index USING rtree (gid, minX, maxX, minY, maxY);
CREATE TABLE IF NOT EXISTS geo_entries (
  gid    INTEGER PRIMARY KEY,
  entity INTEGER NOT NULL,
  attr   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS geo_entries_by_entity ON geo_entries (entity);
CREATE TABLE IF NOT EXISTS tenants (
  name    TEXT PRIMARY KEY,
  created INTEGER NOT NULL DEFAULT (unixepoch())
);
)sql";

// Statements of the writer connection, prepared once.
struct WriterStatements {
  Statement load, insert, update, remove;
  Statement insertType, removeTypes;
  Statement geoGids, geoRemoveIndex, geoRemoveEntries, geoInsertEntry, geoInsertIndex;
};

struct PendingWrite {
  const TenantId* tenant;
  std::vector<WriteOp>* ops;
  std::vector<Status> results;
  std::promise<void> done;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}
  ~SqliteStore() override;

  Status init();

  Result<JsonDocument> getEntity(const TenantId& tenant, const std::string& id) override;
  Result<QueryResult> queryEntities(const TenantId& tenant, const EntityQuery& q) override;
  std::vector<Status> write(const TenantId& tenant, std::vector<WriteOp> ops) override;
  Result<std::vector<AttributeStat>> attributeStats(const TenantId& tenant) override;
  bool tenantExists(const TenantId& tenant) override;
  StoreStats stats() override;

 private:
  // A read-only connection with its statement cache, lent to one thread at a time.
  struct Reader {
    Connection conn;
    std::unordered_map<std::string, Statement> statements;
    Result<Statement*> statement(const std::string& sql);
  };
  class ReaderLease;

  Result<std::unique_ptr<Reader>> acquireReader();
  void releaseReader(std::unique_ptr<Reader> r);

  void writerLoop();
  void commitGroup(std::vector<PendingWrite*>& group);
  Status applyOp(const TenantId& tenant, WriteOp& op);
  Status storeEntity(const TenantId& tenant, int64_t rowid, const Json& entity);
  Status removeIndexes(int64_t rowid);
  Status indexEntity(const TenantId& tenant, int64_t rowid, const Json& entity);

  SqliteOptions options_;
  Connection writer_;
  WriterStatements ws_;

  std::mutex queueMutex_;
  std::condition_variable queueCv_;
  std::deque<PendingWrite*> queue_;  // GUARDED_BY(queueMutex_)
  bool stopping_ = false;            // GUARDED_BY(queueMutex_)
  std::thread writerThread_;

  std::mutex readersMutex_;
  std::vector<std::unique_ptr<Reader>> readers_;  // GUARDED_BY(readersMutex_)

  std::mutex tenantsMutex_;
  std::unordered_set<std::string> tenants_;  // GUARDED_BY(tenantsMutex_)

  std::mutex statsMutex_;
  StoreStats stats_;  // GUARDED_BY(statsMutex_); entities is computed on demand
};

// Returns a Reader to the pool when it goes out of scope.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* s, std::unique_ptr<Reader> r) : store_(s), reader_(std::move(r)) {}
  ~ReaderLease() { store_->releaseReader(std::move(reader_)); }
  Reader* operator->() { return reader_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Reader> reader_;
};

Result<Statement*> SqliteStore::Reader::statement(const std::string& sql) {
  auto it = statements.find(sql);
  if (it != statements.end()) {
    it->second.reset();
    return &it->second;
  }
  auto st = Statement::prepare(conn.get(), sql);
  if (!st) return st.status();
  auto [pos, _] = statements.emplace(sql, std::move(st).value());
  return &pos->second;
}

Status SqliteStore::init() {
  auto conn = Connection::open(options_.path, false);
  if (!conn) return conn.status();
  writer_ = std::move(conn).value();
  ALLMENDE_RETURN_IF_ERROR(writer_.exec("PRAGMA journal_mode=WAL"));
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(options_.durability == "full" ? "PRAGMA synchronous=FULL"
                                                                      : "PRAGMA synchronous=NORMAL"));
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(kSchema));

  auto prep = [&](Statement& s, std::string_view sql) -> Status {
    auto r = Statement::prepare(writer_.get(), sql);
    if (!r) return r.status();
    s = std::move(r).value();
    return Status::ok();
  };
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.load, "SELECT rowid, doc FROM entities WHERE tenant=?1 AND id=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.insert, "INSERT INTO entities (tenant, id, doc) VALUES (?1, ?2, ?3)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.update, "UPDATE entities SET doc=?2 WHERE rowid=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.remove, "DELETE FROM entities WHERE rowid=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.insertType, "INSERT OR IGNORE INTO entity_types (tenant, type, entity) VALUES (?1, ?2, ?3)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.removeTypes, "DELETE FROM entity_types WHERE entity=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoGids, "SELECT gid FROM geo_entries WHERE entity=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoRemoveIndex, "DELETE FROM geo_index WHERE gid=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoRemoveEntries, "DELETE FROM geo_entries WHERE entity=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoInsertEntry, "INSERT INTO geo_entries (entity, attr) VALUES (?1, ?2)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoInsertIndex, "INSERT INTO geo_index (gid, minX, maxX, minY, maxY) VALUES (?1, ?2, ?3, ?4, ?5)"));

  {
    auto st = Statement::prepare(writer_.get(), "SELECT name FROM tenants");
    if (!st) return st.status();
    while (st->step() == SQLITE_ROW) tenants_.emplace(st->text(0));
  }
  writerThread_ = std::thread([this] { writerLoop(); });
  return Status::ok();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    stopping_ = true;
  }
  queueCv_.notify_all();
  if (writerThread_.joinable()) writerThread_.join();
}

// ---- reads ------------------------------------------------------------------------------------

Result<std::unique_ptr<SqliteStore::Reader>> SqliteStore::acquireReader() {
  {
    std::lock_guard<std::mutex> lock(readersMutex_);
    if (!readers_.empty()) {
      auto r = std::move(readers_.back());
      readers_.pop_back();
      return r;
    }
  }
  auto conn = Connection::open(options_.path, true);
  if (!conn) return conn.status();
  auto r = std::make_unique<Reader>();
  r->conn = std::move(conn).value();
  return r;
}

void SqliteStore::releaseReader(std::unique_ptr<Reader> r) {
  std::lock_guard<std::mutex> lock(readersMutex_);
  readers_.push_back(std::move(r));
}

namespace {
Status parseDoc(std::string_view text, JsonDocument& doc) {
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) return internalError("corrupt entity document in store");
  return Status::ok();
}

// A SQL string literal (tenant names are validated by the API; quoting keeps this safe anyway).
std::string quoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

bool hasAnyAttribute(const Json& entity, const std::vector<std::string>& attrs) {
  if (attrs.empty()) return true;
  const Json* a = findMember(entity, "attrs");
  if (!a) return false;
  for (const auto& name : attrs) {
    if (findMember(*a, name)) return true;
  }
  return false;
}
}  // namespace

Result<JsonDocument> SqliteStore::getEntity(const TenantId& tenant, const std::string& id) {
  auto reader = acquireReader();
  if (!reader) return reader.status();
  ReaderLease lease(this, std::move(reader).value());
  auto st = lease->statement("SELECT doc FROM entities WHERE tenant=?1 AND id=?2");
  if (!st) return st.status();
  Statement& s = **st;
  s.bindStatic(1, tenant);
  s.bindStatic(2, id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return notFound("entity " + id + " not found");
  if (rc != SQLITE_ROW) return sqliteError(lease->conn.get(), rc, "get entity");
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseDoc(s.text(0), doc));
  s.reset();
  return doc;
}

namespace {
// The SQL text of a query and the order of its parameters (after ?1 = tenant).
std::string querySql(const EntityQuery& q) {
  std::string sql = "SELECT doc FROM entities WHERE tenant=?1";
  int n = 2;
  auto placeholders = [&](size_t count) {
    std::string p;
    for (size_t i = 0; i < count; ++i) p += (i ? ",?" : "?") + std::to_string(n++);
    return p;
  };
  if (!q.ids.empty()) sql += " AND id IN (" + placeholders(q.ids.size()) + ")";
  if (!q.typeIris.empty()) {
    sql += " AND rowid IN (SELECT entity FROM entity_types WHERE tenant=?1 AND type IN (" +
           placeholders(q.typeIris.size()) + "))";
  }
  if (q.geoBox) {
    std::string a = "?" + std::to_string(n), b = "?" + std::to_string(n + 1), c = "?" + std::to_string(n + 2),
                d = "?" + std::to_string(n + 3), e = "?" + std::to_string(n + 4);
    n += 5;
    sql += " AND rowid IN (SELECT g.entity FROM geo_index r JOIN geo_entries g ON g.gid=r.gid WHERE r.minX<=" + c +
           " AND r.maxX>=" + a + " AND r.minY<=" + d + " AND r.maxY>=" + b + " AND g.attr=" + e + ")";
  }
  sql += " ORDER BY rowid";
  return sql;
}
}  // namespace

Result<QueryResult> SqliteStore::queryEntities(const TenantId& tenant, const EntityQuery& q) {
  auto reader = acquireReader();
  if (!reader) return reader.status();
  ReaderLease lease(this, std::move(reader).value());
  // Statements with long IN lists are not worth caching.
  std::string sql = querySql(q);
  Statement uncached;
  Statement* s = nullptr;
  if (q.ids.size() + q.typeIris.size() <= 8) {
    auto st = lease->statement(sql);
    if (!st) return st.status();
    s = *st;
  } else {
    auto st = Statement::prepare(lease->conn.get(), sql);
    if (!st) return st.status();
    uncached = std::move(st).value();
    s = &uncached;
  }
  int n = 1;
  s->bindStatic(n++, tenant);
  for (const auto& id : q.ids) s->bindStatic(n++, id);
  for (const auto& t : q.typeIris) s->bindStatic(n++, t);
  if (q.geoBox) {
    s->bind(n++, q.geoBox->minX);
    s->bind(n++, q.geoBox->minY);
    s->bind(n++, q.geoBox->maxX);
    s->bind(n++, q.geoBox->maxY);
    s->bindStatic(n++, q.geoBox->attr);
  }

  QueryResult result;
  size_t matched = 0;
  const size_t end = q.offset + q.limit;
  for (;;) {
    int rc = s->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      s->reset();
      return sqliteError(lease->conn.get(), rc, "query entities");
    }
    JsonDocument doc;
    ALLMENDE_RETURN_IF_ERROR(parseDoc(s->text(0), doc));
    if (!hasAnyAttribute(doc, q.attrs)) continue;
    if (q.match && !q.match(doc)) continue;
    if (matched >= q.offset && matched < end) result.entities.push_back(std::move(doc));
    ++matched;
    if (!q.count && matched >= end) break;
  }
  s->reset();
  if (q.count) result.total = matched;
  return result;
}

Result<std::vector<AttributeStat>> SqliteStore::attributeStats(const TenantId& tenant) {
  auto reader = acquireReader();
  if (!reader) return reader.status();
  ReaderLease lease(this, std::move(reader).value());
  std::vector<AttributeStat> out;
  // Types with their entity counts (attribute ""), then per type and attribute.
  static const std::string kTypes = "SELECT type, count(*) FROM entity_types WHERE tenant=?1 GROUP BY type";
  static const std::string kAttrs =
      "SELECT t.type, j.key, json_extract(j.value, '$[0].type'), count(*) "
      "FROM entity_types t JOIN entities e ON e.rowid = t.entity, json_each(e.doc, '$.attrs') j "
      "WHERE t.tenant=?1 GROUP BY 1, 2, 3";
  for (const std::string* sql : {&kTypes, &kAttrs}) {
    auto st = lease->statement(*sql);
    if (!st) return st.status();
    Statement& s = **st;
    s.bindStatic(1, tenant);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      AttributeStat a;
      a.type = s.text(0);
      if (sql == &kAttrs) {
        a.attribute = s.text(1);
        a.kind = s.text(2);
        a.entities = static_cast<size_t>(s.int64(3));
      } else {
        a.entities = static_cast<size_t>(s.int64(1));
      }
      out.push_back(std::move(a));
    }
    s.reset();
    if (rc != SQLITE_DONE) return sqliteError(lease->conn.get(), rc, "attribute statistics");
  }
  return out;
}

bool SqliteStore::tenantExists(const TenantId& tenant) {
  if (tenant.empty()) return true;
  std::lock_guard<std::mutex> lock(tenantsMutex_);
  return tenants_.count(tenant) > 0;
}

StoreStats SqliteStore::stats() {
  StoreStats s;
  {
    std::lock_guard<std::mutex> lock(statsMutex_);
    s = stats_;
  }
  auto reader = acquireReader();
  if (reader) {
    ReaderLease lease(this, std::move(reader).value());
    auto st = lease->statement("SELECT count(*) FROM entities");
    if (st && (*st)->step() == SQLITE_ROW) s.entities = static_cast<size_t>((*st)->int64(0));
    if (st) (*st)->reset();
  }
  return s;
}

// ---- writes -----------------------------------------------------------------------------------

std::vector<Status> SqliteStore::write(const TenantId& tenant, std::vector<WriteOp> ops) {
  PendingWrite pending{&tenant, &ops, {}, {}};
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

void SqliteStore::commitGroup(std::vector<PendingWrite*>& group) {
  auto failAll = [&](const Status& st) {
    for (auto* p : group) {
      p->results.assign(p->ops->size(), st);
      p->done.set_value();
    }
  };
  Status begin = writer_.exec("BEGIN IMMEDIATE");
  if (!begin.isOk()) return failAll(begin);
  size_t opCount = 0;
  std::vector<std::string> newTenants;
  for (auto* p : group) {
    p->results.reserve(p->ops->size());
    bool anyApplied = false;
    for (auto& op : *p->ops) {
      // A savepoint per op: a failing op leaves no trace and does not fail its neighbours.
      Status st = writer_.exec("SAVEPOINT op");
      if (st.isOk()) {
        st = applyOp(*p->tenant, op);
        writer_.exec(st.isOk() ? "RELEASE op" : "ROLLBACK TO op; RELEASE op");
      }
      anyApplied = anyApplied || st.isOk();
      p->results.push_back(std::move(st));
      ++opCount;
    }
    // A tenant comes into being with its first successful write, not with a failed one.
    if (anyApplied && !tenantExists(*p->tenant)) {
      Status st = writer_.exec("INSERT OR IGNORE INTO tenants (name) VALUES (" + quoteLiteral(*p->tenant) + ")");
      if (!st.isOk()) {
        writer_.exec("ROLLBACK");
        for (auto* q : group) q->results.clear();
        return failAll(st);
      }
      newTenants.push_back(*p->tenant);
    }
  }
  Status commit = writer_.exec("COMMIT");
  if (!commit.isOk()) {
    writer_.exec("ROLLBACK");
    return failAll(commit);
  }
  {
    std::lock_guard<std::mutex> lock(tenantsMutex_);
    for (auto& t : newTenants) tenants_.insert(t);
  }
  {
    std::lock_guard<std::mutex> lock(statsMutex_);
    stats_.writeBatches++;
    stats_.writeOps += opCount;
  }
  for (auto* p : group) p->done.set_value();
}

Status SqliteStore::applyOp(const TenantId& tenant, WriteOp& op) {
  Statement& load = ws_.load;
  load.reset();
  load.bindStatic(1, tenant);
  load.bindStatic(2, op.entityId);
  int rc = load.step();
  int64_t rowid = 0;
  JsonDocument current;
  if (rc == SQLITE_ROW) {
    rowid = load.int64(0);
    ALLMENDE_RETURN_IF_ERROR(parseDoc(load.text(1), current));
  } else if (rc != SQLITE_DONE) {
    return sqliteError(writer_.get(), rc, "load entity");
  }
  load.reset();

  Result<WriteEffect> effect = op.apply(rowid ? &current : nullptr);
  if (!effect) return effect.status();
  switch (effect->kind) {
    case WriteEffect::Kind::kNone:
      return Status::ok();
    case WriteEffect::Kind::kDelete: {
      if (!rowid) return Status::ok();
      ALLMENDE_RETURN_IF_ERROR(removeIndexes(rowid));
      ws_.remove.reset();
      ws_.remove.bind(1, rowid);
      rc = ws_.remove.step();
      ws_.remove.reset();
      return rc == SQLITE_DONE ? Status::ok() : sqliteError(writer_.get(), rc, "delete entity");
    }
    case WriteEffect::Kind::kUpsert:
      return storeEntity(tenant, rowid, effect->entity);
  }
  return Status::ok();
}

Status SqliteStore::storeEntity(const TenantId& tenant, int64_t rowid, const Json& entity) {
  std::string text = toJsonString(entity);
  int rc;
  if (rowid) {
    ALLMENDE_RETURN_IF_ERROR(removeIndexes(rowid));
    ws_.update.reset();
    ws_.update.bind(1, rowid);
    ws_.update.bindStatic(2, text);
    rc = ws_.update.step();
    ws_.update.reset();
  } else {
    const Json* id = findMember(entity, "id");
    if (!id || !id->IsString()) return internalError("entity without id");
    ws_.insert.reset();
    ws_.insert.bindStatic(1, tenant);
    ws_.insert.bind(2, asView(*id));
    ws_.insert.bindStatic(3, text);
    rc = ws_.insert.step();
    ws_.insert.reset();
    rowid = sqlite3_last_insert_rowid(writer_.get());
  }
  if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "store entity");
  return indexEntity(tenant, rowid, entity);
}

Status SqliteStore::removeIndexes(int64_t rowid) {
  ws_.removeTypes.reset();
  ws_.removeTypes.bind(1, rowid);
  int rc = ws_.removeTypes.step();
  ws_.removeTypes.reset();
  if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "remove types");
  std::vector<int64_t> gids;
  ws_.geoGids.reset();
  ws_.geoGids.bind(1, rowid);
  while ((rc = ws_.geoGids.step()) == SQLITE_ROW) gids.push_back(ws_.geoGids.int64(0));
  ws_.geoGids.reset();
  if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "read geo entries");
  for (int64_t gid : gids) {
    ws_.geoRemoveIndex.reset();
    ws_.geoRemoveIndex.bind(1, gid);
    rc = ws_.geoRemoveIndex.step();
    ws_.geoRemoveIndex.reset();
    if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "remove geo index");
  }
  if (gids.empty()) return Status::ok();
  ws_.geoRemoveEntries.reset();
  ws_.geoRemoveEntries.bind(1, rowid);
  rc = ws_.geoRemoveEntries.step();
  ws_.geoRemoveEntries.reset();
  return rc == SQLITE_DONE ? Status::ok() : sqliteError(writer_.get(), rc, "remove geo entries");
}

Status SqliteStore::indexEntity(const TenantId& tenant, int64_t rowid, const Json& entity) {
  int rc;
  if (const Json* types = findMember(entity, "type"); types && types->IsArray()) {
    for (const auto& t : types->GetArray()) {
      if (!t.IsString()) continue;
      ws_.insertType.reset();
      ws_.insertType.bindStatic(1, tenant);
      ws_.insertType.bind(2, asView(t));
      ws_.insertType.bind(3, rowid);
      rc = ws_.insertType.step();
      ws_.insertType.reset();
      if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "index type");
    }
  }
  const Json* attrs = findMember(entity, "attrs");
  if (!attrs || !attrs->IsObject()) return Status::ok();
  for (const auto& attr : attrs->GetObject()) {
    if (!attr.value.IsArray()) continue;
    for (const auto& inst : attr.value.GetArray()) {
      const Json* type = findMember(inst, "type");
      const Json* value = findMember(inst, "value");
      if (!type || !value || !type->IsString() || asView(*type) != "GeoProperty") continue;
      auto box = geo::bboxOf(*value);
      if (!box) continue;
      ws_.geoInsertEntry.reset();
      ws_.geoInsertEntry.bind(1, rowid);
      ws_.geoInsertEntry.bind(2, asView(attr.name));
      rc = ws_.geoInsertEntry.step();
      ws_.geoInsertEntry.reset();
      if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "index geometry");
      int64_t gid = sqlite3_last_insert_rowid(writer_.get());
      ws_.geoInsertIndex.reset();
      ws_.geoInsertIndex.bind(1, gid);
      ws_.geoInsertIndex.bind(2, box->minX);
      ws_.geoInsertIndex.bind(3, box->maxX);
      ws_.geoInsertIndex.bind(4, box->minY);
      ws_.geoInsertIndex.bind(5, box->maxY);
      rc = ws_.geoInsertIndex.step();
      ws_.geoInsertIndex.reset();
      if (rc != SQLITE_DONE) return sqliteError(writer_.get(), rc, "index geometry");
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(options);
  ALLMENDE_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace allmende::store
