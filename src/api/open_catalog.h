// The DCAT-AP.de catalogue of published datasets (issue 11, docs/opendata.md): one tenant's, or
// the platform's (every active registered tenant), as an RDF graph (api/rdf_graph.h).
#pragma once

#include <string>
#include <vector>

#include "api/open_dataset.h"
#include "api/rdf_graph.h"
#include "common/time.h"
#include "store/tenant_registry.h"

namespace allmende::api {

// A distribution every dataset offers, at {dataset IRI}/{file}.
struct DistributionKind {
  const char* file;
  const char* mediaType;
  const char* formatCode;  // EU file-type vocabulary
  const char* title;
};
inline constexpr DistributionKind kDistributions[] = {
    {"current.geojson", "application/geo+json", "GEOJSON", "Aktueller Stand (GeoJSON)"},
    {"current.csv", "text/csv", "CSV", "Aktueller Stand (CSV)"},
    {"current.json", "application/json", "JSON", "Aktueller Stand (NGSI-LD keyValues)"},
};

struct PublishedDataset {
  Dataset dataset;
  Micros created = 0, modified = 0;
};

struct TenantCatalog {
  store::TenantRecord tenant;
  std::vector<PublishedDataset> datasets;
};

// The IRIs of the open-data resources; `base` is the server's public base URL (no trailing '/').
std::string tenantCatalogIri(const std::string& base, const std::string& tenant);
std::string platformCatalogIri(const std::string& base);
std::string datasetIri(const std::string& base, const std::string& tenant, const std::string& id);

// Monthly history files listed as distributions: the month of `now` and the ones before it, at
// most this many, none before the tenant was registered. (Day files exist for every day; they
// are named in the monthly distributions' descriptions, not listed one by one.)
inline constexpr int kHistoryMonthsListed = 12;

// "YYYY-MM" of the months listed for a tenant registered at `registered`, newest first.
std::vector<std::string> historyMonths(Micros registered, Micros now);

// One tenant's catalogue, or (platform = true) the platform's with the datasets of all tenants.
// `now` decides which monthly history distributions are listed.
rdf::Graph buildCatalog(const std::string& base, const std::vector<TenantCatalog>& tenants, bool platform, Micros now);
const rdf::Prefixes& catalogPrefixes();

}  // namespace allmende::api
