// Open-data dataset definitions (issue 11, docs/opendata.md): per tenant, what it publishes as
// a DCAT dataset. The store keeps each definition as validated JSON text (api/open_dataset.h
// parses and checks it); it knows nothing of DCAT.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace allmende::store {

struct DatasetRecord {
  std::string tenant;      // the tenant's name (NGSILD-Tenant value)
  std::string id;          // the dataset id, unique within the tenant
  std::string definition;  // JSON object text (api/open_dataset.h)
  Micros created = 0;
  Micros modified = 0;
};

class DatasetStore {
 public:
  virtual ~DatasetStore() = default;
  // Creates or replaces (tenant, id); `created` of a replaced record is kept.
  virtual Status put(const DatasetRecord& record) = 0;
  // nullopt when absent.
  virtual Result<std::optional<DatasetRecord>> get(const std::string& tenant, const std::string& id) = 0;
  // The datasets of a tenant, or of every tenant when `tenant` is nullopt; ordered by tenant, id.
  virtual Result<std::vector<DatasetRecord>> list(const std::optional<std::string>& tenant) = 0;
  // ResourceNotFound when absent.
  virtual Status remove(const std::string& tenant, const std::string& id) = 0;
  // Removes every dataset of a tenant (the tenant is deleted).
  virtual Status removeTenant(const std::string& tenant) = 0;
};

// In the database file at `path` (table `open_datasets`, created if missing), on a connection
// of its own. Thread-safe.
Result<std::unique_ptr<DatasetStore>> openSqliteDatasetStore(const std::string& path);

}  // namespace allmende::store
