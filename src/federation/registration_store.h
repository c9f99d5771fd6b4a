// The registrations of every tenant, read through a cache: what matching (registration.h) and
// the csourceRegistrations API work with. Backed by a store::RegistrationRepository (SQLite or
// PostgreSQL); several nodes on one PostgreSQL see each other's changes within `recheck`.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "federation/registration.h"
#include "store/registration_store.h"

namespace allmende::federation {

struct RegistrationStoreOptions {
  // How long a cached tenant's registrations are used before the repository's version is
  // checked again (changes made through this object are seen at once).
  Micros recheck = 500000;
};

// Thread-safe.
class RegistrationStore {
 public:
  RegistrationStore(store::RegistrationRepository& repository, const Clock& clock,
                    RegistrationStoreOptions options = {});

  // Stores a new registration (AlreadyExists when its id is taken in its owner tenant).
  Status create(const Registration& r);
  // Replaces a stored registration (ResourceNotFound when absent).
  Status replace(const Registration& r);
  // ResourceNotFound when absent.
  Status remove(const std::string& tenant, const std::string& id);
  // ResourceNotFound when absent.
  Result<Registration> get(const std::string& tenant, const std::string& id) const;
  // The registrations of a tenant, by id.
  Result<std::vector<Registration>> list(const std::string& tenant) const;

  store::RegistrationRepository& repository() { return repository_; }

 private:
  using Tenant = std::shared_ptr<const std::vector<Registration>>;
  Result<Tenant> tenantRegistrations(const std::string& tenant) const;
  void invalidate();

  store::RegistrationRepository& repository_;
  const Clock& clock_;
  RegistrationStoreOptions options_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Tenant> cache_;  // GUARDED_BY(mutex_)
  mutable int64_t cachedVersion_ = -1;           // GUARDED_BY(mutex_)
  mutable Micros checkedAt_ = 0;                 // GUARDED_BY(mutex_)
};

}  // namespace allmende::federation
