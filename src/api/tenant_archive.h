// The parts of the tenant archive (docs/tenancy.md "Export and import") beyond entities, keys
// and audit records: history, subscriptions, devices, open-data datasets, hosted @contexts,
// the digital twin's flood scenarios and runs (their files, twin/run_queue.h), context source
// registrations and csourceSubscriptions.
// Each part has a writer (one archive line per item) and a reader (one line back into a record);
// tenant_export.cc puts them together in order and restores them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/services.h"
#include "ld/context_store.h"
#include "store/dataset_store.h"
#include "store/device_registry.h"
#include "store/notification_store.h"
#include "store/registration_store.h"
#include "store/temporal.h"

namespace allmende::api {

// One line of history: some instances of one entity id (an id with many instances takes several
// lines, in order).
struct HistoryPart {
  std::string id;
  std::string types;  // JSON array text
  std::vector<store::StoredInstance> instances;
};

struct ArchiveParts {
  std::vector<HistoryPart> history;
  std::vector<store::StoredSubscription> subscriptions;        // tenant left empty
  std::vector<store::DeviceRecord> devices;                    // tenant left empty
  std::vector<store::DatasetRecord> datasets;                  // tenant left empty
  std::vector<ld::ContextInfo> contexts;                       // hosted @contexts owned by the tenant
  std::vector<std::pair<std::string, std::string>> twinFiles;  // path, bytes (RunQueue::tenantFiles)
  std::vector<store::CSourceRecord> csourceRegistrations;      // tenant left empty
  std::vector<store::CSourceRecord> csourceSubscriptions;      // tenant left empty
  size_t historyInstances = 0;
};

using LineSink = std::function<void(std::string)>;

// Writers: each returns the number of items written (history: instances).
Result<size_t> exportHistory(Services& services, const std::string& tenant, const LineSink& out);
Result<size_t> exportSubscriptions(Services& services, const std::string& tenant, const LineSink& out);
Result<size_t> exportDevices(Services& services, const std::string& tenant, const LineSink& out);
Result<size_t> exportDatasets(Services& services, const std::string& tenant, const LineSink& out);
Result<size_t> exportContexts(Services& services, const std::string& tenant, const LineSink& out);
// The files of the tenant's flood scenarios and runs (none without the twin).
Result<size_t> exportTwin(Services& services, const std::string& tenant, const LineSink& out);

// Context source registrations and csourceSubscriptions (NGSI-LD 5.9, 5.11) in their stored
// internal form (none when federation is off).
Result<size_t> exportCSourceRegistrations(Services& services, const std::string& tenant, const LineSink& out);
Result<size_t> exportCSourceSubscriptions(Services& services, const std::string& tenant, const LineSink& out);

// Reads one line of one of these kinds into `parts`; false when `kind` is none of them.
// BadRequestData when the line is malformed.
Result<bool> readPartLine(const std::string& kind, const Json& line, ArchiveParts& parts);

// Restores the parts into `tenant` (which exists and holds the archive's entities already).
// Subscriptions are restored last of the data, so that restoring notifies nobody (so are
// csourceSubscriptions, after the registrations). The twin's
// scenarios and runs come before them (a restored run publishes nothing until it runs).
Status restoreParts(Services& services, const std::string& tenant, const ArchiveParts& parts);

// Removes what the parts cover from a tenant that is being deleted: subscriptions (first, so
// that deleting the entities notifies nobody), csourceSubscriptions and registrations, devices,
// datasets, hosted @contexts. The history
// goes after the entities (their deletion leaves history too): deleteTenantHistory.
Status deleteTenantParts(Services& services, const std::string& tenant);
Status deleteTenantHistory(Services& services, const std::string& tenant);

}  // namespace allmende::api
