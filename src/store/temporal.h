// The temporal side of the store (NGSI-LD 5.6.11 - 5.6.16, 5.7.3, 5.7.4): the history of every
// attribute as attribute instances, read by time range, per entity, and aggregated per period
// inside the database. One interface, one implementation per database (store/sqlite/ now).
//
// The history is written by the store itself: every entity write leaves its new and deleted
// attribute instances (model/history.h) in the same transaction. Entities are named by id; the
// history of an id outlives the entity (deleted and re-created entities continue one history).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "model/history.h"

namespace allmende::store {

using TenantId = std::string;

// NGSI-LD 4.11 temporal query: which instances, by which of their timestamps.
struct TimeFilter {
  enum class Rel { kNone, kBefore, kAfter, kBetween };
  enum class Property { kObservedAt, kCreatedAt, kModifiedAt };
  Rel rel = Rel::kNone;
  Property property = Property::kObservedAt;
  Micros timeAt = 0;
  Micros endTimeAt = 0;  // kBetween only
};

struct InstanceQuery {
  TimeFilter time;
  std::vector<std::string> attrs;        // expanded names; empty = every attribute
  std::optional<std::string> datasetId;  // only this dataset ("" = default instances)
  // Per attribute: at most `limit` instances, the first ones in time order, or the last ones
  // when `fromEnd` (lastN). `truncated` in the answer tells whether more matched.
  size_t limit = 1000;
  bool fromEnd = false;
};

// One stored instance: the compact form plus its identity and modification time.
struct StoredInstance {
  int64_t instanceId = 0;
  Micros modifiedAt = 0;  // recordedAt unless modified through the temporal API
  model::HistoryInstance h;
};

struct AttributeHistory {
  std::string attr;
  std::vector<StoredInstance> instances;  // in ascending order of the time property
  bool truncated = false;                 // more instances matched than `limit`
};

struct TemporalEntity {
  std::string id;
  std::string types;  // JSON array of type IRIs
  std::vector<AttributeHistory> attrs;
};

// NGSI-LD 4.5.19 aggregation methods.
enum class AggrMethod { kTotalCount, kDistinctCount, kSum, kAvg, kMin, kMax, kStddev, kSumsq };

// An ISO 8601 duration split into its calendar part (months) and its exact part (micros).
struct Period {
  int64_t months = 0;
  Micros micros = 0;
  bool zero() const { return months == 0 && micros == 0; }
};

struct AggregationQuery {
  TimeFilter time;
  std::vector<std::string> attrs;
  std::vector<AggrMethod> methods;
  Period period;  // zero: one period over the whole range
  size_t maxPeriods = 10000;
};

// The aggregates of one period [start, end) of one attribute (and dataset).
struct PeriodAggregate {
  Micros start = 0, end = 0;
  int64_t count = 0, distinct = 0, numbers = 0;
  double sum = 0, sumsq = 0;
  std::optional<double> min, max;               // over numeric values (booleans as 0/1)
  std::optional<std::string> minText, maxText;  // over string values, when there are no numbers
};

struct AttributeAggregate {
  std::string attr;
  std::string datasetId;
  std::string kind;  // Property, Relationship, ...
  std::vector<PeriodAggregate> periods;
};

struct AggregatedEntity {
  std::string id;
  std::string types;
  std::vector<AttributeAggregate> attrs;
};

class TemporalStore {
 public:
  virtual ~TemporalStore() = default;

  // The history of one entity id (also of a deleted entity). ResourceNotFound when the tenant
  // never had an entity with that id.
  virtual Result<TemporalEntity> history(const TenantId& tenant, const std::string& id, const InstanceQuery& q) = 0;

  // Aggregates per period, computed in the database. ResourceNotFound as history(). Periods
  // start at timeAt (after, between) or at the first instance (before, no filter); periods
  // without instances are left out. More than maxPeriods periods: TooManyResults.
  virtual Result<AggregatedEntity> aggregate(const TenantId& tenant, const std::string& id,
                                             const AggregationQuery& q) = 0;

  // Writes instances given directly (temporal API, 5.6.12): appended to the history of `id`,
  // creating it with `types` (JSON array) when new. Not reflected in the current entity.
  virtual Status appendInstances(const TenantId& tenant, const std::string& id, const std::string& types,
                                 const std::vector<model::HistoryInstance>& instances) = 0;

  // Removes history: all of an entity (attr empty), one attribute (optionally one dataset), or
  // one instance (instanceId != 0). ResourceNotFound when nothing matched.
  virtual Status deleteHistory(const TenantId& tenant, const std::string& id, const std::string& attr,
                               std::optional<std::string> datasetId, int64_t instanceId) = 0;

  // Replaces one instance's content (5.6.15); its time key and id stay. ResourceNotFound if absent.
  virtual Status modifyInstance(const TenantId& tenant, const std::string& id, const std::string& attr,
                                int64_t instanceId, const model::HistoryInstance& replacement, Micros now) = 0;

  // Retention: removes the instances of one tenant whose time (observedAt, else the recording
  // time) is before `cutoff`, and their rollups. Returns the number removed.
  virtual Result<size_t> purgeHistoryBefore(const TenantId& tenant, Micros cutoff) = 0;

  // The tenants that have history.
  virtual Result<std::vector<TenantId>> historyTenants() = 0;

  // The entity ids with history in the tenant (also of deleted entities), oldest history first
  // (the tenant archive, api/tenant_export.h).
  virtual Result<std::vector<std::string>> historyIds(const TenantId& tenant) = 0;
  // Writes instances exactly as stored elsewhere (tenant import): their instance ids, recording
  // and modification times are kept. `replace`: the history of `id` held so far is dropped first
  // (the history that importing the entity itself left). Rollups are recomputed.
  virtual Status restoreHistory(const TenantId& tenant, const std::string& id, const std::string& types,
                                const std::vector<StoredInstance>& instances, bool replace) = 0;
  // Removes the whole history of the tenant (the tenant is deleted).
  virtual Status deleteTenantHistory(const TenantId& tenant) = 0;
};

}  // namespace allmende::store
