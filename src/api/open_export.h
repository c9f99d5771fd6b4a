// The distributions of an open-data dataset (issue 11, docs/opendata.md): the current state of
// its entities as GeoJSON, CSV or NGSI-LD keyValues -- only the public attributes
// (api/public_read.h publicAttributes, narrowed by the dataset's `attributes`).
#pragma once

#include <string>

#include "api/open_dataset.h"
#include "api/services.h"
#include "store/tenant_registry.h"

namespace allmende::api {

enum class ExportFormat { kGeoJson, kCsv, kKeyValues };

// Entities per store query while exporting.
inline constexpr size_t kExportPage = 500;

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

// Checks that the dataset's filters (q, area) plan against the core @context.
Status checkDatasetFilters(Services& services, const store::TenantRecord& tenant, const Dataset& d);

}  // namespace allmende::api
