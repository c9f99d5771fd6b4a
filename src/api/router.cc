#include "api/router.h"

#include <algorithm>
#include <map>
#include <vector>

#include "api/access.h"
#include "api/admin.h"
#include "api/audit.h"
#include "api/distributed.h"
#include "api/handlers.h"
#include "api/ingest.h"
#include "api/open_data.h"
#include "api/twin_http.h"
#include "api/problem.h"
#include "api/web_assets.h"
#include "api/web_hazard.h"

namespace allmende::api {

namespace {

using Op = federation::Operation;

// Liveness for load balancers: cheap, and tells nothing about any tenant's data.
http::Response health(Call&) {
  http::Response r;
  r.setHeader("Content-Type", "application/json");
  r.body = "{\"status\":\"ok\"}";
  return r;
}

struct Route {
  const char* method;
  const char* pattern;  // segments; {name} captures one segment
  HandlerFn handler;
  // Who may call it (api/access.h); the default derives it from the method.
  Access access = Access::kByMethod;
};

// NGSI-LD HTTP binding (clause 6), in the order of the spec.
constexpr Route kRoutes[] = {
    {"GET", "/health", health, Access::kOpen},
    {"POST", "/ngsi-ld/v1/entities", forwardedWrite<createEntity, Op::kCreateEntity>},
    {"GET", "/ngsi-ld/v1/entities", queryEntities},
    {"DELETE", "/ngsi-ld/v1/entities", purgeEntities},
    {"GET", "/ngsi-ld/v1/entities/{entityId}", retrieveEntity},
    {"DELETE", "/ngsi-ld/v1/entities/{entityId}", forwardedWrite<deleteEntity, Op::kDeleteEntity>},
    {"PUT", "/ngsi-ld/v1/entities/{entityId}", forwardedWrite<replaceEntity, Op::kReplaceEntity>},
    {"PATCH", "/ngsi-ld/v1/entities/{entityId}", forwardedWrite<mergeEntity, Op::kMergeEntity>},
    {"POST", "/ngsi-ld/v1/entities/{entityId}/attrs", forwardedWrite<appendAttributes, Op::kAppendAttrs>},
    {"PATCH", "/ngsi-ld/v1/entities/{entityId}/attrs", forwardedWrite<updateAttributes, Op::kUpdateAttrs>},
    {"PATCH", "/ngsi-ld/v1/entities/{entityId}/attrs/{attrId}", forwardedWrite<partialAttributeUpdate, Op::kUpdateAttrs>},
    {"PUT", "/ngsi-ld/v1/entities/{entityId}/attrs/{attrId}", forwardedWrite<replaceAttribute, Op::kReplaceAttrs>},
    {"DELETE", "/ngsi-ld/v1/entities/{entityId}/attrs/{attrId}", forwardedWrite<deleteAttribute, Op::kDeleteAttrs>},
    {"POST", "/ngsi-ld/v1/entityOperations/create", forwardedBatch<batchCreate, Op::kCreateBatch>},
    {"POST", "/ngsi-ld/v1/entityOperations/upsert", forwardedBatch<batchUpsert, Op::kUpsertBatch>},
    {"POST", "/ngsi-ld/v1/entityOperations/update", forwardedBatch<batchUpdate, Op::kUpdateBatch>},
    {"POST", "/ngsi-ld/v1/entityOperations/delete", forwardedBatch<batchDelete, Op::kDeleteBatch>, Access::kEdit},
    {"POST", "/ngsi-ld/v1/entityOperations/merge", forwardedBatch<batchMerge, Op::kMergeBatch>},
    {"POST", "/ngsi-ld/v1/entityOperations/query", batchQuery, Access::kRead},
    {"GET", "/ngsi-ld/v1/types", forwardedDiscovery<listTypes, Op::kRetrieveEntityTypes>},
    {"GET", "/ngsi-ld/v1/types/{type}", forwardedDiscovery<typeInfo, Op::kRetrieveEntityTypeInfo>},
    {"GET", "/ngsi-ld/v1/attributes", forwardedDiscovery<listAttributes, Op::kRetrieveAttrTypes>},
    {"GET", "/ngsi-ld/v1/attributes/{attrId}", forwardedDiscovery<attributeInfo, Op::kRetrieveAttrTypeInfo>},
    {"GET", "/ngsi-ld/v1/jsonldContexts", listContexts},
    {"POST", "/ngsi-ld/v1/jsonldContexts", addContext},
    {"GET", "/ngsi-ld/v1/jsonldContexts/{contextId}", retrieveContext},
    {"DELETE", "/ngsi-ld/v1/jsonldContexts/{contextId}", deleteContext},
    {"GET", "/ngsi-ld/v1/temporal/entities", forwardedTemporal<queryTemporal, Op::kQueryTemporal>},
    {"POST", "/ngsi-ld/v1/temporal/entities", createTemporal},
    {"GET", "/ngsi-ld/v1/temporal/entities/{entityId}", forwardedTemporal<retrieveTemporal, Op::kRetrieveTemporal>},
    {"DELETE", "/ngsi-ld/v1/temporal/entities/{entityId}", deleteTemporal},
    {"POST", "/ngsi-ld/v1/temporal/entities/{entityId}/attrs", appendTemporal},
    {"DELETE", "/ngsi-ld/v1/temporal/entities/{entityId}/attrs/{attrId}", deleteTemporalAttribute},
    {"PATCH", "/ngsi-ld/v1/temporal/entities/{entityId}/attrs/{attrId}/{instanceId}", modifyTemporalInstance},
    {"DELETE", "/ngsi-ld/v1/temporal/entities/{entityId}/attrs/{attrId}/{instanceId}", deleteTemporalInstance},
    {"POST", "/ngsi-ld/v1/temporal/entityOperations/query", forwardedTemporal<queryTemporalPost, Op::kQueryTemporal>, Access::kRead},
    {"POST", "/ngsi-ld/v1/subscriptions", createSubscription},
    {"GET", "/ngsi-ld/v1/subscriptions", querySubscriptions},
    {"GET", "/ngsi-ld/v1/subscriptions/{subscriptionId}", retrieveSubscription},
    {"PATCH", "/ngsi-ld/v1/subscriptions/{subscriptionId}", updateSubscription},
    {"DELETE", "/ngsi-ld/v1/subscriptions/{subscriptionId}", deleteSubscription},
    // Federation (issue 12): registrations are written by editors and tenant admins, never devices.
    {"POST", "/ngsi-ld/v1/csourceRegistrations", createCSourceRegistration, Access::kEdit},
    {"GET", "/ngsi-ld/v1/csourceRegistrations", queryCSourceRegistrations},
    {"GET", "/ngsi-ld/v1/csourceRegistrations/{registrationId}", retrieveCSourceRegistration},
    {"PATCH", "/ngsi-ld/v1/csourceRegistrations/{registrationId}", updateCSourceRegistration, Access::kEdit},
    {"DELETE", "/ngsi-ld/v1/csourceRegistrations/{registrationId}", deleteCSourceRegistration, Access::kEdit},
    {"POST", "/ngsi-ld/v1/csourceSubscriptions", createCSourceSubscription, Access::kEdit},
    {"GET", "/ngsi-ld/v1/csourceSubscriptions", queryCSourceSubscriptions},
    {"GET", "/ngsi-ld/v1/csourceSubscriptions/{subscriptionId}", retrieveCSourceSubscription},
    {"PATCH", "/ngsi-ld/v1/csourceSubscriptions/{subscriptionId}", updateCSourceSubscription, Access::kEdit},
    {"DELETE", "/ngsi-ld/v1/csourceSubscriptions/{subscriptionId}", deleteCSourceSubscription, Access::kEdit},
    // Admin API (docs/tenancy.md): tenant lifecycle, keys, roll-in checklist.
    {"POST", "/admin/v1/tenants", adminCreateTenant, Access::kPlatformAdmin},
    {"GET", "/admin/v1/tenants", adminListTenants, Access::kPlatformAdmin},
    {"GET", "/admin/v1/tenants/{tenant}", adminShowTenant, Access::kTenantAdmin},
    {"PATCH", "/admin/v1/tenants/{tenant}", adminPatchTenant, Access::kPlatformAdmin},
    {"DELETE", "/admin/v1/tenants/{tenant}", adminDeleteTenant, Access::kPlatformAdmin},
    {"GET", "/admin/v1/tenants/{tenant}/checklist", adminTenantChecklist, Access::kTenantAdmin},
    {"PATCH", "/admin/v1/tenants/{tenant}/checklist/{item}", adminSetChecklistItem, Access::kTenantAdmin},
    {"GET", "/admin/v1/tenants/{tenant}/keys", adminListKeys, Access::kTenantAdmin},
    {"POST", "/admin/v1/tenants/{tenant}/keys", adminCreateKey, Access::kTenantAdmin},
    {"DELETE", "/admin/v1/tenants/{tenant}/keys/{keyId}", adminRevokeKey, Access::kTenantAdmin},
    {"GET", "/admin/v1/tenants/{tenant}/usage", adminTenantUsage, Access::kTenantAdmin},
    {"GET", "/admin/v1/tenants/{tenant}/audit", adminTenantAudit, Access::kTenantAdmin},
    {"GET", "/admin/v1/tenants/{tenant}/export", adminExportTenant, Access::kTenantAdmin},
    {"POST", "/admin/v1/tenant-imports", adminImportTenant, Access::kPlatformAdmin},
    {"GET", "/admin/v1/templates", adminListTemplates, Access::kPlatformAdmin},
    // IoT ingestion (docs/ingestion.md): device registry and the HTTP ingest endpoint.
    {"GET", "/admin/v1/devices", adminListDevices, Access::kTenantAdmin},
    {"POST", "/admin/v1/devices", adminCreateDevice, Access::kTenantAdmin},
    {"GET", "/admin/v1/devices/{deviceId}", adminShowDevice, Access::kTenantAdmin},
    {"PUT", "/admin/v1/devices/{deviceId}", adminReplaceDevice, Access::kTenantAdmin},
    {"DELETE", "/admin/v1/devices/{deviceId}", adminDeleteDevice, Access::kTenantAdmin},
    {"GET", "/admin/v1/mosquitto/{file}", adminMosquittoConfig, Access::kPlatformAdmin},
    {"POST", "/ingest/v1/{tenant}/{device}", ingestPayload, Access::kWrite},
    // Open data (issue 11, docs/opendata.md): dataset definitions, catalogues, distributions.
    {"GET", "/admin/v1/tenants/{tenant}/datasets", adminListDatasets, Access::kTenantAdmin},
    {"GET", "/admin/v1/tenants/{tenant}/datasets/{datasetId}", adminShowDataset, Access::kTenantAdmin},
    {"PUT", "/admin/v1/tenants/{tenant}/datasets/{datasetId}", adminPutDataset, Access::kTenantAdmin},
    {"DELETE", "/admin/v1/tenants/{tenant}/datasets/{datasetId}", adminDeleteDataset, Access::kTenantAdmin},
    {"GET", "/open/v1/catalog", openPlatformCatalog, Access::kOpen},
    {"GET", "/open/v1/{tenant}/catalog", openTenantCatalog, Access::kOpen},
    {"GET", "/open/v1/{tenant}/datasets/{datasetId}/{file}", openDistribution, Access::kOpen},
    {"GET", "/open/v1/{tenant}/datasets/{datasetId}/history/{file}", openHistory, Access::kOpen},
    // Digital twin (issue 9, docs/twin.md): editors and tenant admins define and run, readers read.
    {"POST", "/twin/v1/scenarios", twinCreateScenario, Access::kEdit},
    {"GET", "/twin/v1/scenarios", twinListScenarios, Access::kRead},
    {"GET", "/twin/v1/scenarios/{scenarioId}", twinShowScenario, Access::kRead},
    {"PUT", "/twin/v1/scenarios/{scenarioId}", twinReplaceScenario, Access::kEdit},
    {"DELETE", "/twin/v1/scenarios/{scenarioId}", twinDeleteScenario, Access::kEdit},
    {"PUT", "/twin/v1/scenarios/{scenarioId}/inputs/{input}", twinPutInput, Access::kEdit},
    {"GET", "/twin/v1/scenarios/{scenarioId}/inputs/{input}", twinGetInput, Access::kRead},
    {"POST", "/twin/v1/runs", twinCreateRun, Access::kEdit},
    {"GET", "/twin/v1/runs", twinListRuns, Access::kRead},
    {"GET", "/twin/v1/runs/{runId}", twinShowRun, Access::kRead},
    {"GET", "/twin/v1/runs/{runId}/progress", twinRunProgress, Access::kRead},
    {"POST", "/twin/v1/runs/{runId}/start", twinStartRun, Access::kEdit},
    {"POST", "/twin/v1/runs/{runId}/cancel", twinCancelRun, Access::kEdit},
    {"GET", "/twin/v1/runs/{runId}/results", twinRunResults, Access::kRead},
    {"GET", "/twin/v1/runs/{runId}/results/{file}", twinRunResultFile, Access::kRead},
    // The web app (issue 10, docs/web.md): citizen app at /, operator console at /console/.
    {"GET", "/", serveWebApp, Access::kOpen},
    {"GET", "/{file}", serveWebApp, Access::kOpen},
    {"GET", "/assets/{file}", serveWebApp, Access::kOpen},
    {"GET", "/console", serveWebApp, Access::kOpen},
    {"GET", "/app-hazard/{runId}/{file}", serveHazardFile, Access::kOpen},
};

// RFC 9110 9.3.2: HEAD answers as GET without the content. Offered for the open GET routes (the
// web app, open data, health); the server drops the body and keeps its Content-Length.
bool answersAsGet(const Route& route, const std::string& method) {
  return method == "HEAD" && route.access == Access::kOpen && std::string_view(route.method) == "GET";
}

void addAllowed(std::string& allow, std::string_view method) {
  for (size_t at = 0; at < allow.size();) {
    size_t end = std::min(allow.find(", ", at), allow.size());
    if (std::string_view(allow).substr(at, end - at) == method) return;
    at = end + 2;
  }
  allow += (allow.empty() ? "" : ", ") + std::string(method);
}

// The segments of a raw (percent-encoded) path, each decoded. Splitting before decoding keeps an
// encoded '/' inside its segment (entity ids and attribute IRIs may contain one). False on a
// malformed escape.
bool splitPath(std::string_view path, std::vector<std::string>& segments) {
  segments.clear();
  if (path.empty() || path[0] != '/') return false;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    size_t end = path.find('/');
    segments.emplace_back();
    if (!http::percentDecode(path.substr(0, end), segments.back())) return false;
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return true;
}

// Matches the decoded path segments against `pattern`, filling the captures; a captured segment
// may not be empty.
bool matchPath(std::string_view pattern, const std::vector<std::string>& segments,
               std::map<std::string, std::string>& params) {
  params.clear();
  size_t k = 0;
  while (!pattern.empty()) {
    if (k == segments.size() || pattern[0] != '/') return false;
    pattern.remove_prefix(1);
    size_t pe = pattern.find('/');
    std::string_view pseg = pattern.substr(0, pe);
    const std::string& sseg = segments[k++];
    if (pseg.size() > 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (sseg.empty()) return false;
      params.emplace(std::string(pseg.substr(1, pseg.size() - 2)), sseg);
    } else if (pseg != sseg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
  }
  return k == segments.size();
}

}  // namespace

http::Response Router::handle(http::Request& request) {
  std::map<std::string, std::string> params;
  std::string allow;
  std::string_view path = request.rawPath.empty() ? request.path : request.rawPath;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> segments;
  if (!splitPath(path, segments)) return problemResponse(notFound("no resource at " + request.path));
  for (const auto& route : kRoutes) {
    if (!matchPath(route.pattern, segments, params)) continue;
    if (request.method == route.method || answersAsGet(route, request.method)) {
      Call call(request, services_, std::move(params));
      // The one access check (api/access.h): credentials, roles, tenant, quota.
      if (services_.access) {
        if (auto denied = services_.access->guard(route.access, call)) {
          auditCall(call, *denied);
          return std::move(*denied);
        }
      }
      // The audit record travels with the handler's writes (api/audit.h).
      AuditScope audit(call);
      if (auto refused = audit.begin()) return std::move(*refused);
      http::Response response = route.handler(call);
      audit.finish(response);
      return response;
    }
    addAllowed(allow, route.method);
    if (route.access == Access::kOpen && std::string_view(route.method) == "GET") addAllowed(allow, "HEAD");
  }
  if (!allow.empty()) {
    http::Response r = problemResponse(Status(ErrorType::kMethodNotAllowed, request.method + " is not allowed here"));
    r.setHeader("Allow", allow);
    return r;
  }
  return problemResponse(notFound("no resource at " + request.path));
}

}  // namespace allmende::api
