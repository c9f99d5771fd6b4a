// The distributions of an open-data dataset (issue 11, docs/opendata.md): the current state of
// its entities as GeoJSON, CSV or NGSI-LD keyValues -- only the public attributes
// (api/public_read.h publicAttributes, narrowed by the dataset's `attributes`).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/open_dataset.h"
#include "api/services.h"
#include "http/message.h"
#include "store/tenant_registry.h"

namespace allmende::api {

enum class ExportFormat { kGeoJson, kCsv, kKeyValues };

// Entities per store query while exporting (keyset paging: EntityQuery::after).
inline constexpr size_t kExportPage = 1000;

struct ExportResult {
  std::string body;
  Micros lastModified = 0;  // newest modifiedAt of an exported entity (0 = none)
  size_t entities = 0;
};

// What a download's validators (ETag, Last-Modified) are made of, known before its body is sent.
struct ExportValidators {
  // FNV-1a 64 over the format, the definition, the published attributes of each type, and the id
  // and modifiedAt of every exported entity in order: any change of what the download holds
  // changes it (the store sets modifiedAt, to the microsecond, on every change of an entity).
  uint64_t fingerprint = 0;
  Micros lastModified = 0;  // newest modifiedAt of an exported entity (0 = none)
  size_t entities = 0;
};

// One pass over the dataset's published entities without rendering them (a page of kExportPage
// entities in memory at a time). BadRequestData when the dataset's q or area does not parse.
Result<ExportValidators> exportValidators(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                          ExportFormat format);

// The download itself, made page by page while the server sends it (constant memory: one page
// of entities and its rendering at a time). The server calls it after the handler returned:
// `services` must outlive the server. An entity changed between exportValidators and the
// download shows its new state (each page is read when it is sent).
Result<std::shared_ptr<http::BodySource>> openExport(Services& services, const store::TenantRecord& tenant,
                                                     const Dataset& d, ExportFormat format);

// The whole download in memory (tests, small datasets).
Result<ExportResult> exportDataset(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                   ExportFormat format);

// The published entities of a dataset, one at a time, paging through the store: `visit` gets
// the type (term), its published attributes (term, expanded IRI) and the entity (internal form).
using PublishedVisitor = std::function<Status(
    const std::string& type, const std::vector<std::pair<std::string, std::string>>& attrs, const Json& entity)>;
Status forEachPublished(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                        const PublishedVisitor& visit);

// The history of the dataset's published attributes recorded in [from, to) as CSV (entityId,
// type, attribute, observedAt, recordedAt, value), through the temporal store: one history query
// per entity (at most kHistoryInstances instances per attribute), first of the entities there
// are now, then of deleted ones (not for a dataset with q or area). Validators, stream and
// whole body as for the current state above; the validators hash each row's entity,
// attribute, instance id and modification time.
inline constexpr size_t kHistoryInstances = 100000;
Result<ExportValidators> historyValidators(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                           Micros from, Micros to);
Result<std::shared_ptr<http::BodySource>> openHistoryExport(Services& services, const store::TenantRecord& tenant,
                                                            const Dataset& d, Micros from, Micros to);
Result<ExportResult> exportHistory(Services& services, const store::TenantRecord& tenant, const Dataset& d, Micros from,
                                   Micros to);

// Checks that the dataset's filters (q, area) plan against the core @context.
Status checkDatasetFilters(Services& services, const store::TenantRecord& tenant, const Dataset& d);

}  // namespace allmende::api
