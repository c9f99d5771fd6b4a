// Retention of the attribute history: a background job that removes, per tenant, the attribute
// instances (and their hourly rollups) observed longer ago than the tenant's retention period.
// Works on any TemporalStore.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/time.h"
#include "store/temporal.h"

namespace allmende::store {

struct RetentionOptions {
  // How long instances are kept, by their time (observedAt, else recording time); 0 = forever.
  Micros keep = 0;
  std::map<TenantId, Micros> perTenant;  // overrides of `keep` ("" = the default tenant)
  int intervalSeconds = 3600;            // between two runs
};

class RetentionJob {
 public:
  RetentionJob(TemporalStore& store, const Clock& clock, RetentionOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}
  ~RetentionJob() { stop(); }

  // One run over every tenant with history: returns the number of instances removed, or the
  // first store error (the other tenants are still purged).
  Result<size_t> runOnce();

  // Runs runOnce() now and then every intervalSeconds on a thread of its own, until stop().
  void start();
  void stop();

 private:
  Micros keepFor(const TenantId& tenant) const;

  TemporalStore& store_;
  const Clock& clock_;
  RetentionOptions options_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
};

}  // namespace allmende::store
