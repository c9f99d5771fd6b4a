// The distributions of an open-data dataset (issue 11, docs/opendata.md): the current state of
// its entities as GeoJSON, CSV or NGSI-LD keyValues -- only the public attributes
// (api/public_read.h publicAttributes, narrowed by the dataset's `attributes`).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "api/open_dataset.h"
#include "api/services.h"
#include "store/tenant_registry.h"

namespace allmende::api {

enum class ExportFormat { kGeoJson, kCsv, kKeyValues };

// Entities per store query while exporting.
inline constexpr size_t kExportPage = 10000;

struct ExportResult {
  std::string body;
  Micros lastModified = 0;  // newest modifiedAt of an exported entity (0 = none)
  size_t entities = 0;
};

// Pages through Store::queryEntities (kExportPage at a time, never the whole tenant at once);
// the answer body is built in memory, so memory grows with the export's size (the HTTP server
// sends one buffered body; docs/opendata.md). BadRequestData when the dataset's q or area does
// not parse.
Result<ExportResult> exportDataset(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                   ExportFormat format);

// The published entities of a dataset, one at a time, paging through the store: `visit` gets
// the type (term), its published attributes (term, expanded IRI) and the entity (internal form).
using PublishedVisitor = std::function<Status(
    const std::string& type, const std::vector<std::pair<std::string, std::string>>& attrs, const Json& entity)>;
Status forEachPublished(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                        const PublishedVisitor& visit);

// The history of the dataset's published attributes recorded in [from, to) as CSV (entityId,
// type, attribute, observedAt, recordedAt, value), through the temporal store; one history query
// per entity (at most kHistoryInstances instances per attribute).
inline constexpr size_t kHistoryInstances = 100000;
Result<ExportResult> exportHistory(Services& services, const store::TenantRecord& tenant, const Dataset& d, Micros from,
                                   Micros to);

// Checks that the dataset's filters (q, area) plan against the core @context.
Status checkDatasetFilters(Services& services, const store::TenantRecord& tenant, const Dataset& d);

}  // namespace allmende::api
