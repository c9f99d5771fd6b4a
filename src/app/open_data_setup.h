// Wiring of open data (issue 11, docs/opendata.md) for `allmende serve`: the dataset store and
// the per-client rate limit of /open/v1.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "api/rate_limiter.h"
#include "api/services.h"
#include "store/dataset_store.h"

namespace allmende::app {

struct OpenDataOptions {
  double rps = 10;   // requests per second per client address on /open/v1 (0 = unlimited)
  double burst = 0;  // 0 = 2 x rps
  std::string store;  // `serve --store`: with postgres://..., the datasets live there
};

struct OpenData {
  std::unique_ptr<store::DatasetStore> datasets;
  std::unique_ptr<api::RateLimiter> limiter;
};

void addOpenDataFlags(CLI::App& serve, OpenDataOptions& o);
// Opens the dataset definitions in the database file `dbPath`; fills the open-data members of
// `services` (`baseUrl` = --base-url, "" = from the Host header).
Result<std::unique_ptr<OpenData>> setupOpenData(const OpenDataOptions& o, const std::string& dbPath,
                                                const std::string& baseUrl, api::Services& services);

}  // namespace allmende::app
