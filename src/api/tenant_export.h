// Export and import of a whole tenant as one archive: JSON Lines, documented in
// docs/tenancy.md ("Export and import"). Used by the admin API and `allmende tenant
// export|import`.
#pragma once

#include <functional>
#include <istream>
#include <string>

#include "api/services.h"

namespace allmende::api {

struct ImportReport {
  std::string tenant;
  size_t entities = 0, keys = 0, keysSkipped = 0, auditRecords = 0;
  size_t historyInstances = 0, subscriptions = 0, devices = 0, datasets = 0, contexts = 0, twinFiles = 0;
  size_t csourceRegistrations = 0, csourceSubscriptions = 0;
};

// Writes the archive of `tenant` line by line to `out` (each call one line with its '\n').
Status exportTenant(Services& services, const std::string& tenant, const std::function<void(std::string)>& out);

// Reads an archive and creates the tenant from it (under `rename` if not empty, and with
// `ags` instead of the archive's if not empty). The tenant must not exist. The archive is
// checked completely before anything is written; a bad archive changes nothing.
Result<ImportReport> importTenant(Services& services, std::istream& in, const std::string& rename,
                                  const std::string& ags);

std::string importReportJson(const ImportReport& r);

// Writes the tenant's archive to `dir`/<tenant>-<time>.jsonl (the safety copy before a delete)
// and returns its path. Fails, and so stops the delete, when it cannot be written completely.
Result<std::string> exportToFile(Services& services, const std::string& tenant, const std::string& dir);

}  // namespace allmende::api
