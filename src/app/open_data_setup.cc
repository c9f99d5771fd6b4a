#include "app/open_data_setup.h"

#include "store/postgres/pg_store.h"

namespace allmende::app {

void addOpenDataFlags(CLI::App& serve, OpenDataOptions& o) {
  serve.add_option("--open-rps", o.rps, "requests per second per client on /open/v1 (0 = unlimited)")
      ->capture_default_str();
  serve.add_option("--open-burst", o.burst, "burst of --open-rps (0 = 2 x rps)")->capture_default_str();
}

Result<std::unique_ptr<OpenData>> setupOpenData(const OpenDataOptions& o, const std::string& dbPath,
                                                const std::string& baseUrl, api::Services& services) {
  auto od = std::make_unique<OpenData>();
  auto datasets = store::isPostgresStore(o.store) ? store::openPostgresDatasetStore(o.store)
                                                 : store::openSqliteDatasetStore(dbPath);
  if (!datasets) return datasets.status();
  od->datasets = std::move(*datasets);
  if (o.rps > 0) {
    od->limiter =
        std::make_unique<api::RateLimiter>(services.clock, api::RateLimit{o.rps, o.burst > 0 ? o.burst : 2 * o.rps});
  }
  services.datasets = od->datasets.get();
  services.openLimiter = od->limiter.get();
  services.openBaseUrl = baseUrl;
  return od;
}

}  // namespace allmende::app
