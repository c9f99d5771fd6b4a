// Subscriptions and the notification outbox behind one interface (NGSI-LD 5.8 subscriptions;
// DESIGN.md "durable outbox"). The SQLite store implements it on its database file; a PostgreSQL
// store will implement it for several nodes draining one outbox (claim with a lease, FOR UPDATE
// SKIP LOCKED), which is why the outbox is read by claiming and finished by completing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "store/store.h"

namespace allmende::store {

// One notification decided by the matcher for one change: the subscription it belongs to and
// the entity as it was right after the change, already rendered for that subscription (the
// element of the notification's `data`). Stored in the outbox in the change's transaction.
struct OutboxEntry {
  std::string subscriptionId;
  std::string entityId;
  std::string payload;  // JSON text
};

// A stored outbox row. `seq` grows in commit order and is never reused.
struct OutboxRow {
  int64_t seq = 0;
  TenantId tenant;
  std::string subscriptionId;
  std::string entityId;
  std::string payload;
  Micros createdAt = 0;
};

// Decides the notifications of one entity change. Called by the store inside the write path
// (possibly on several threads at once, and possibly twice for the same change): it must be
// thread-safe and free of side effects. `before`/`after` are the internal forms (null when absent).
class SubscriptionMatcher {
 public:
  virtual ~SubscriptionMatcher() = default;
  virtual void match(const TenantId& tenant, const Json* before, const Json* after, Micros now,
                     std::vector<OutboxEntry>& out) const = 0;
};

// A subscription as stored: its JSON document (what the API shows, with the @context it was
// created with under "jsonldContext").
struct StoredSubscription {
  TenantId tenant;
  std::string id;
  std::string doc;
};

// Thread-safe. Every call returning OK is durable.
class NotificationStore {
 public:
  virtual ~NotificationStore() = default;

  // Creates (fails with AlreadyExists when the id is taken in the tenant) or replaces one.
  virtual Status putSubscription(const StoredSubscription& s, bool create) = 0;
  // ResourceNotFound when absent.
  virtual Result<StoredSubscription> getSubscription(const TenantId& tenant, const std::string& id) = 0;
  // All subscriptions of every tenant (at start, to rebuild the matcher).
  virtual Result<std::vector<StoredSubscription>> allSubscriptions() = 0;
  // ResourceNotFound when absent. Outbox rows of the subscription stay; the sender drops them.
  virtual Status deleteSubscription(const TenantId& tenant, const std::string& id) = 0;

  // Claims up to `max` outbox rows not claimed before by this process, oldest first. A claim
  // holds until the row is completed or the process ends (single node: no lease expiry needed;
  // a shared store gives claims a lease so another node takes over the rows of a dead one).
  virtual Result<std::vector<OutboxRow>> claimOutbox(size_t max) = 0;
  // Removes delivered (or given-up) rows.
  virtual Status completeOutbox(const std::vector<int64_t>& seqs) = 0;
  // Rows in the outbox (for status and tests).
  virtual Result<size_t> outboxSize() = 0;

  // A store shared by several nodes calls `listener` (on a thread of its own) when another node
  // created, changed or deleted subscription (tenant, id), so that this node's matcher follows.
  // A single-node store never calls it. Set once, before the first change; set to nullptr (it
  // then returns once no call runs) before what the listener uses goes away.
  virtual void setChangeListener(std::function<void(const TenantId& tenant, const std::string& id)> listener) {
    (void)listener;
  }
};

// Opens the notification store on the SQLite database file of the entity store.
Result<std::unique_ptr<NotificationStore>> openSqliteNotificationStore(const std::string& path);

}  // namespace allmende::store
