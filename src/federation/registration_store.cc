#include "federation/registration_store.h"

#include <spdlog/spdlog.h>

#include "federation/registration_json.h"

namespace allmende::federation {

using store::CSourceKind;

RegistrationStore::RegistrationStore(store::RegistrationRepository& repository, const Clock& clock,
                                     RegistrationStoreOptions options)
    : repository_(repository), clock_(clock), options_(options) {}

void RegistrationStore::invalidate() {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_.clear();
  cachedVersion_ = -1;
}

Status RegistrationStore::create(const Registration& r) {
  Status st = repository_.put(CSourceKind::kRegistration, {r.ownerTenant, r.id, toInternalJson(r)}, true);
  invalidate();
  return st;
}

Status RegistrationStore::replace(const Registration& r) {
  Status st = repository_.put(CSourceKind::kRegistration, {r.ownerTenant, r.id, toInternalJson(r)}, false);
  invalidate();
  return st;
}

Status RegistrationStore::remove(const std::string& tenant, const std::string& id) {
  Status st = repository_.remove(CSourceKind::kRegistration, tenant, id);
  invalidate();
  return st;
}

Result<Registration> RegistrationStore::get(const std::string& tenant, const std::string& id) const {
  auto all = tenantRegistrations(tenant);
  if (!all) return all.status();
  for (const auto& r : **all) {
    if (r.id == id) return r;
  }
  return notFound("no context source registration '" + id.substr(0, 200) + "'");
}

Result<std::vector<Registration>> RegistrationStore::list(const std::string& tenant) const {
  auto all = tenantRegistrations(tenant);
  if (!all) return all.status();
  return **all;
}

Result<RegistrationStore::Tenant> RegistrationStore::tenantRegistrations(const std::string& tenant) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Micros now = clock_.now();
  // Another node may have changed the registrations: the version tells, checked now and then.
  if (cachedVersion_ < 0 || now - checkedAt_ >= options_.recheck) {
    auto v = repository_.version();
    if (!v) return v.status();
    if (*v != cachedVersion_) cache_.clear();
    cachedVersion_ = *v;
    checkedAt_ = now;
  }
  if (auto it = cache_.find(tenant); it != cache_.end()) return it->second;
  auto records = repository_.list(CSourceKind::kRegistration, tenant);
  if (!records) return records.status();
  auto regs = std::make_shared<std::vector<Registration>>();
  for (const auto& rec : *records) {
    auto r = fromInternalJson(rec.tenant, rec.doc);
    if (!r) {
      spdlog::warn("context source registration {} of tenant '{}' not loaded: {}", rec.id, rec.tenant,
                   r.status().toString());
      continue;
    }
    regs->push_back(std::move(*r));
  }
  Tenant t = std::move(regs);
  cache_[tenant] = t;
  return t;
}

}  // namespace allmende::federation
