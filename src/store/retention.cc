#include "store/retention.h"

#include <chrono>

namespace allmende::store {

Micros RetentionJob::keepFor(const TenantId& tenant) const {
  auto it = options_.perTenant.find(tenant);
  return it != options_.perTenant.end() ? it->second : options_.keep;
}

Result<size_t> RetentionJob::runOnce() {
  auto tenants = store_.historyTenants();
  if (!tenants) return tenants.status();
  size_t removed = 0;
  Status firstError;
  const Micros now = clock_.now();
  for (const auto& tenant : *tenants) {
    const Micros keep = keepFor(tenant);
    if (keep <= 0) continue;
    auto n = store_.purgeHistoryBefore(tenant, now - keep);
    if (n)
      removed += *n;
    else if (firstError.isOk())
      firstError = n.status();
  }
  if (!firstError.isOk()) return firstError;
  return removed;
}

void RetentionJob::start() {
  if (options_.keep <= 0 && options_.perTenant.empty()) return;  // nothing to enforce
  thread_ = std::thread([this] {
    for (;;) {
      runOnce();  // a failed run is retried at the next interval
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::seconds(options_.intervalSeconds), [this] { return stopping_; })) return;
    }
  });
}

void RetentionJob::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace allmende::store
