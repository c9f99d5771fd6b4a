// The Store: where entities live. One interface, one implementation per database
// (store/sqlite/ now, PostgreSQL later); nothing above it knows SQL.
//
// Entities are held in the internal expanded normalized form (docs/architecture.md). Every call
// names the tenant; no call can see or change another tenant's data.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace allmende::store {

// The tenant a call acts for; "" is the default tenant (NGSI-LD 4.14: no NGSILD-Tenant header).
using TenantId = std::string;

class SubscriptionMatcher;  // notification_store.h

// What a write operation decided to do with one entity, given its current state.
struct WriteEffect {
  enum class Kind { kNone, kUpsert, kDelete };
  Kind kind = Kind::kNone;
  // For kUpsert: the complete new state in the internal form (id, type, createdAt, modifiedAt,
  // scope, attrs). Must be an object.
  JsonDocument entity;
};

// One entity-level write. `apply` gets the entity's state (nullptr when it does not exist) and
// decides the new one; the store guarantees that the result it stores was computed from the
// state current at commit, so read-modify-write is atomic. `apply` must be pure apart from its
// result: it may run more than once (on a snapshot, then again on the current state), and its
// error is returned to the caller unchanged with nothing written.
struct WriteOp {
  std::string entityId;
  std::function<Result<WriteEffect>(const Json* current)> apply;
};

// A value of the attribute value index: numbers (booleans as 0 and 1) or strings.
using IndexValue = std::variant<double, std::string>;

// A necessary condition derived from `q` that the attribute value index can answer: the entity
// has attribute `attr` with one of `anyOf`, or (when anyOf is empty) a value within the
// inclusive bounds. The index holds every scalar an attribute exposes to q (value, object,
// vocab, languageMap, valueList and objectList elements), so the condition never loses a match.
struct ValueHint {
  std::string attr;
  std::vector<IndexValue> anyOf;
  std::optional<IndexValue> lower, upper;
};

// A necessary condition of `q`, `scopeQ` and `geoQ` as a tree a database can evaluate (the
// PostgreSQL store turns it into SQL, so that only candidates leave the database; SQLite uses
// `valueHint` and `geoBox` only). Every entity matching the query satisfies it; leaves marked
// below as exact hold for exactly the matching entities of their part. `match` stays the judge.
struct Prefilter {
  enum class Kind {
    kAnd,           // all children (no children: true)
    kOr,            // any child (no children: false)
    kValue,         // `value` (a ValueHint; its `attr` exists with such a value)
    kHasAttr,       // attribute `attr` is present
    kLacksAttr,     // absent, or present as a LanguageProperty (empty languageMap: no target)
    kScope,         // a scope matches `scopeLevels`/`scopeSubtree` (4.19)       (exact)
    kGeoNotInside,  // an instance of GeoProperty `attr` whose bounding box is not inside
                    // `geoJson` shrunk by `distance` metres (0: not inside the geometry itself)
  };
  Kind kind = Kind::kAnd;
  std::vector<Prefilter> children;
  ValueHint value;
  std::string attr;
  std::vector<std::string> scopeLevels;  // "+" is any one level
  bool scopeSubtree = false;
  std::string geoJson;  // the reference geometry, GeoJSON text
  double distance = 0;
};

// The filters of an entity query, already parsed and expanded. A null predicate means "no filter".
struct EntityQuery {
  std::vector<std::string> ids;       // any of these ids
  std::vector<std::string> typeIris;  // candidate types (the index is used when non-empty)
  // True when ids/typeIris (or their absence: the whole tenant) select exactly the candidates,
  // so that only `match` (if any) remains to be checked per entity.
  bool selectionExact = false;
  std::vector<std::string> attrs;  // entity must have at least one of these attributes
  // Exact filters evaluated on each candidate (idPattern, type selection, q, scopeQ, geoQ).
  std::function<bool(const Json& entity)> match;
  // Bounding box prefilter for geoQ on an attribute (via the spatial index), optional.
  struct Box {
    std::string attr;
    double minX, minY, maxX, maxY;
  };
  std::optional<Box> geoBox;
  std::optional<ValueHint> valueHint;
  // The necessary condition of q, scopeQ and geoQ (see Prefilter), when there is one; with
  // `prefilterExact`, entities of the selection satisfying it are exactly the matches (`match`
  // then checks nothing more, and a store evaluating the prefilter may skip it).
  std::optional<Prefilter> prefilter;
  bool prefilterExact = false;
  size_t offset = 0;
  size_t limit = 20;
  bool count = false;  // compute the total number of matches
  // Keyset paging: only entities after this position in the store's order (the `cursor` of the
  // previous page's QueryResult); 0 = from the first. Skipping costs nothing, unlike `offset`,
  // and a page neither repeats nor misses an entity when earlier ones are deleted meanwhile.
  // `offset` and `count` then apply to the entities after it.
  int64_t after = 0;
};

struct QueryResult {
  std::vector<JsonDocument> entities;  // in the store's stable order (creation order)
  std::optional<size_t> total;         // when EntityQuery::count
  // The position of the last entity in `entities` (0 when there is none), for EntityQuery::after.
  // Positions are > 0, grow in the store's order and stay with an entity while it is updated.
  int64_t cursor = 0;
};

// Per (type, attribute name, attribute kind) statistics for discovery (/types, /attributes).
struct AttributeStat {
  std::string type;       // expanded entity type
  std::string attribute;  // expanded attribute name; "" for a type's row without attributes
  std::string kind;       // Property, Relationship, ...
  size_t entities = 0;    // number of entities of `type` having the attribute
};

// What a tenant occupies (quotas and the admin API's usage report, docs/tenancy.md). Bytes are
// those of the stored JSON text (entity documents; history instances, 8 for a plain number),
// without indexes.
struct TenantUsage {
  int64_t entities = 0;
  int64_t entityBytes = 0;
  int64_t historyInstances = 0;
  int64_t historyBytes = 0;
  int64_t storageBytes() const { return entityBytes + historyBytes; }
};

struct StoreStats {
  size_t writeBatches = 0;  // group commits
  size_t writeOps = 0;
};

class TemporalStore;  // store/temporal.h

class Store {
 public:
  virtual ~Store() = default;

  // The current state of one entity, or ResourceNotFound.
  virtual Result<JsonDocument> getEntity(const TenantId& tenant, const std::string& id) = 0;

  // Entities matching `q`, in a stable order, paged by offset/limit.
  virtual Result<QueryResult> queryEntities(const TenantId& tenant, const EntityQuery& q) = 0;

  // Applies the operations in one durable transaction shared with concurrent callers (group
  // commit). Returns one Status per op, in order. Blocks until the transaction is durable.
  // A store-level failure (disk full, I/O error) fails every op with ServiceUnavailable and
  // changes nothing.
  virtual std::vector<Status> write(const TenantId& tenant, std::vector<WriteOp> ops) = 0;

  // Whether the tenant exists. The default tenant "" always exists; a tenant comes into being
  // with its first successful write (NGSI-LD 4.14: implicit creation).
  virtual bool tenantExists(const TenantId& tenant) = 0;

  // Discovery statistics of the tenant's entities.
  virtual Result<std::vector<AttributeStat>> attributeStats(const TenantId& tenant) = 0;

  virtual StoreStats stats() = 0;

  // The tenant's usage, counted now (a scan of its rows: not for every request).
  virtual Result<TenantUsage> usage(const TenantId& tenant) {
    (void)tenant;
    return Status(ErrorType::kOperationNotSupported, "this store does not report usage");
  }

  // The history of the entities (store/temporal.h), or nullptr when this store keeps none.
  virtual TemporalStore* temporal() { return nullptr; }
  // Subscriptions (notification_store.h): the matcher consulted for every change, whose outbox
  // entries are stored in the change's transaction, and a callback run after every commit that
  // stored outbox rows (it must be quick: it wakes the sender). Set once, before the first write.
  virtual void setSubscriptionMatcher(const SubscriptionMatcher* matcher) { (void)matcher; }
  virtual void setCommitListener(std::function<void()> listener) { (void)listener; }
};

// The per-document checks of a query's selection, on the stored (internal) form: any of the
// type IRIs (empty: any), any of the attributes (empty: any). A store applies them when an index
// other than the types' or the attributes' chose the candidates.
bool hasAnyType(const Json& entity, const std::vector<std::string>& typeIris);
bool hasAnyAttribute(const Json& entity, const std::vector<std::string>& attrs);

// Deletes every entity of `tenant` that matches `q` (its offset and count are ignored), q.limit
// entities per write. Returns the first failure of a delete; what was deleted before it stays
// deleted.
Status deleteMatching(Store& store, const TenantId& tenant, EntityQuery q);

}  // namespace allmende::store
