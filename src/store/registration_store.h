// Context source registrations and context source subscriptions (NGSI-LD 5.9, 5.11; issue 12)
// as stored documents. The store keeps each one as JSON text in the internal form written by
// federation/registration_json.h; it knows nothing of their members.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace allmende::store {

enum class CSourceKind : uint8_t {
  kRegistration,  // table csource_registrations
  kSubscription,  // table csource_subscriptions
};

struct CSourceRecord {
  std::string tenant;  // the NGSILD-Tenant it was made in ("" = default tenant)
  std::string id;
  std::string doc;  // JSON text
};

// Thread-safe. Every call returning OK is durable.
class RegistrationRepository {
 public:
  virtual ~RegistrationRepository() = default;
  // Creates (AlreadyExists when the id is taken in the tenant) or replaces (ResourceNotFound when
  // absent) one record.
  virtual Status put(CSourceKind kind, const CSourceRecord& record, bool create) = 0;
  // ResourceNotFound when absent.
  virtual Result<CSourceRecord> get(CSourceKind kind, const std::string& tenant, const std::string& id) = 0;
  // The records of one tenant, ordered by id.
  virtual Result<std::vector<CSourceRecord>> list(CSourceKind kind, const std::string& tenant) = 0;
  // The records of every tenant, ordered by tenant and id (at start).
  virtual Result<std::vector<CSourceRecord>> all(CSourceKind kind) = 0;
  // ResourceNotFound when absent.
  virtual Status remove(CSourceKind kind, const std::string& tenant, const std::string& id) = 0;
  // A number that changes with every change of any record, also one made by another node or
  // process on the same database (caches compare it).
  virtual Result<int64_t> version() = 0;
};

// In the SQLite database file at `path` (tables created if missing), on a connection of its own.
Result<std::unique_ptr<RegistrationRepository>> openSqliteRegistrationRepository(const std::string& path);
// In the PostgreSQL database of a --store URL (the schema is migrated if need be).
Result<std::unique_ptr<RegistrationRepository>> openPostgresRegistrationRepository(const std::string& url);

}  // namespace allmende::store
