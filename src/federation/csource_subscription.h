// Context source registration subscriptions (NGSI-LD 5.11, HTTP binding 6.12, 6.13): a
// Subscription (5.2.12) whose notifications tell about registrations that start, go on or stop
// matching it (CSourceNotification, 5.3.2, with triggerReason newlyMatching / updated /
// noLongerMatching). Terms are expanded as for registrations; the subscription keeps the
// @context it was made with, for the terms of its notifications.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "federation/registration.h"
#include "federation/registration_json.h"

namespace allmende::federation {

struct CSourceSubscription {
  std::string ownerTenant;
  std::string id;
  std::string subscriptionName;                // "" = absent
  std::string description;                     // "" = absent
  std::vector<EntityInfo> entities;            // expanded types; empty: any entity
  std::vector<std::string> watchedAttributes;  // expanded; empty: any attribute
  std::optional<std::string> geoQ;             // the geoQ object as JSON text (internal: geoproperty expanded)
  std::optional<std::string> scopeQ;           // scopeQ text
  std::optional<std::string> q;                // q text on registration properties, expanded terms kept as written
  bool isActive = true;
  std::optional<Micros> expiresAt;
  std::string endpoint;                     // notification.endpoint.uri (http or https)
  std::string accept = "application/json";  // notification.endpoint.accept
  std::vector<KeyValue> receiverInfo;       // notification.endpoint.receiverInfo (sent as headers)
  std::string contextJson;                  // the @context value of the creating request as JSON text ("" = core)
  Micros createdAt = 0;
  Micros modifiedAt = 0;

  // NGSI-LD 5.2.12: active, and not expired.
  bool notifies(Micros now) const { return isActive && !(expiresAt && *expiresAt <= now); }
};

// NGSI-LD 5.2.12 as far as it applies to registrations: type Subscription, entities and/or
// watchedAttributes, geoQ, scopeQ, q, isActive, expiresAt, notification.endpoint. Members for
// entity notifications only (timeInterval, temporalQ) are refused. BadRequestData naming the
// member.
Result<CSourceSubscription> parseCSourceSubscription(const Json& body, const TermFn& expand,
                                                     const std::string& ownerTenant, const std::string& contextJson,
                                                     Micros now);
// NGSI-LD 5.11.4: the members of `fragment` replace the current ones.
Result<CSourceSubscription> patchCSourceSubscription(const CSourceSubscription& current, const Json& fragment,
                                                     const TermFn& expand, Micros now);

std::string toInternalJson(const CSourceSubscription& s);
Result<CSourceSubscription> csourceSubscriptionFromJson(const std::string& ownerTenant, std::string_view text);
// The subscription as the API shows it (names compacted with `compact`, which should be the
// subscription's own @context). `status` may be null.
void writeCSourceSubscription(JsonWriter& w, const CSourceSubscription& s, const TermFn& compact,
                              const RegistrationStatus* status, bool sysAttrs);

// Whether registration `r` matches the subscription (its entities, watchedAttributes, geoQ's
// geometry against the registration's location, scopeQ). `q` is checked by the caller
// (it needs the @context of the subscription).
bool subscriptionSelects(const CSourceSubscription& s, const Registration& r);

// NGSI-LD 5.3.2 triggerReason for a change of a registration from `before` to `after` (either
// absent), given whether each matched; nullopt when nothing is to be notified.
std::optional<std::string_view> triggerReason(bool matchedBefore, bool matchesAfter);

}  // namespace allmende::federation
