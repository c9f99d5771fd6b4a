// The read half of the SQLite store, its start and its reader pool. Writes: sqlite_writer.cc.
#include <algorithm>
#include <chrono>
#include <variant>

#include "store/sqlite/sqlite_store_impl.h"
#include "store/sqlite/zorder.h"

namespace allmende::store {

namespace sqlite {

namespace {

// The reader a thread holds, so that a read nested in another (a linked entity looked up while
// a query runs) shares its connection instead of waiting for a second one.
thread_local const void* tlsReaderOwner = nullptr;
thread_local SqliteStore::Reader* tlsReader = nullptr;

// One entity's document by id (retrieval, and the snapshot read of prepared writes).
const std::string kSelectDocById = "SELECT doc FROM entities WHERE tenant=?1 AND id=?2";

}  // namespace

Status parseDoc(std::string_view text, JsonDocument& doc) {
  if (parseJsonText(text.data(), doc).IsError()) return internalError("corrupt entity document in store");
  return Status::ok();
}

void bindIndexValue(Statement& s, int i, const IndexValue& v) {
  if (const double* d = std::get_if<double>(&v)) {
    s.bind(i, *d);
  } else {
    s.bindStatic(i, std::get<std::string>(v));
  }
}

// Owns a Reader and returns it to the pool at the end, or borrows the one the thread holds.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* s, std::unique_ptr<Reader> r) : store_(s), owned_(std::move(r)), reader_(owned_.get()) {
    tlsReaderOwner = s;
    tlsReader = reader_;
  }
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
  Reader& operator*() { return *reader_; }

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

// ---- start and stop ---------------------------------------------------------------------------

Status SqliteStore::init() {
  auto conn = Connection::open(options_.path, false);
  if (!conn) return conn.status();
  writer_ = std::move(conn).value();
  ALLMENDE_RETURN_IF_ERROR(writer_.exec("PRAGMA page_size=8192; PRAGMA journal_mode=WAL"));
  ALLMENDE_RETURN_IF_ERROR(
      writer_.exec(options_.durability == "full" ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  // Savepoint journals stay in memory; the writer keeps the hot part of the indexes cached.
  ALLMENDE_RETURN_IF_ERROR(writer_.exec("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536"));
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(kSchema));
  ALLMENDE_RETURN_IF_ERROR(migrate());
  ALLMENDE_RETURN_IF_ERROR(tenants_.open(writer_.get()));
  ALLMENDE_RETURN_IF_ERROR(terms_.open(writer_.get()));
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(kAuditJournalSchema));
  ALLMENDE_RETURN_IF_ERROR(prepareWriter());
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(kHistorySchema));
  ALLMENDE_RETURN_IF_ERROR(history_.open(writer_.get()));
  ALLMENDE_RETURN_IF_ERROR(prepareOutbox());
  // Instead of SQLite's automatic checkpoint (which syncs the file on the writer thread every
  // 1000 pages), checkpointLoop() copies the log in the background; the writer only restarts
  // the log when it has grown past walRestartFrames, which then costs little.
  sqlite3_wal_hook(
      writer_.get(),
      [](void* self, sqlite3* db, const char*, int frames) {
        if (frames >= static_cast<SqliteStore*>(self)->options_.walRestartFrames) {
          sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
        }
        return SQLITE_OK;
      },
      this);
  writerThread_ = std::thread([this] { writerLoop(); });
  checkpointThread_ = std::thread([this] { checkpointLoop(); });
  return Status::ok();
}

Status SqliteStore::migrate() {
  auto version = Statement::prepare(writer_.get(), "PRAGMA user_version");
  if (!version) return version.status();
  const int64_t v = version->step() == SQLITE_ROW ? version->int64(0) : 0;
  if (v >= kSchemaVersion) return Status::ok();
  // Version 0 files: geo_points without the point. A new file already has the columns.
  auto columns =
      Statement::prepare(writer_.get(), "SELECT count(*) FROM pragma_table_info('geo_points') WHERE name='x'");
  if (!columns) return columns.status();
  const bool hasPoint = columns->step() == SQLITE_ROW && columns->int64(0) > 0;
  if (!hasPoint) {
    ALLMENDE_RETURN_IF_ERROR(
        writer_.exec("BEGIN IMMEDIATE; ALTER TABLE geo_points ADD COLUMN x REAL; "
                     "ALTER TABLE geo_points ADD COLUMN y REAL; DELETE FROM geo_points"));
    auto scan = Statement::prepare(writer_.get(), "SELECT tenant, seq, doc FROM entities");
    auto insert = Statement::prepare(writer_.get(),
                                     "INSERT OR IGNORE INTO geo_points (tenant, attr, z, seq, x, y) "
                                     "SELECT ?1, id, ?3, ?4, ?5, ?6 FROM terms WHERE key=?2");
    if (!scan || !insert) return (scan ? insert.status() : scan.status());
    while (scan->step() == SQLITE_ROW) {
      JsonDocument doc;
      ALLMENDE_RETURN_IF_ERROR(parseDoc(scan->text(2), doc));
      for (const auto& g : indexEntriesOf(doc).geo) {
        if (!g.point) continue;
        insert->bind(1, scan->int64(0));
        insert->bindStatic(2, g.attr);
        insert->bind(3, zKey(g.box.minX, g.box.minY));
        insert->bind(4, scan->int64(1));
        insert->bind(5, g.box.minX);
        insert->bind(6, g.box.minY);
        if (insert->step() != SQLITE_DONE) return sqliteError(writer_.get(), SQLITE_ERROR, "migrate geo_points");
        insert->reset();
      }
    }
    ALLMENDE_RETURN_IF_ERROR(writer_.exec("COMMIT"));
  }
  return writer_.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
}

void SqliteStore::checkpointLoop() {
  auto conn = Connection::open(options_.path, false);
  // The connection reads the file header (and so learns it is in WAL mode) on first use.
  if (!conn || !conn->exec("PRAGMA journal_mode=WAL").isOk()) return;
  std::unique_lock<std::mutex> lock(queueMutex_);
  while (!stopping_) {
    checkpointCv_.wait_for(lock, std::chrono::milliseconds(options_.checkpointMillis));
    lock.unlock();
    // PASSIVE: copies what no reader still needs and never blocks the writer or readers.
    int logFrames = 0, copied = 0;
    sqlite3_wal_checkpoint_v2(conn->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copied);
    lock.lock();
  }
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    stopping_ = true;
  }
  queueCv_.notify_all();
  checkpointCv_.notify_all();
  if (writerThread_.joinable()) writerThread_.join();
  if (checkpointThread_.joinable()) checkpointThread_.join();
}

// ---- the reader pool --------------------------------------------------------------------------

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

// ---- reads ------------------------------------------------------------------------------------

bool SqliteStore::tenantExists(const TenantId& tenant) { return tenant.empty() || tenants_.contains(tenant); }

Result<JsonDocument> SqliteStore::getEntity(const TenantId& tenant, const std::string& id) {
  auto tid = tenants_.find(tenant);
  if (!tid) return notFound("entity " + id + " not found");
  auto leased = leaseReader();
  if (!leased) return leased.status();
  ReaderLease& lease = *leased;
  auto st = lease->statement(kSelectDocById);
  if (!st) return st.status();
  Statement& s = **st;
  s.bind(1, *tid);
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

using Param = std::variant<int64_t, double, std::string>;

// One scan: its SQL (rows of `doc` in seq order, a superset of the matches) and parameters.
struct ScanPlan {
  std::string sql;
  std::vector<Param> params;
  bool empty = false;        // a condition no entity can meet (an unknown type, attribute or value)
  bool bySelection = false;  // driven by the ids, the types or the tenant (not geo or values)
  // `sql` yields candidate seqs in no order (and maybe twice), not documents: they are sorted
  // here and their documents read one by one, which costs less than SQLite sorting them into a
  // temporary index for `seq IN (...)`.
  bool candidateSeqs = false;

  std::string next(Param p) {
    params.push_back(std::move(p));
    return "?" + std::to_string(params.size());
  }
  std::string list(const std::vector<Param>& ps) {
    std::string out;
    for (const auto& p : ps) out += (out.empty() ? "" : ",") + next(p);
    return out;
  }
};

Param paramOf(const IndexValue& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  return std::get<std::string>(v);
}

// Whether the value index drives the query: always for one value (it streams in seq order); for
// value lists and ranges (whose matches are collected and sorted first) only when no type index
// can stream instead or when every match must be visited anyway (count).
bool usesValueIndex(const ValueHint& h, const EntityQuery& q) {
  if (h.anyOf.empty() && !h.lower && !h.upper) return false;
  return h.anyOf.size() == 1 || q.typeIris.empty() || q.count;
}

}  // namespace

// One index drives the scan — ids, else the spatial index, else the value index, else the type
// index, else the tenant — rows come in seq order and the exact filters run on each row in C++.
static ScanPlan planScan(int64_t tenant, const EntityQuery& q, const ValueHint* hint, const Dictionary& terms) {
  ScanPlan p;
  const std::string t = p.next(tenant);
  // Rows are (doc, seq); EntityQuery::after becomes a seq range of the driving index.
  const std::string after = q.after > 0 ? " AND seq > " + p.next(q.after) : "";
  const std::string select = "SELECT doc, seq FROM entities WHERE tenant=" + t + after;
  if (!q.ids.empty()) {
    std::vector<Param> ids(q.ids.begin(), q.ids.end());
    p.sql = select + " AND id IN (" + p.list(ids) + ") ORDER BY seq";
    p.bySelection = true;
    return p;
  }
  if (q.geoBox) {
    auto attr = terms.find(q.geoBox->attr);
    if (!attr) return {"", {}, true};
    const std::string a = p.next(*attr);
    // One range scan per Z-order range (SQLite does not turn an OR of ranges into index scans).
    std::string candidates;
    auto ranges = zRanges(q.geoBox->minX, q.geoBox->minY, q.geoBox->maxX, q.geoBox->maxY, kZRanges);
    // The point's own coordinates cut what the ranges cover beyond the box. Points in one Z-order
    // cell share a row (the first one's x, y), so the box is widened by a cell.
    const double cell = 360.0 / 2147483648.0;
    const std::string box = " AND x BETWEEN " + p.next(q.geoBox->minX - cell) + " AND " +
                            p.next(q.geoBox->maxX + cell) + " AND y BETWEEN " + p.next(q.geoBox->minY - cell) +
                            " AND " + p.next(q.geoBox->maxY + cell);
    for (const auto& [lo, hi] : ranges) {
      candidates += "SELECT seq FROM geo_points WHERE tenant=" + t + " AND attr=" + a + " AND z BETWEEN " + p.next(lo) +
                    " AND " + p.next(hi) + box + " UNION ALL ";
    }
    p.sql = candidates + "SELECT gid / " + std::to_string(kGeoSlots) +
            " FROM geo_index WHERE minX<=" + p.next(q.geoBox->maxX) + " AND maxX>=" + p.next(q.geoBox->minX) +
            " AND minY<=" + p.next(q.geoBox->maxY) + " AND maxY>=" + p.next(q.geoBox->minY) + " AND tenant=" + t +
            " AND attr=" + a;
    p.candidateSeqs = true;
    return p;
  }
  if (hint && usesValueIndex(*hint, q)) {
    auto attr = terms.find(hint->attr);
    if (!attr) return {"", {}, true};
    const std::string a = p.next(*attr);
    if (hint->anyOf.size() == 1) {  // the index yields this value's entities in seq order
      p.sql =
          "SELECT e.doc, e.seq FROM attr_values x CROSS JOIN entities e ON e.tenant=x.tenant AND e.seq=x.seq "
          "WHERE x.tenant=" +
          t + " AND x.attr=" + a + " AND x.v=" + p.next(paramOf(hint->anyOf[0])) +
          (q.after > 0 ? " AND x.seq > " + p.next(q.after) : "") + " ORDER BY x.seq";
      return p;
    }
    std::string condition;
    if (!hint->anyOf.empty()) {
      std::vector<Param> values;
      for (const auto& v : hint->anyOf) values.push_back(paramOf(v));
      condition = "v IN (" + p.list(values) + ")";
    } else {
      if (hint->lower) condition = "v >= " + p.next(paramOf(*hint->lower));
      if (hint->upper) condition += (condition.empty() ? "v <= " : " AND v <= ") + p.next(paramOf(*hint->upper));
    }
    p.sql = "SELECT seq FROM attr_values WHERE tenant=" + t + " AND attr=" + a + " AND " + condition;
    p.candidateSeqs = true;
    return p;
  }
  if (!q.typeIris.empty()) {
    std::vector<Param> types;
    for (const auto& iri : q.typeIris) {
      if (auto id = terms.find(iri)) types.push_back(*id);
    }
    if (types.empty()) return {"", {}, true};
    if (types.size() == 1) {
      p.sql =
          "SELECT e.doc, e.seq FROM entity_types y CROSS JOIN entities e ON e.tenant=y.tenant AND e.seq=y.seq "
          "WHERE y.tenant=" +
          t + " AND y.type=" + p.next(types[0]) + (q.after > 0 ? " AND y.seq > " + p.next(q.after) : "") +
          " ORDER BY y.seq";
    } else {
      p.sql = select + " AND seq IN (SELECT seq FROM entity_types WHERE tenant=" + t + " AND type IN (" +
              p.list(types) + ")) ORDER BY seq";
    }
    p.bySelection = true;
    return p;
  }
  p.sql = select + " ORDER BY seq";
  p.bySelection = true;
  return p;
}

Result<QueryResult> SqliteStore::queryEntities(const TenantId& tenant, const EntityQuery& q) {
  QueryResult empty;
  if (q.count) empty.total = 0;
  auto tid = tenants_.find(tenant);
  if (!tid) return empty;
  auto leased = leaseReader();
  if (!leased) return leased.status();
  ReaderLease& lease = *leased;

  // Values of a hint that no entity has cannot contribute a match: dropping them often leaves
  // one value, whose index streams in order (a string literal comes with its VocabProperty
  // expansion, which is rarely present).
  std::optional<ValueHint> hint = q.valueHint;
  if (hint && hint->anyOf.size() > 1) {
    auto attr = terms_.find(hint->attr);
    if (!attr) return empty;
    auto probe = lease->statement("SELECT 1 FROM attr_values WHERE tenant=?1 AND attr=?2 AND v=?3 LIMIT 1");
    if (!probe) return probe.status();
    std::vector<IndexValue> present;
    for (const auto& v : hint->anyOf) {
      Statement& s = **probe;
      s.bind(1, *tid);
      s.bind(2, *attr);
      bindIndexValue(s, 3, v);
      int rc = s.step();
      s.reset();
      if (rc == SQLITE_ROW)
        present.push_back(v);
      else if (rc != SQLITE_DONE)
        return sqliteError(lease->conn.get(), rc, "probe value index");
    }
    if (present.empty()) return empty;
    hint->anyOf = std::move(present);
  }
  ScanPlan plan = planScan(*tid, q, hint ? &*hint : nullptr, terms_);
  if (plan.empty) return empty;
  auto bind = [](const std::vector<Param>& params) {
    return [&params](Statement& s) {
      for (size_t i = 0; i < params.size(); ++i) {
        const Param& p = params[i];
        int n = static_cast<int>(i + 1);
        if (const int64_t* v = std::get_if<int64_t>(&p))
          s.bind(n, *v);
        else if (const double* d = std::get_if<double>(&p))
          s.bind(n, *d);
        else
          s.bindStatic(n, std::get<std::string>(p));
      }
    };
  };
  if (plan.candidateSeqs) return runCandidates(*lease, *tid, plan.sql, bind(plan.params), q);
  if (!(plan.bySelection && q.selectionExact && !q.match && q.attrs.empty())) {
    return runQuery(*lease, plan.sql, plan.params.size(), bind(plan.params), q);
  }
  // Every scanned row is a match: SQLite pages and counts without a document being parsed, so
  // any offset of a type or tenant listing costs an index walk, not a parse per skipped row.
  std::optional<size_t> total;
  if (q.count) {
    auto counted = lease->statement("SELECT count(*) FROM (" + plan.sql + ")");
    if (!counted) return counted.status();
    bind(plan.params)(**counted);
    int rc = (*counted)->step();
    if (rc != SQLITE_ROW) return sqliteError(lease->conn.get(), rc, "count entities");
    total = static_cast<size_t>((*counted)->int64(0));
    (*counted)->reset();
  }
  std::string sql = plan.sql + " LIMIT " + plan.next(static_cast<int64_t>(q.limit)) + " OFFSET " +
                    plan.next(static_cast<int64_t>(q.offset));
  EntityQuery page;
  page.limit = q.limit;
  auto result = runQuery(*lease, sql, plan.params.size(), bind(plan.params), page);
  if (result) result->total = total;
  return result;
}

namespace {

// Applies the exact filters and paging of `q` to the documents `next` yields in seq order (it
// returns false at the end). Candidates are parsed into one scratch document whose memory is
// recycled row by row; only the entities of the page are copied out.
Result<QueryResult> filterAndPage(const std::function<Result<bool>(std::string_view&, int64_t&)>& next,
                                  const EntityQuery& q) {
  QueryResult result;
  size_t matched = 0;
  const size_t end = q.offset + q.limit;
  char buffer[32 << 10];
  rapidjson::MemoryPoolAllocator<> scratchMemory(buffer, sizeof buffer);
  JsonDocument scratch(&scratchMemory);
  std::string_view doc;
  int64_t seq = 0;
  for (;;) {
    auto more = next(doc, seq);
    if (!more) return more.status();
    if (!*more) break;
    scratch.SetNull();
    scratchMemory.Clear();
    ALLMENDE_RETURN_IF_ERROR(parseDoc(doc, scratch));
    if (!hasAnyType(scratch, q.typeIris) || !hasAnyAttribute(scratch, q.attrs)) continue;
    if (q.match && !q.match(scratch)) continue;
    if (matched >= q.offset && matched < end) {
      result.entities.emplace_back();
      result.entities.back().CopyFrom(scratch, result.entities.back().GetAllocator());
      result.cursor = seq;
    }
    ++matched;
    if (!q.count && matched >= end) break;
  }
  if (q.count) result.total = matched;
  return result;
}

}  // namespace

Result<QueryResult> SqliteStore::runQuery(Reader& reader, const std::string& sql, size_t paramCount,
                                          const std::function<void(Statement&)>& bind, const EntityQuery& q) {
  // Statements with long parameter lists (id lists) are not worth caching.
  Statement uncached;
  Statement* s = nullptr;
  if (paramCount <= 24) {
    auto st = reader.statement(sql);
    if (!st) return st.status();
    s = *st;
  } else {
    auto st = Statement::prepare(reader.conn.get(), sql);
    if (!st) return st.status();
    uncached = std::move(st).value();
    s = &uncached;
  }
  bind(*s);
  auto result = filterAndPage(
      [&](std::string_view& doc, int64_t& seq) -> Result<bool> {
        int rc = s->step();
        if (rc == SQLITE_DONE) return false;
        if (rc != SQLITE_ROW) return sqliteError(reader.conn.get(), rc, "query entities");
        doc = s->text(0);
        seq = s->int64(1);
        return true;
      },
      q);
  s->reset();
  return result;
}

Result<QueryResult> SqliteStore::runCandidates(Reader& reader, int64_t tenant, const std::string& sql,
                                               const std::function<void(Statement&)>& bind, const EntityQuery& q) {
  // One read transaction: the documents come from the snapshot the candidates came from.
  const bool ownTransaction = !reader.conn.inTransaction();
  if (ownTransaction) ALLMENDE_RETURN_IF_ERROR(reader.conn.exec("BEGIN"));
  auto result = scanCandidates(reader, tenant, sql, bind, q);
  if (ownTransaction) reader.conn.exec("COMMIT");
  return result;
}

Result<QueryResult> SqliteStore::scanCandidates(Reader& reader, int64_t tenant, const std::string& sql,
                                                const std::function<void(Statement&)>& bind, const EntityQuery& q) {
  auto candidates = reader.statement(sql);
  if (!candidates) return candidates.status();
  Statement& c = **candidates;
  bind(c);
  std::vector<int64_t> seqs;
  int rc;
  while ((rc = c.step()) == SQLITE_ROW) seqs.push_back(c.int64(0));
  c.reset();
  if (rc != SQLITE_DONE) return sqliteError(reader.conn.get(), rc, "query candidates");
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  seqs.erase(seqs.begin(), std::upper_bound(seqs.begin(), seqs.end(), q.after));

  auto load = reader.statement("SELECT doc FROM entities WHERE tenant=?1 AND seq=?2");
  if (!load) return load.status();
  Statement& s = **load;
  size_t k = 0;
  bool stepped = false;
  auto result = filterAndPage(
      [&](std::string_view& doc, int64_t& seq) -> Result<bool> {
        for (;;) {
          if (stepped) s.reset();
          stepped = false;
          if (k == seqs.size()) return false;
          s.bind(1, tenant);
          s.bind(2, seqs[k++]);
          int rc = s.step();
          stepped = true;
          if (rc == SQLITE_ROW) {
            doc = s.text(0);
            seq = seqs[k - 1];
            return true;
          }
          if (rc != SQLITE_DONE) return sqliteError(reader.conn.get(), rc, "load candidate");
        }
      },
      q);
  if (stepped) s.reset();
  return result;
}

Result<std::vector<AttributeStat>> SqliteStore::attributeStats(const TenantId& tenant) {
  std::vector<AttributeStat> out;
  auto tid = tenants_.find(tenant);
  if (!tid) return out;
  auto leased = leaseReader();
  if (!leased) return leased.status();
  ReaderLease& lease = *leased;
  // Types with their entity counts (attribute ""), then per type and attribute.
  static const std::string kTypes =
      "SELECT m.key, count(*) FROM entity_types t JOIN terms m ON m.id = t.type WHERE t.tenant=?1 GROUP BY t.type";
  static const std::string kAttrs =
      "SELECT m.key, j.key, json_extract(j.value, '$[0].type'), count(*) "
      "FROM entity_types t JOIN terms m ON m.id = t.type JOIN entities e ON e.tenant = t.tenant AND e.seq = t.seq, "
      "json_each(e.doc, '$.attrs') j WHERE t.tenant=?1 GROUP BY 1, 2, 3";
  for (const std::string* sql : {&kTypes, &kAttrs}) {
    auto st = lease->statement(*sql);
    if (!st) return st.status();
    Statement& s = **st;
    s.bind(1, *tid);
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

// Optimistic preparation of writes (sqlite_writer.cc stores the results): here, as it reads.
void SqliteStore::prepare(const TenantId& tenant, std::vector<WriteOp>& ops, std::vector<PreparedOp>& out) {
  out.resize(ops.size());
  auto tid = tenants_.find(tenant);
  auto leased = leaseReader();
  if (!leased) return;  // the writer works everything out itself
  ReaderLease& lease = *leased;
  auto st = lease->statement(kSelectDocById);
  if (!st) return;
  Statement& s = **st;
  for (size_t i = 0; i < ops.size(); ++i) {
    PreparedOp& p = out[i];
    JsonDocument current;
    if (tid) {
      s.bind(1, *tid);
      s.bindStatic(2, ops[i].entityId);
      int rc = s.step();
      if (rc == SQLITE_ROW) {
        p.existed = true;
        p.expected = s.text(0);
        if (!parseDoc(p.expected, current).isOk()) {
          s.reset();
          continue;
        }
      } else if (rc != SQLITE_DONE) {
        s.reset();
        continue;
      }
      s.reset();
    }
    p.error = work(tenant, ops[i], p.existed ? &current : nullptr, p);
    p.valid = true;
  }
}

StoreStats SqliteStore::stats() {
  std::lock_guard<std::mutex> lock(statsMutex_);
  return stats_;
}

}  // namespace sqlite

Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options) {
  // Memory statistics take a global mutex on every allocation; each connection is used by one
  // thread at a time, so SQLite's own connection mutexes are not needed either.
  static std::once_flag configured;
  std::call_once(configured, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
  });
  auto store = std::make_unique<sqlite::SqliteStore>(options);
  ALLMENDE_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace allmende::store
