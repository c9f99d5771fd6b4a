// The tenant registry: the municipalities this platform hosts, and the API keys that act for
// them. Entities live in the Store (store.h); this holds who may exist and who may act.
//
// Reads are answered from memory (every request looks a tenant and maybe a key up); changes are
// written through to the database first. Changes made by another process on the same data
// directory (the `allmende tenant` CLI while the server runs) are picked up within
// kRegistryRefreshMillis.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace allmende::store {

inline constexpr int kRegistryRefreshMillis = 1000;

// Per-tenant quotas; 0 = the platform default (docs/tenancy.md).
struct TenantQuotas {
  double requestsPerSecond = 0;
  double burst = 0;
  int64_t entities = 0;
  int64_t historyInstances = 0;  // attribute instances of the temporal API
  int64_t storageBytes = 0;      // entity documents and history (TenantUsage::storageBytes)
};

// What every request needs to know of its tenant, cheap to copy.
struct TenantState {
  bool suspended = false;
  TenantQuotas quotas;
};

struct TenantRecord {
  std::string name;               // the NGSILD-Tenant value
  std::string ags;                // Amtlicher Gemeindeschlüssel, 8 digits
  std::string displayName;        // e.g. "Markt Musterhausen"
  std::string area;               // GeoJSON geometry (Polygon / MultiPolygon) as JSON text, "" = none
  std::string contact;            // e-mail or other contact text
  std::string status = "active";  // "active" or "suspended"
  std::string templateName;       // the roll-in template it was created from, "" = none
  std::string checklist;          // JSON array of roll-in checklist items (see templates/README.md)
  std::string settings;           // JSON object: data models, subscriptions, open-data settings
  TenantQuotas quotas;
  Micros created = 0;
};

struct ApiKeyRecord {
  std::string id;            // public identifier (shown in lists, used to revoke)
  std::string hash;          // hex SHA-256 of the secret key; the key itself is never stored
  std::string tenant;        // "" only for platform-admin keys
  std::string role;          // role name (auth/roles.h)
  std::string name;          // free label ("Pegel Isar 1")
  std::string entityPrefix;  // device keys: the entity ids they may write start with this
  Micros created = 0;
  Micros expires = 0;  // 0 = never
  bool revoked = false;
};

class TenantRegistry {
 public:
  virtual ~TenantRegistry() = default;

  virtual Result<std::vector<TenantRecord>> listTenants() = 0;
  // From memory. Thread-safe.
  virtual std::optional<TenantRecord> findTenant(const std::string& name) = 0;
  // From memory. Thread-safe. nullopt when not registered.
  virtual std::optional<TenantState> tenantState(const std::string& name) = 0;
  // AlreadyExists when the name or the AGS is taken.
  virtual Status createTenant(const TenantRecord& t) = 0;
  // Replaces the stored record of t.name (ResourceNotFound when absent).
  virtual Status updateTenant(const TenantRecord& t) = 0;
  // Removes the tenant and its API keys (ResourceNotFound when absent).
  virtual Status deleteTenant(const std::string& name) = 0;

  virtual Status addKey(const ApiKeyRecord& k) = 0;
  // From memory, by hash. Thread-safe. Revoked keys are returned (the caller decides).
  virtual std::optional<ApiKeyRecord> findKeyByHash(const std::string& hash) = 0;
  // Keys of a tenant ("" = the platform keys), without hashes.
  virtual Result<std::vector<ApiKeyRecord>> listKeys(const std::string& tenant) = 0;
  // Keys of a tenant with their hashes (for the tenant archive only).
  virtual Result<std::vector<ApiKeyRecord>> listKeysWithHashes(const std::string& tenant) = 0;
  // Marks the key revoked (ResourceNotFound when `id` is not a key of `tenant`).
  virtual Status revokeKey(const std::string& tenant, const std::string& id) = 0;
  // A number that changes whenever what the registry answers may have changed (own writes, and
  // another process's within kRegistryRefreshMillis): what was derived from it while it had
  // the same value is still valid. Thread-safe, cheap.
  virtual uint64_t generation() = 0;
};

}  // namespace allmende::store
