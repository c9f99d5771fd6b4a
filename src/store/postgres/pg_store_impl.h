// The PostgreSQL store's class, shared by its reading (pg_store.cc), writing (pg_writer.cc) and
// temporal (pg_temporal.cc) parts. Private to store/postgres.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "store/notification_store.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/index_entries.h"
#include "store/temporal.h"

namespace allmende::store::postgres {

using sqlite::IndexEntries;

// Strings of the value index are cut after this many bytes (pg_schema.cc, attr_values).
inline constexpr size_t kValuePrefix = 512;

// What one op of a write decided, worked out from the entity's locked current state.
struct OpOutcome {
  WriteEffect::Kind kind = WriteEffect::Kind::kNone;
  std::string text;                    // the new document (kUpsert)
  std::vector<std::string> attrNames;  // its attribute names (kUpsert)
  bool isNew = false;                  // kUpsert of an entity that does not exist
  IndexEntries before, after;          // index entries of the old and new state
  model::HistoryChange history;        // model::diffHistory
  std::vector<OutboxEntry> notifications;
};

class PgStore final : public Store, public TemporalStore {
 public:
  explicit PgStore(PostgresOptions options, PgTarget target)
      : options_(std::move(options)), pool_(target.conninfo, target.schema, options_.maxConnections) {}

  Status init();

  Result<JsonDocument> getEntity(const TenantId& tenant, const std::string& id) override;
  Result<QueryResult> queryEntities(const TenantId& tenant, const EntityQuery& q) override;
  std::vector<Status> write(const TenantId& tenant, std::vector<WriteOp> ops) override;
  Result<std::vector<AttributeStat>> attributeStats(const TenantId& tenant) override;
  bool tenantExists(const TenantId& tenant) override;
  StoreStats stats() override;
  TemporalStore* temporal() override { return this; }
  void setSubscriptionMatcher(const SubscriptionMatcher* matcher) override { matcher_ = matcher; }
  void setCommitListener(std::function<void()> listener) override { commitListener_ = std::move(listener); }

  // pg_temporal.cc (store/temporal.h)
  Result<TemporalEntity> history(const TenantId& tenant, const std::string& id, const InstanceQuery& q) override;
  Result<AggregatedEntity> aggregate(const TenantId& tenant, const std::string& id, const AggregationQuery& q) override;
  Status appendInstances(const TenantId& tenant, const std::string& id, const std::string& types,
                         const std::vector<model::HistoryInstance>& instances) override;
  Status deleteHistory(const TenantId& tenant, const std::string& id, const std::string& attr,
                       std::optional<std::string> datasetId, int64_t instanceId) override;
  Status modifyInstance(const TenantId& tenant, const std::string& id, const std::string& attr, int64_t instanceId,
                        const model::HistoryInstance& replacement, Micros now) override;
  Result<size_t> purgeHistoryBefore(const TenantId& tenant, Micros cutoff) override;
  Result<std::vector<TenantId>> historyTenants() override;
  Result<std::vector<std::string>> historyIds(const TenantId& tenant) override;
  Status restoreHistory(const TenantId& tenant, const std::string& id, const std::string& types,
                        const std::vector<StoredInstance>& instances, bool replace) override;
  Status deleteTenantHistory(const TenantId& tenant) override;
  Result<TenantUsage> usage(const TenantId& tenant) override;

 private:
  // pg_writer.cc
  // One attempt at the whole write in one transaction; with `savepoints`, an op whose SQL fails
  // is rolled back alone. Fails (nothing written) on a store error outside an op.
  // Without savepoints, an op whose SQL fails aborts the attempt (`opFailedInSql`).
  Status runWrite(Connection& c, const TenantId& tenant, std::vector<WriteOp>& ops, bool savepoints,
                  std::vector<Status>& results, bool& outboxWritten, bool& opFailedInSql);
  // apply, index entries, history and notifications of one op against `current`; the new state
  // goes to `next`.
  Status work(const TenantId& tenant, WriteOp& op, const Json* current, OpOutcome& out, JsonDocument& next) const;
  // Stores an op's outcome: the entity row and its index rows (seq: its row, 0 when new).
  // One statement: the entity row, its index rows, history and outbox rows. `seq` of a new
  // entity is taken from `fresh` (numbers drawn from entity_seq for this write).
  Status storeOp(Connection& c, const TenantId& tenant, const std::string& id, int64_t& seq, const OpOutcome& o,
                 std::vector<int64_t>& fresh);
  // pg_temporal.cc: the history of a change (inside the write's transaction).
  Status storeHistory(Connection& c, const TenantId& tenant, const model::HistoryChange& change);
  // Runs `body` in one transaction on a connection of the pool and records the tenant.
  Status inTransaction(const TenantId& tenant, const std::function<Status(Connection&)>& body);
  void noteTenant(const TenantId& tenant);
  bool tenantKnown(const TenantId& tenant);

  PostgresOptions options_;
  ConnectionPool pool_;
  const SubscriptionMatcher* matcher_ = nullptr;
  std::function<void()> commitListener_;

  std::mutex mu_;
  std::set<TenantId> knownTenants_;  // GUARDED_BY(mu_): tenants seen to exist (they never vanish)
  StoreStats stats_;                 // GUARDED_BY(mu_)
};

// The statements of a change as data-modifying CTEs of one statement ("name AS (...)"), and
// running them: the history of a change (pg_temporal.cc), its index rows and outbox rows
// (pg_writer.cc). `p` collects the parameters.
void historyParts(const TenantId& tenant, const model::HistoryChange& change, Params& p,
                  std::vector<std::string>& parts);
Status runParts(Connection& c, const std::vector<std::string>& parts, const Params& p);

// Parses a stored document (json column text).
Status parseDoc(const char* text, JsonDocument& doc);

}  // namespace allmende::store::postgres
