// What the API handlers work with: the store, the @context store, the clock and the limits.
#pragma once

#include <string>

#include "common/egress.h"
#include "common/json.h"
#include "common/time.h"
#include "ld/context_store.h"
#include "store/audit_log.h"
#include "store/store.h"
#include "store/tenant_registry.h"

namespace allmende::notify {
class SubscriptionIndex;
class Notifier;
}  // namespace allmende::notify
namespace allmende::store {
class NotificationStore;
class DatasetStore;
class DeviceRegistry;
}  // namespace allmende::store
namespace allmende::ingest {
class Ingestor;
}  // namespace allmende::ingest
namespace allmende::twin {
class RunQueue;
}  // namespace allmende::twin
namespace allmende::federation {
class RegistrationStore;
class CSourceNotifier;
class Forwarder;
}  // namespace allmende::federation
namespace allmende::store {
class RegistrationRepository;
}  // namespace allmende::store

namespace allmende::api {

// Limits and defaults of the NGSI-LD API (docs/configuration.md lists them).
struct ApiOptions {
  size_t defaultLimit = 20;            // page size when `limit` is absent (NGSI-LD 5.5.9)
  size_t maxLimit = 1000;              // larger `limit` values are answered with TooManyResults
  size_t maxBatchEntities = 1000;      // entities in one batch operation
  size_t maxTemporalInstances = 1000;  // instances per attribute in one temporal answer (NGSI-LD 6.3.10)
  JsonLimits json;                     // nesting of request bodies
};

class AccessControl;  // api/access.h
class WebAssets;      // api/web_assets.h
class RateLimiter;    // api/rate_limiter.h

struct Services {
  store::Store& store;
  ld::ContextStore& contexts;
  const Clock& clock;
  ApiOptions options;
  // Subscriptions (api/subscriptions.cc); all three set together, or none (then 501).
  store::NotificationStore* notifications = nullptr;
  notify::SubscriptionIndex* subscriptionIndex = nullptr;
  notify::Notifier* notifier = nullptr;
  // Tenancy (api/tenant_admission.h, api/access.h); null: implicit tenants, no access control.
  store::TenantRegistry* tenants = nullptr;
  bool strictTenants = false;  // an unregistered NGSILD-Tenant is NonexistentTenant
  AccessControl* access = nullptr;
  std::string templatesDir;                  // roll-in templates (templates/README.md)
  store::AuditLog* audit = nullptr;          // null: no audit log (api/audit.h)
  std::string exportDir;                     // a tenant's archive is written here before it is deleted
  ingest::Ingestor* ingestor = nullptr;      // IoT ingestion (docs/ingestion.md); null: 501
  store::DeviceRegistry* devices = nullptr;  // the ingestor's registry (tenant archive and delete)
  // Open data (api/open_data.h, docs/opendata.md); null datasets: the routes answer 501.
  store::DatasetStore* datasets = nullptr;
  RateLimiter* openLimiter = nullptr;  // per client address on /open/v1; null = unlimited
  std::string openBaseUrl;             // IRIs of the catalogue; "" = http://{Host}
  // SSRF (common/egress.h): subscription endpoints are checked at creation too; null = any.
  std::shared_ptr<const EgressPolicy> egress;
  const WebAssets* web = nullptr;  // the web app at / (api/web_assets.h); null: 404
  // Digital twin (api/twin_http.h, docs/twin.md); null: the /twin/v1 routes answer 501.
  twin::RunQueue* twin = nullptr;
  // Federation (issue 12, api/csource_*.cc): context source registrations, csourceSubscriptions
  // (stored in `csources`) and their notifications; all three set together, or none (then 501).
  federation::RegistrationStore* registrations = nullptr;
  store::RegistrationRepository* csources = nullptr;
  federation::CSourceNotifier* csourceNotifier = nullptr;
  // Distributed operations (federation/forward.h, api/distributed.h); null: nothing is forwarded.
  const federation::Forwarder* forwarder = nullptr;
};

}  // namespace allmende::api
