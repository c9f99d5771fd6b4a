// A Subscription (NGSI-LD 5.2.12) parsed, validated and compiled for matching and rendering.
// Immutable once built; shared by the matcher, the notifier and the API through shared_ptr.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "geo/geo_filter.h"
#include "ld/context.h"
#include "model/render.h"
#include "query/q.h"
#include "query/scope_query.h"
#include "query/type_selector.h"
#include "store/store.h"

namespace allmende::notify {

// NGSI-LD 5.2.12 notificationTrigger values, as bits.
enum Trigger : unsigned {
  kEntityCreated = 1u << 0,
  kEntityUpdated = 1u << 1,
  kEntityDeleted = 1u << 2,
  kAttributeCreated = 1u << 3,
  kAttributeUpdated = 1u << 4,
  kAttributeDeleted = 1u << 5,
};

// Where notifications go (NGSI-LD 5.2.15 Endpoint).
struct Endpoint {
  std::string uri;
  std::string accept = "application/json";  // application/json, application/ld+json, application/geo+json
  std::vector<std::pair<std::string, std::string>> receiverInfo;  // extra headers (HTTP) / user properties
  std::vector<std::pair<std::string, std::string>> notifierInfo;  // MQTT-Version, MQTT-QoS
};

struct Subscription {
  store::TenantId tenant;
  std::string id;
  JsonDocument doc;  // the API form as stored and shown, "@context" holding the context value

  struct Selector {
    std::string id;
    std::optional<std::regex> idPattern;
    std::optional<query::TypeSelector> type;
  };
  std::vector<Selector> selectors;    // any of them; empty = every entity
  std::vector<std::string> typeIris;  // types the selectors mention (the matcher's index keys)
  std::vector<std::string> watched;   // expanded watchedAttributes; empty = all
  unsigned triggers = kAttributeCreated | kAttributeUpdated;
  std::optional<query::QueryExpr> q;
  std::optional<query::ScopeQuery> scopeQ;
  std::shared_ptr<const geo::GeoFilter> geoQ;

  std::shared_ptr<const ld::Context> context;  // for rendering notifications
  std::string contextUrl;                      // Link header of application/json notifications
  std::string contextJson;                     // "@context" of application/ld+json notifications
  model::RenderOptions render;
  bool showChanges = false;  // NGSI-LD 5.2.14: previous values of changed attributes
  Endpoint endpoint;

  bool isActive = true;
  std::optional<Micros> expiresAt;
  Micros throttling = 0;    // minimal period between two notifications (0 = none)
  Micros timeInterval = 0;  // periodic notification (0 = on change)

  // NGSI-LD 5.2.12 status: "active", "paused" or "expired".
  std::string status(Micros now) const;
  bool notifiesAt(Micros now) const { return isActive && (!expiresAt || *expiresAt > now); }
};

// Resolves an @context value (a URL string, an object, an array) for a subscription.
using ContextResolver = std::function<Result<std::shared_ptr<const ld::Context>>(const Json& contextValue)>;

// Builds a subscription from its API payload `body` (the @context already taken out and given as
// `contextValue`, JSON text), for `tenant`. A missing id is generated. Fails with BadRequestData
// (invalid member, with the member named in the detail) or LdContextNotAvailable.
Result<std::shared_ptr<Subscription>> buildSubscription(const Json& body, const std::string& contextValue,
                                                        const store::TenantId& tenant, const ContextResolver& resolve);

// NGSI-LD 5.8.2 update: `patch` members replace the stored ones (null removes one). Same errors.
Result<std::shared_ptr<Subscription>> patchSubscription(const Subscription& current, const Json& patch,
                                                        const ContextResolver& resolve);

// Reads a stored document (with its "@context") back into a subscription.
Result<std::shared_ptr<Subscription>> loadSubscription(const store::TenantId& tenant, std::string_view doc,
                                                       const ContextResolver& resolve);

}  // namespace allmende::notify
