// The subscription matcher: every tenant's subscriptions in an in-memory index by entity id, by
// entity type and by watched attribute, consulted by the store for every entity change (store::SubscriptionMatcher).
// A change only looks at the subscriptions of its tenant indexed under its id (subscriptions whose
// selectors all name ids), its types (other subscriptions with selectors) or its changed attributes
// (subscriptions without entities), never at all subscriptions.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "notify/subscription.h"
#include "store/notification_store.h"

namespace allmende::notify {

using SubscriptionPtr = std::shared_ptr<const Subscription>;

class SubscriptionIndex final : public store::SubscriptionMatcher {
 public:
  // Adds or replaces (same tenant and id) a subscription.
  void put(SubscriptionPtr s);
  // Removes it; false when unknown.
  bool remove(const store::TenantId& tenant, const std::string& id);
  SubscriptionPtr find(const store::TenantId& tenant, const std::string& id) const;
  // The tenant's subscriptions ordered by id.
  std::vector<SubscriptionPtr> list(const store::TenantId& tenant) const;
  // Every subscription with a timeInterval (periodic notifications).
  std::vector<SubscriptionPtr> periodic() const;
  size_t size() const;

  // store::SubscriptionMatcher: renders one outbox entry per subscription the change notifies.
  void match(const store::TenantId& tenant, const Json* before, const Json* after, Micros now,
             std::vector<store::OutboxEntry>& out) const override;

 private:
  struct TenantIndex {
    std::unordered_map<std::string, SubscriptionPtr> byId;
    std::unordered_map<std::string, std::vector<SubscriptionPtr>> byEntity;  // every selector names an id
    std::unordered_map<std::string, std::vector<SubscriptionPtr>> byType;    // selector type IRIs
    std::unordered_map<std::string, std::vector<SubscriptionPtr>> byAttr;    // no entities: watched attrs
    std::vector<SubscriptionPtr> unindexed;  // neither (notify on every change of the tenant)
  };
  void unlink(TenantIndex& t, const Subscription& s);  // requires mu_ (exclusive)

  mutable std::shared_mutex mu_;
  std::unordered_map<store::TenantId, TenantIndex> tenants_;  // GUARDED_BY(mu_)
};

// What a change did, as the notification triggers see it (NGSI-LD 5.2.12 notificationTrigger).
struct ChangeEvents {
  unsigned entity = 0;  // kEntityCreated / kEntityUpdated / kEntityDeleted
  // Per changed attribute (expanded name): kAttributeCreated / Updated / Deleted.
  std::vector<std::pair<std::string, Trigger>> attributes;
};
ChangeEvents changeEventsOf(const Json* before, const Json* after);

// Whether `s` notifies this change (triggers, watched attributes, selectors, q, scopeQ, geoQ,
// status). `entity` is the state filters are evaluated on (after, or before for a deletion).
bool notifies(const Subscription& s, const ChangeEvents& events, const Json& entity, Micros now);
// Whether the entity passes the subscription's selectors, scopeQ, geoQ and q.
bool filterMatches(const Subscription& s, const Json& entity);

}  // namespace allmende::notify
