// POST /ingest/v1/{tenant}/{device} (docs/ingestion.md).
#include "api/ingest.h"

#include "api/handlers.h"
#include "api/problem.h"
#include "api/tenant_admission.h"
#include "ingest/ingestor.h"

namespace allmende::api {

std::string ingestTenant(const std::string& segment) { return segment == "@default" ? "" : segment; }

namespace {

// A device key (role device, no editor role) may feed only devices whose entity it may write.
Status deviceKeyMayFeed(const Call& call, const store::DeviceRecord& device) {
  const auth::Principal& p = call.principal();
  if (!p.roles.has(auth::Role::kDevice) || p.roles.has(auth::Role::kEditor) || p.roles.has(auth::Role::kTenantAdmin)) {
    return Status::ok();
  }
  if (p.entityPrefix.empty() || device.entityId.compare(0, p.entityPrefix.size(), p.entityPrefix) != 0) {
    return Status(ErrorType::kForbidden, "this device key may not write entity " + device.entityId.substr(0, 200));
  }
  return Status::ok();
}

}  // namespace

http::Response ingestPayload(Call& call) {
  ingest::Ingestor* ingestor = call.services().ingestor;
  if (!ingestor) return problemResponse(Status(ErrorType::kOperationNotSupported, "ingestion is not enabled"));
  std::string tenant = ingestTenant(call.pathParam("tenant"));
  if (!tenant.empty()) {
    if (!isValidTenantName(tenant)) return problemResponse(badRequestData("invalid tenant name in the path"));
    if (call.services().tenants) ALLMENDE_RETURN_IF_ERROR_RESPONSE(admitTenant(call.services(), tenant, true));
  }
  std::string_view type = call.request().header("content-type");
  if (!type.empty() && type.find("json") == std::string_view::npos) {
    return problemResponse(Status(ErrorType::kUnsupportedMediaType, "a payload is JSON (application/json)"));
  }
  const std::string& deviceId = call.pathParam("device");
  auto device = ingestor->devices().findDevice(tenant, deviceId);
  if (!device) return problemResponse(notFound("no device " + deviceId.substr(0, 200)));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(deviceKeyMayFeed(call, device->record));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(ingestor->ingest(tenant, deviceId, call.request().body));
  return emptyResponse(204);
}

}  // namespace allmende::api
