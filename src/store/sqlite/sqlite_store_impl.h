// The SQLite store's class, shared by its reading (sqlite_store.cc) and writing
// (sqlite_writer.cc) halves. Private to store/sqlite.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/audit_journal.h"
#include "store/sqlite/dictionary.h"
#include "store/sqlite/history.h"
#include "store/sqlite/index_entries.h"
#include "store/sqlite/sqlite_handles.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/trail.h"
#include "store/temporal.h"

namespace allmende::store::sqlite {

// Entities are clustered by (tenant, seq): seq is the creation order, the stable order of query
// results, so a tenant scan reads in order without a separate index. Tenants, entity types and
// attribute names are integer ids (dictionary.h) in every index. GeoProperty Points go to
// geo_points under their Z-order key; other geometries to the R*Tree, where the k-th
// GeoProperty instance of entity seq is gid = seq * kGeoSlots + k. attr_values holds every
// scalar an attribute exposes to q (index_entries.h).
inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS entities (
  tenant INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  id     TEXT NOT NULL,
  doc    TEXT NOT NULL,        -- the entity in the internal form, as JSON
  PRIMARY KEY (tenant, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS entities_by_id ON entities (tenant, id);
CREATE TABLE IF NOT EXISTS entity_types (
  tenant INTEGER NOT NULL,
  type   INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (tenant, type, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS geo_points (
  tenant INTEGER NOT NULL,
  attr   INTEGER NOT NULL,
  z      INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  x      REAL,                 -- the point: the box of a query is checked on the index rows
  y      REAL,
  PRIMARY KEY (tenant, attr, z, seq)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS geo_index USING rtree (gid, minX, maxX, minY, maxY, +tenant, +attr);
CREATE TABLE IF NOT EXISTS attr_values (
  tenant INTEGER NOT NULL,
  attr   INTEGER NOT NULL,
  v      ANY NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (tenant, attr, v, seq)
) WITHOUT ROWID;
)sql";
inline constexpr int64_t kGeoSlots = 1024;  // GeoProperty instances indexed per entity
inline constexpr size_t kZRanges = 16;      // key ranges of a box query on geo_points
// PRAGMA user_version of the schema above. 1: geo_points has x and y (older files are migrated).
inline constexpr int kSchemaVersion = 1;

// `text` is a column value: SQLite terminates it with NUL, which RapidJSON's fast path needs.
Status parseDoc(std::string_view text, JsonDocument& doc);
void bindIndexValue(Statement& s, int i, const IndexValue& v);

// Statements of the writer connection, prepared once.
struct WriterStatements {
  Statement load, insert, update, remove;
  Statement insertType, removeType;
  Statement geoInsert, geoRemove, pointInsert, pointRemove;
  Statement valueInsert, valueRemove;
  Statement savepoint, release, rollbackTo;
  Statement journalInsert;  // store/audit_journal.h
};

// An op worked out on the caller's thread against a snapshot (optimistic): the writer only
// checks that the entity is still as it was and stores the result, else it runs `apply` itself.
struct PreparedOp {
  bool valid = false;
  Status error;          // apply failed on the snapshot: the op's answer, nothing to write
  bool existed = false;  // the snapshot had the entity ...
  std::string expected;  // ... with this document text
  WriteEffect::Kind kind = WriteEffect::Kind::kNone;
  std::string text;  // the new document (kUpsert)
  IndexEntries before, after;
  ChangeTrail trail;  // what the change leaves behind besides the new state (trail.h)
};

struct PendingWrite {
  const TenantId* tenant;
  std::vector<WriteOp>* ops;
  std::vector<PreparedOp> prepared;  // one per op
  std::vector<Status> results;
  std::promise<void> done;
  // A store-internal write (temporal API) run on the writer thread in its own savepoint instead
  // of `ops` (then one placeholder op); its status is the op's result.
  std::function<Status(int64_t tenant)> task;
  // The audit journal entry of the request that makes this write (store/audit_journal.h), or
  // null; `journaled` when this run of the group stored its row.
  JournalEntry* journal = nullptr;
  bool journaled = false;
};

class SqliteStore final : public Store, public TemporalStore {
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
  Result<TenantUsage> usage(const TenantId& tenant) override;
  TemporalStore* temporal() override { return this; }

  // temporal_store.cc, temporal_writes.cc (store/temporal.h)
  Result<TemporalEntity> history(const TenantId& tenant, const std::string& id, const InstanceQuery& q) override;
  Result<AggregatedEntity> aggregate(const TenantId& tenant, const std::string& id, const AggregationQuery& q) override;
  Status appendInstances(const TenantId& tenant, const std::string& id, const std::string& types,
                         const std::vector<model::HistoryInstance>& instances) override;
  Status deleteHistory(const TenantId& tenant, const std::string& id, const std::string& attr,
                       std::optional<std::string> datasetId, int64_t instanceId) override;
  Status modifyInstance(const TenantId& tenant, const std::string& id, const std::string& attr, int64_t instanceId,
                        const model::HistoryInstance& replacement, Micros now) override;
  Result<std::vector<std::string>> historyIds(const TenantId& tenant) override;
  Status restoreHistory(const TenantId& tenant, const std::string& id, const std::string& types,
                        const std::vector<StoredInstance>& instances, bool replace) override;
  Status deleteTenantHistory(const TenantId& tenant) override;
  Result<size_t> purgeHistoryBefore(const TenantId& tenant, Micros cutoff) override;
  Result<std::vector<TenantId>> historyTenants() override;
  void setSubscriptionMatcher(const SubscriptionMatcher* matcher) override { matcher_ = matcher; }
  void setCommitListener(std::function<void()> listener) override { commitListener_ = std::move(listener); }

  // A read-only connection with its statement cache, lent to one thread at a time.
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
  // Runs a scan and applies the exact filters and paging of `q` to its rows.
  Result<QueryResult> runQuery(Reader& reader, const std::string& sql, size_t paramCount,
                               const std::function<void(Statement&)>& bind, const EntityQuery& q);
  // The same for a scan yielding candidate seqs (ScanPlan::candidateSeqs), read in one snapshot.
  Result<QueryResult> runCandidates(Reader& reader, int64_t tenant, const std::string& sql,
                                    const std::function<void(Statement&)>& bind, const EntityQuery& q);
  Result<QueryResult> scanCandidates(Reader& reader, int64_t tenant, const std::string& sql,
                                     const std::function<void(Statement&)>& bind, const EntityQuery& q);

  // Brings a file written by an older version to kSchemaVersion (writer connection, at start).
  Status migrate();

  // sqlite_writer.cc
  Status prepareWriter();
  void writerLoop();
  void commitGroup(std::vector<PendingWrite*>& group);
  struct GroupRun {
    enum Outcome { kCommitted, kFailed, kNeedsSavepoints } outcome = kFailed;
    Status error;    // kFailed: the store error every op of the group gets
    size_t ops = 0;  // ops run
  };
  // One transaction over the group, with or without a savepoint per op; rolled back unless
  // kCommitted.
  GroupRun runGroup(std::vector<PendingWrite*>& group, bool savepoints);
  Status applyPending(PendingWrite& p, bool savepoints, size_t& opCount, bool& failedAfterWriting);
  // `wrote`: whether the op began writing (so that a failure needs a rollback).
  Status applyOp(const TenantId& tenantName, int64_t tenant, WriteOp& op, const PreparedOp& prepared, bool& wrote);
  // Runs `apply` on the snapshot state of each op (caller's thread, reader connection).
  void prepare(const TenantId& tenant, std::vector<WriteOp>& ops, std::vector<PreparedOp>& out);
  // The work shared by prepare() and the writer: apply, check, serialize, index entries, trail.
  Status work(const TenantId& tenant, WriteOp& op, const Json* current, PreparedOp& out) const;
  Status run(Statement& s, const char* what);
  // Makes the index rows of entity `seq` go from `before` to `after`.
  Status updateIndexes(int64_t tenant, int64_t seq, const IndexEntries& before, const IndexEntries& after);

  // trail.cc: the trail of an op whose entity goes from `before` to `after` (either may be null;
  // `after` is null for a delete), and storing it in the open transaction.
  void traceChange(const TenantId& tenant, const Json* before, const Json* after, ChangeTrail& out) const;
  // `created`: the change created entity `seq` (a hint for the history, history.h).
  Status storeTrail(int64_t tenant, int64_t seq, const ChangeTrail& trail, bool created);
  // temporal_store.cc: the history id of entity `id` and its (attribute, dataset) series.
  struct HistoryScope;
  class TemporalReader;
  Result<HistoryScope> historyScope(Reader& r, const TenantId& tenant, const std::string& id,
                                    const std::vector<std::string>& attrs, const std::optional<std::string>& datasetId);
  Status findSeries(Reader& r, const std::vector<std::string>& attrs, const std::optional<std::string>& datasetId,
                    HistoryScope& scope);
  // Runs `task` on the writer thread in a group commit (temporal_writes.cc).
  Status runOnWriter(const TenantId& tenant, std::function<Status(int64_t tenant)> task);
  // Writer thread: runs p.task in its own savepoint; whether it succeeded.
  bool applyTask(PendingWrite& p, int64_t tenant, size_t& opCount);
  // outbox.cc: the notifications of a change, and their outbox rows.
  void traceNotifications(const TenantId& tenant, const Json* before, const Json* after, ChangeTrail& out) const;
  Status storeNotifications(int64_t tenant, const ChangeTrail& trail);
  Status prepareOutbox();
  const SubscriptionMatcher* matcher_ = nullptr;
  std::function<void()> commitListener_;
  Statement outboxInsert_;      // writer thread only
  bool outboxWritten_ = false;  // writer thread only: this group stored outbox rows

  SqliteOptions options_;
  Connection writer_;
  WriterStatements ws_;
  int64_t lastSeq_ = 0;  // writer thread only
  Dictionary tenants_{"tenants"};
  Dictionary terms_{"terms"};
  HistoryWriter history_;  // writer thread only

  std::mutex queueMutex_;
  std::condition_variable queueCv_;
  std::deque<PendingWrite*> queue_;  // GUARDED_BY(queueMutex_)
  bool stopping_ = false;            // GUARDED_BY(queueMutex_)
  std::thread writerThread_;

  std::mutex readersMutex_;
  std::condition_variable readersCv_;
  std::vector<std::unique_ptr<Reader>> readers_;  // GUARDED_BY(readersMutex_): idle readers
  size_t readersOpen_ = 0;                        // GUARDED_BY(readersMutex_)

  // Checkpoints run here, not in the writer: a checkpoint syncs the file, and the writer must not
  // wait for that between two group commits.
  void checkpointLoop();
  std::thread checkpointThread_;
  std::condition_variable checkpointCv_;  // with queueMutex_; woken at stop

  std::mutex statsMutex_;
  StoreStats stats_;  // GUARDED_BY(statsMutex_)
};

}  // namespace allmende::store::sqlite
