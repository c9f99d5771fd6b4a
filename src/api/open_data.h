// Open data (issue 11, docs/opendata.md): dataset definitions through the admin API, the
// DCAT-AP.de catalogues and the distributions under /open/v1 (anonymous, per-client rate limit).
#pragma once

#include "api/call.h"
#include "http/message.h"

namespace allmende::api {

// /admin/v1/tenants/{tenant}/datasets[/{datasetId}] (tenant-admin)
http::Response adminListDatasets(Call& call);
http::Response adminShowDataset(Call& call);
http::Response adminPutDataset(Call& call);
http::Response adminDeleteDataset(Call& call);

// /open/v1 (anyone)
http::Response openPlatformCatalog(Call& call);
http::Response openTenantCatalog(Call& call);
http::Response openDistribution(Call& call);
// .../history/{YYYY-MM-DD}.csv or {YYYY-MM}.csv: the recorded history of one UTC day or month.
http::Response openHistory(Call& call);

}  // namespace allmende::api
