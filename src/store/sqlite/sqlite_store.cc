#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/json.h"
#include "store/sqlite/index_entries.h"
#include "store/sqlite/sqlite_handles.h"
#include "store/sqlite/zorder.h"

namespace allmende::store {
namespace {

using sqlite::Connection;
using sqlite::sqliteError;
using sqlite::IndexEntries;
using sqlite::indexEntriesOf;
using sqlite::Statement;

// Entities are clustered by (tenant, seq): seq is the creation order, the stable order of query
// results, so a tenant scan reads in order without a separate index. GeoProperty values that are
// Points go to geo_points under their Z-order key (one B-tree insert); other geometries to the
// R*Tree, where the k-th GeoProperty instance of entity seq is gid = seq * kGeoSlots + k.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS entities (
  tenant TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  id     TEXT NOT NULL,
  doc    TEXT NOT NULL,        -- the entity in the internal form, as JSON
  PRIMARY KEY (tenant, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS entities_by_id ON entities (tenant, id);
CREATE TABLE IF NOT EXISTS entity_types (
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (tenant, type, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS geo_points (
  tenant TEXT NOT NULL,
  attr   TEXT NOT NULL,
  z      INTEGER NOT NULL,      -- zorder.h key of the point
  seq    INTEGER NOT NULL,
  PRIMARY KEY (tenant, attr, z, seq)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS geo_index USING rtree (gid, minX, maxX, minY, maxY, +tenant, +attr);
CREATE TABLE IF NOT EXISTS attr_values (
  tenant TEXT NOT NULL,
  attr   TEXT NOT NULL,
  v      ANY NOT NULL,           -- a scalar the attribute exposes to q (index_entries.h)
  seq    INTEGER NOT NULL,
  PRIMARY KEY (tenant, attr, v, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenants (
  name    TEXT PRIMARY KEY,
  created INTEGER NOT NULL DEFAULT (unixepoch())
);
)sql";
constexpr int64_t kGeoSlots = 1024;  // GeoProperty instances indexed per entity
constexpr size_t kZRanges = 8;       // key ranges of a box query on geo_points

// Statements of the writer connection, prepared once.
struct WriterStatements {
  Statement load, insert, update, remove;
  Statement insertType, removeType;
  Statement geoInsert, geoRemove, pointInsert, pointRemove;
  Statement valueInsert, valueRemove;
  Statement savepoint, release, rollbackTo;
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
 public:
  struct Reader {
    Connection conn;
    std::unordered_map<std::string, Statement> statements;
    Result<Statement*> statement(const std::string& sql);
  };
  class ReaderLease;

 private:

  Result<std::unique_ptr<Reader>> acquireReader();
  // A reader for this thread: the one it already holds, or one from the pool.
  Result<ReaderLease> leaseReader();
  void releaseReader(std::unique_ptr<Reader> r);

  void writerLoop();
  void commitGroup(std::vector<PendingWrite*>& group);
  Status applyOp(const TenantId& tenant, WriteOp& op);
  // Runs a prepared writer statement to completion.
  Status run(Statement& s, const char* what);
  // Makes the index rows of entity `seq` go from `before` to `after`.
  Status updateIndexes(const TenantId& tenant, int64_t seq, const IndexEntries& before, const IndexEntries& after);

  SqliteOptions options_;
  Connection writer_;
  WriterStatements ws_;
  int64_t lastSeq_ = 0;  // writer thread only

  std::mutex queueMutex_;
  std::condition_variable queueCv_;
  std::deque<PendingWrite*> queue_;  // GUARDED_BY(queueMutex_)
  bool stopping_ = false;            // GUARDED_BY(queueMutex_)
  std::thread writerThread_;

  std::mutex readersMutex_;
  std::condition_variable readersCv_;
  std::vector<std::unique_ptr<Reader>> readers_;  // GUARDED_BY(readersMutex_): idle readers
  size_t readersOpen_ = 0;                        // GUARDED_BY(readersMutex_)

  std::mutex tenantsMutex_;
  std::unordered_set<std::string> tenants_;  // GUARDED_BY(tenantsMutex_)

  std::mutex statsMutex_;
  StoreStats stats_;  // GUARDED_BY(statsMutex_); entities is computed on demand
};

// Returns a Reader to the pool when it goes out of scope.
// The reader a thread holds, so that a read nested in another (a linked entity looked up while
// a query runs) shares its connection instead of waiting for a second one.
thread_local const void* tlsReaderOwner = nullptr;
thread_local SqliteStore::Reader* tlsReader = nullptr;

class SqliteStore::ReaderLease {
 public:
  // Owns `r` and returns it to the pool at the end.
  ReaderLease(SqliteStore* s, std::unique_ptr<Reader> r) : store_(s), owned_(std::move(r)), reader_(owned_.get()) {
    tlsReaderOwner = s;
    tlsReader = reader_;
  }
  // Borrows the reader the thread already holds.
  explicit ReaderLease(Reader* borrowed) : reader_(borrowed) {}
  ReaderLease(ReaderLease&& o) noexcept
      : store_(std::exchange(o.store_, nullptr)), owned_(std::move(o.owned_)), reader_(o.reader_) {}
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (!owned_) return;
    tlsReaderOwner = nullptr;
    tlsReader = nullptr;
    store_->releaseReader(std::move(owned_));
  }
  Reader* operator->() { return reader_; }

 private:
  SqliteStore* store_ = nullptr;
  std::unique_ptr<Reader> owned_;
  Reader* reader_;
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
  ALLMENDE_RETURN_IF_ERROR(writer_.exec("PRAGMA page_size=8192; PRAGMA journal_mode=WAL"));
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(options_.durability == "full" ? "PRAGMA synchronous=FULL"
                                                                      : "PRAGMA synchronous=NORMAL"));
  // Savepoint journals stay in memory; the writer keeps the hot part of the indexes cached.
  ALLMENDE_RETURN_IF_ERROR(writer_.exec("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536"));
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(kSchema));

  auto prep = [&](Statement& s, std::string_view sql) -> Status {
    auto r = Statement::prepare(writer_.get(), sql);
    if (!r) return r.status();
    s = std::move(r).value();
    return Status::ok();
  };
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.load, "SELECT seq, doc FROM entities WHERE tenant=?1 AND id=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.insert, "INSERT INTO entities (tenant, seq, id, doc) VALUES (?1, ?2, ?3, ?4)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.update, "UPDATE entities SET doc=?3 WHERE tenant=?1 AND seq=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.remove, "DELETE FROM entities WHERE tenant=?1 AND seq=?2"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.insertType, "INSERT OR IGNORE INTO entity_types (tenant, type, seq) VALUES (?1, ?2, ?3)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.removeType, "DELETE FROM entity_types WHERE tenant=?1 AND type=?2 AND seq=?3"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoInsert,
                                "INSERT INTO geo_index (gid, minX, maxX, minY, maxY, tenant, attr) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.geoRemove, "DELETE FROM geo_index WHERE gid=?1"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.pointInsert, "INSERT OR IGNORE INTO geo_points (tenant, attr, z, seq) VALUES (?1, ?2, ?3, ?4)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.pointRemove, "DELETE FROM geo_points WHERE tenant=?1 AND attr=?2 AND z=?3 AND seq=?4"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.valueInsert, "INSERT OR IGNORE INTO attr_values (tenant, attr, v, seq) VALUES (?1, ?2, ?3, ?4)"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.valueRemove, "DELETE FROM attr_values WHERE tenant=?1 AND attr=?2 AND v=?3 AND seq=?4"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.savepoint, "SAVEPOINT op"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.release, "RELEASE op"));
  ALLMENDE_RETURN_IF_ERROR(prep(ws_.rollbackTo, "ROLLBACK TO op"));
  {
    auto st = Statement::prepare(writer_.get(), "SELECT coalesce(max(seq), 0) FROM entities");
    if (!st) return st.status();
    if (st->step() == SQLITE_ROW) lastSeq_ = st->int64(0);
  }
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
    // At most maxReaders connections: more would only compete for the same cores, and each
    // holds a page cache of its own.
    std::unique_lock<std::mutex> lock(readersMutex_);
    readersCv_.wait(lock, [&] { return !readers_.empty() || readersOpen_ < options_.maxReaders; });
    if (!readers_.empty()) {
      auto r = std::move(readers_.back());
      readers_.pop_back();
      return r;
    }
    ++readersOpen_;
  }
  auto conn = Connection::open(options_.path, true);
  Status st = conn.isOk() ? Status::ok() : conn.status();
  auto r = std::make_unique<Reader>();
  if (st.isOk()) {
    r->conn = std::move(conn).value();
    st = r->conn.exec("PRAGMA cache_size=-" + std::to_string(options_.readerCacheKiB));
  }
  if (!st.isOk()) {
    std::lock_guard<std::mutex> lock(readersMutex_);
    --readersOpen_;
    readersCv_.notify_one();
    return st;
  }
  return r;
}

Result<SqliteStore::ReaderLease> SqliteStore::leaseReader() {
  if (tlsReaderOwner == this && tlsReader) return ReaderLease(tlsReader);
  auto r = acquireReader();
  if (!r) return r.status();
  return ReaderLease(this, std::move(r).value());
}

void SqliteStore::releaseReader(std::unique_ptr<Reader> r) {
  {
    std::lock_guard<std::mutex> lock(readersMutex_);
    readers_.push_back(std::move(r));
  }
  readersCv_.notify_one();
}

namespace {
// `text` is a column value: SQLite terminates it with NUL, which RapidJSON's fast path needs.
Status parseDoc(std::string_view text, JsonDocument& doc) {
  doc.Parse(text.data());
  if (doc.HasParseError()) return internalError("corrupt entity document in store");
  return Status::ok();
}

void bindIndexValue(Statement& s, int i, const IndexValue& v) {
  if (const double* d = std::get_if<double>(&v)) {
    s.bind(i, *d);
  } else {
    s.bindStatic(i, std::get<std::string>(v));
  }
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
  auto leased = leaseReader();
  if (!leased) return leased.status();
  ReaderLease& lease = *leased;
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
// The SQL of a query: one index drives the scan (ids, else the spatial index, else one type, else
// the tenant), rows come in seq order, and the exact filters run on each row in C++. Parameters:
// ?1 tenant, then the ids, the types, or the box (minX, minY, maxX, maxY) and attribute.
// Whether the value index drives the query: always for one value (it streams in seq order);
// for value lists and ranges (whose matches must be collected and sorted first) only when no type
// index can stream instead or when every match must be visited anyway (count).
bool usesValueIndex(const EntityQuery& q) {
  if (!q.valueHint || (q.valueHint->anyOf.empty() && !q.valueHint->lower && !q.valueHint->upper)) return false;
  return q.valueHint->anyOf.size() == 1 || q.typeIris.empty() || q.count;
}

std::string querySql(const EntityQuery& q) {
  int n = 2;
  auto placeholders = [&](size_t count) {
    std::string p;
    for (size_t i = 0; i < count; ++i) p += (i ? ",?" : "?") + std::to_string(n++);
    return p;
  };
  if (!q.ids.empty()) {
    return "SELECT doc FROM entities WHERE tenant=?1 AND id IN (" + placeholders(q.ids.size()) + ") ORDER BY seq";
  }
  if (usesValueIndex(q) && !q.geoBox) n = 3;  // ?2 is the attribute
  if (q.geoBox) {
    // One range scan per Z-order range (SQLite does not turn an OR of ranges into index scans here).
    std::string candidates;
    for (size_t i = 0; i < kZRanges; ++i) {
      candidates += "SELECT seq FROM geo_points WHERE tenant=?1 AND attr=?6 AND z BETWEEN ?" + std::to_string(7 + 2 * i) +
                    " AND ?" + std::to_string(8 + 2 * i) + " UNION ";
    }
    return "SELECT doc FROM entities WHERE tenant=?1 AND seq IN (" + candidates + "SELECT gid / " +
           std::to_string(kGeoSlots) +
           " FROM geo_index WHERE minX<=?4 AND maxX>=?2 AND minY<=?5 AND maxY>=?3 AND tenant=?1 AND attr=?6)"
           " ORDER BY seq";
  }
  if (usesValueIndex(q)) {
    const ValueHint& h = *q.valueHint;
    if (h.anyOf.size() == 1) {  // the index yields this value's entities in seq order
      return "SELECT e.doc FROM attr_values a CROSS JOIN entities e ON e.tenant=a.tenant AND e.seq=a.seq "
             "WHERE a.tenant=?1 AND a.attr=?2 AND a.v=?3 ORDER BY a.seq";
    }
    std::string condition;
    if (!h.anyOf.empty()) {
      condition = "v IN (" + placeholders(h.anyOf.size()) + ")";
    } else {
      if (h.lower) condition = "v >= ?" + std::to_string(n++);
      if (h.upper) condition += std::string(condition.empty() ? "" : " AND ") + "v <= ?" + std::to_string(n++);
    }
    return "SELECT doc FROM entities WHERE tenant=?1 AND seq IN (SELECT seq FROM attr_values WHERE tenant=?1 AND "
           "attr=?2 AND " + condition + ") ORDER BY seq";
  }
  if (q.typeIris.size() == 1) {
    return "SELECT e.doc FROM entity_types t CROSS JOIN entities e ON e.tenant=t.tenant AND e.seq=t.seq "
           "WHERE t.tenant=?1 AND t.type=?2 ORDER BY t.seq";
  }
  if (!q.typeIris.empty()) {
    return "SELECT doc FROM entities WHERE tenant=?1 AND seq IN (SELECT seq FROM entity_types WHERE tenant=?1 AND "
           "type IN (" + placeholders(q.typeIris.size()) + ")) ORDER BY seq";
  }
  return "SELECT doc FROM entities WHERE tenant=?1 ORDER BY seq";
}

// Binds the parameters of querySql(q) in the same order.
void bindQuery(Statement& s, const TenantId& tenant, const EntityQuery& q) {
  int n = 1;
  s.bindStatic(n++, tenant);
  if (!q.ids.empty()) {
    for (const auto& id : q.ids) s.bindStatic(n++, id);
  } else if (q.geoBox) {
    s.bind(n++, q.geoBox->minX);
    s.bind(n++, q.geoBox->minY);
    s.bind(n++, q.geoBox->maxX);
    s.bind(n++, q.geoBox->maxY);
    s.bindStatic(n++, q.geoBox->attr);
    // A fixed number of ranges keeps the statement cacheable; the last one repeats.
    auto ranges = sqlite::zRanges(q.geoBox->minX, q.geoBox->minY, q.geoBox->maxX, q.geoBox->maxY, kZRanges);
    for (size_t i = 0; i < kZRanges; ++i) {
      const auto& r = ranges.empty() ? std::pair<int64_t, int64_t>{1, 0} : ranges[std::min(i, ranges.size() - 1)];
      s.bind(n++, r.first);
      s.bind(n++, r.second);
    }
  } else if (usesValueIndex(q)) {
    const ValueHint& h = *q.valueHint;
    s.bindStatic(n++, h.attr);
    for (const auto& v : h.anyOf) bindIndexValue(s, n++, v);
    if (h.anyOf.empty() && h.lower) bindIndexValue(s, n++, *h.lower);
    if (h.anyOf.empty() && h.upper) bindIndexValue(s, n++, *h.upper);
  } else {
    for (const auto& t : q.typeIris) s.bindStatic(n++, t);
  }
}
}  // namespace

Result<QueryResult> SqliteStore::queryEntities(const TenantId& tenant, const EntityQuery& query) {
  auto leased = leaseReader();
  if (!leased) return leased.status();
  ReaderLease& lease = *leased;
  // Values of a hint that no entity has cannot contribute a match: dropping them often leaves
  // one value, whose index streams in order (a string literal comes with its VocabProperty
  // expansion, which is rarely present).
  EntityQuery pruned;
  const EntityQuery* qp = &query;
  if (query.valueHint && query.valueHint->anyOf.size() > 1) {
    auto probe = lease->statement("SELECT 1 FROM attr_values WHERE tenant=?1 AND attr=?2 AND v=?3 LIMIT 1");
    if (!probe) return probe.status();
    std::vector<IndexValue> present;
    for (const auto& v : query.valueHint->anyOf) {
      Statement& s = **probe;
      s.bindStatic(1, tenant);
      s.bindStatic(2, query.valueHint->attr);
      bindIndexValue(s, 3, v);
      int rc = s.step();
      s.reset();
      if (rc == SQLITE_ROW) present.push_back(v);
      else if (rc != SQLITE_DONE) return sqliteError(lease->conn.get(), rc, "probe value index");
    }
    if (present.empty()) {
      QueryResult none;
      if (query.count) none.total = 0;
      return none;
    }
    pruned = query;
    pruned.valueHint->anyOf = std::move(present);
    qp = &pruned;
  }
  const EntityQuery& q = *qp;
  // Statements with long IN lists are not worth caching.
  std::string sql = querySql(q);
  Statement uncached;
  Statement* s = nullptr;
  if (q.ids.size() + q.typeIris.size() + (q.valueHint ? q.valueHint->anyOf.size() : 0) <= 8) {
    auto st = lease->statement(sql);
    if (!st) return st.status();
    s = *st;
  } else {
    auto st = Statement::prepare(lease->conn.get(), sql);
    if (!st) return st.status();
    uncached = std::move(st).value();
    s = &uncached;
  }
  bindQuery(*s, tenant, q);

  QueryResult result;
  size_t matched = 0;
  const size_t end = q.offset + q.limit;
  // Candidates are parsed into one scratch document whose memory is recycled row by row; only
  // the entities of the page are copied out.
  char buffer[32 << 10];
  rapidjson::MemoryPoolAllocator<> scratchMemory(buffer, sizeof buffer);
  JsonDocument scratch(&scratchMemory);
  for (;;) {
    int rc = s->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      s->reset();
      return sqliteError(lease->conn.get(), rc, "query entities");
    }
    scratch.SetNull();
    scratchMemory.Clear();
    ALLMENDE_RETURN_IF_ERROR(parseDoc(s->text(0), scratch));
    if (!hasAnyAttribute(scratch, q.attrs)) continue;
    if (q.match && !q.match(scratch)) continue;
    if (matched >= q.offset && matched < end) {
      result.entities.emplace_back();
      result.entities.back().CopyFrom(scratch, result.entities.back().GetAllocator());
    }
    ++matched;
    if (!q.count && matched >= end) break;
  }
  s->reset();
  if (q.count) result.total = matched;
  return result;
}

Result<std::vector<AttributeStat>> SqliteStore::attributeStats(const TenantId& tenant) {
  auto leased = leaseReader();
  if (!leased) return leased.status();
  ReaderLease& lease = *leased;
  std::vector<AttributeStat> out;
  // Types with their entity counts (attribute ""), then per type and attribute.
  static const std::string kTypes = "SELECT type, count(*) FROM entity_types WHERE tenant=?1 GROUP BY type";
  static const std::string kAttrs =
      "SELECT t.type, j.key, json_extract(j.value, '$[0].type'), count(*) "
      "FROM entity_types t JOIN entities e ON e.tenant = t.tenant AND e.seq = t.seq, json_each(e.doc, '$.attrs') j "
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
  auto leased = leaseReader();
  if (leased) {
    ReaderLease& lease = *leased;
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
      Status st = run(ws_.savepoint, "savepoint");
      if (st.isOk()) {
        st = applyOp(*p->tenant, op);
        if (!st.isOk()) run(ws_.rollbackTo, "rollback to savepoint");
        run(ws_.release, "release savepoint");
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

Status SqliteStore::run(Statement& s, const char* what) {
  int rc = s.step();
  s.reset();
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::ok() : sqliteError(writer_.get(), rc, what);
}

Status SqliteStore::applyOp(const TenantId& tenant, WriteOp& op) {
  Statement& load = ws_.load;
  load.reset();
  load.bindStatic(1, tenant);
  load.bindStatic(2, op.entityId);
  int rc = load.step();
  int64_t seq = 0;
  JsonDocument current;
  if (rc == SQLITE_ROW) {
    seq = load.int64(0);
    ALLMENDE_RETURN_IF_ERROR(parseDoc(load.text(1), current));
  } else if (rc != SQLITE_DONE) {
    load.reset();
    return sqliteError(writer_.get(), rc, "load entity");
  }
  load.reset();

  Result<WriteEffect> effect = op.apply(seq ? &current : nullptr);
  if (!effect) return effect.status();
  const IndexEntries before = seq ? indexEntriesOf(current) : IndexEntries{};
  switch (effect->kind) {
    case WriteEffect::Kind::kNone:
      return Status::ok();
    case WriteEffect::Kind::kDelete:
      if (!seq) return Status::ok();
      ALLMENDE_RETURN_IF_ERROR(updateIndexes(tenant, seq, before, IndexEntries{}));
      ws_.remove.bindStatic(1, tenant);
      ws_.remove.bind(2, seq);
      return run(ws_.remove, "delete entity");
    case WriteEffect::Kind::kUpsert:
      break;
  }
  const Json& entity = effect->entity;
  IndexEntries after = indexEntriesOf(entity);
  if (after.geo.size() > static_cast<size_t>(kGeoSlots)) {
    return badRequestData("an entity may have at most " + std::to_string(kGeoSlots) + " GeoProperty instances");
  }
  std::string text = toJsonString(entity);
  if (seq) {
    ws_.update.bindStatic(1, tenant);
    ws_.update.bind(2, seq);
    ws_.update.bindStatic(3, text);
    ALLMENDE_RETURN_IF_ERROR(run(ws_.update, "update entity"));
  } else {
    seq = ++lastSeq_;
    ws_.insert.bindStatic(1, tenant);
    ws_.insert.bind(2, seq);
    ws_.insert.bindStatic(3, op.entityId);
    ws_.insert.bindStatic(4, text);
    ALLMENDE_RETURN_IF_ERROR(run(ws_.insert, "insert entity"));
  }
  return updateIndexes(tenant, seq, before, after);
}

Status SqliteStore::updateIndexes(const TenantId& tenant, int64_t seq, const IndexEntries& before,
                                  const IndexEntries& after) {
  if (before.types != after.types) {
    for (const auto& t : before.types) {
      ws_.removeType.bindStatic(1, tenant);
      ws_.removeType.bindStatic(2, t);
      ws_.removeType.bind(3, seq);
      ALLMENDE_RETURN_IF_ERROR(run(ws_.removeType, "remove type"));
    }
    for (const auto& t : after.types) {
      ws_.insertType.bindStatic(1, tenant);
      ws_.insertType.bindStatic(2, t);
      ws_.insertType.bind(3, seq);
      ALLMENDE_RETURN_IF_ERROR(run(ws_.insertType, "index type"));
    }
  }
  // Attribute values: only the difference (sensor updates change one or two values).
  std::vector<std::pair<std::string, IndexValue>> gone, added;
  std::set_difference(before.values.begin(), before.values.end(), after.values.begin(), after.values.end(),
                      std::back_inserter(gone));
  std::set_difference(after.values.begin(), after.values.end(), before.values.begin(), before.values.end(),
                      std::back_inserter(added));
  for (auto* list : {&gone, &added}) {
    Statement& s = list == &gone ? ws_.valueRemove : ws_.valueInsert;
    for (const auto& [attr, value] : *list) {
      s.bindStatic(1, tenant);
      s.bindStatic(2, attr);
      bindIndexValue(s, 3, value);
      s.bind(4, seq);
      ALLMENDE_RETURN_IF_ERROR(run(s, "index attribute value"));
    }
  }
  if (before.geo != after.geo) {
    for (size_t k = 0; k < before.geo.size(); ++k) {
      const auto& g = before.geo[k];
      if (g.point) {
        ws_.pointRemove.bindStatic(1, tenant);
        ws_.pointRemove.bindStatic(2, g.attr);
        ws_.pointRemove.bind(3, sqlite::zKey(g.box.minX, g.box.minY));
        ws_.pointRemove.bind(4, seq);
        ALLMENDE_RETURN_IF_ERROR(run(ws_.pointRemove, "remove point"));
      } else {
        ws_.geoRemove.bind(1, seq * kGeoSlots + static_cast<int64_t>(k));
        ALLMENDE_RETURN_IF_ERROR(run(ws_.geoRemove, "remove geometry"));
      }
    }
    for (size_t k = 0; k < after.geo.size(); ++k) {
      const auto& g = after.geo[k];
      if (g.point) {
        ws_.pointInsert.bindStatic(1, tenant);
        ws_.pointInsert.bindStatic(2, g.attr);
        ws_.pointInsert.bind(3, sqlite::zKey(g.box.minX, g.box.minY));
        ws_.pointInsert.bind(4, seq);
        ALLMENDE_RETURN_IF_ERROR(run(ws_.pointInsert, "index point"));
        continue;
      }
      ws_.geoInsert.bind(1, seq * kGeoSlots + static_cast<int64_t>(k));
      ws_.geoInsert.bind(2, g.box.minX);
      ws_.geoInsert.bind(3, g.box.maxX);
      ws_.geoInsert.bind(4, g.box.minY);
      ws_.geoInsert.bind(5, g.box.maxY);
      ws_.geoInsert.bindStatic(6, tenant);
      ws_.geoInsert.bindStatic(7, g.attr);
      ALLMENDE_RETURN_IF_ERROR(run(ws_.geoInsert, "index geometry"));
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options) {
  // Memory statistics take a global mutex on every allocation; each connection is used by one
  // thread at a time, so SQLite's own connection mutexes are not needed either.
  static std::once_flag configured;
  std::call_once(configured, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
  });
  auto store = std::make_unique<SqliteStore>(options);
  ALLMENDE_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace allmende::store
