// IoT ingestion over HTTP and the device registry's admin API (docs/ingestion.md).
#pragma once

#include "api/access.h"
#include "api/call.h"
#include "http/message.h"
#include "ingest/ingestor.h"

namespace allmende::api {

// POST /ingest/v1/{tenant}/{device}: one payload of a registered device (webhooks of LoRaWAN
// network servers). The default tenant is written "@default".
http::Response ingestPayload(Call& call);

// /admin/v1/devices[/{deviceId}] in the tenant of the NGSILD-Tenant header.
http::Response adminListDevices(Call& call);
http::Response adminCreateDevice(Call& call);
http::Response adminShowDevice(Call& call);
http::Response adminReplaceDevice(Call& call);
http::Response adminDeleteDevice(Call& call);
// GET /admin/v1/mosquitto/{file}: "passwd" or "acl" (?agent=user&prefix=topic-prefix).
http::Response adminMosquittoConfig(Call& call);

// A device registration from its JSON body, as the admin API and the CLI take it
// (docs/ingestion.md): readNewDevice also reads the "id", readDeviceBody the rest (entity,
// mapping, mqtt credentials, expectedInterval) into `r`. BadRequestData with the reason.
Status readNewDevice(const Json& body, const ld::Context& core, store::DeviceRecord& r);
Status readDeviceBody(const Json& body, const ld::Context& core, store::DeviceRecord& r);
// The device as the admin API shows it, with its health at `now`.
std::string deviceJson(const store::Device& d, Micros now);

// The tenant quotas of ingested measurements, met as API writes meet them (AccessControl).
class IngestQuotaGuard final : public ingest::IngestQuotas {
 public:
  IngestQuotaGuard(AccessControl& access, store::Store& store, const Clock& clock)
      : access_(access), store_(store), clock_(clock) {}
  Status admitMeasurement(const std::string& tenant, bool createsEntity, bool requestCounted) override {
    return access_.admitMeasurement(tenant, createsEntity, requestCounted, store_, clock_.now());
  }

 private:
  AccessControl& access_;
  store::Store& store_;
  const Clock& clock_;
};

// The tenant a path segment of the ingestion API names ("@default" = the default tenant "").
std::string ingestTenant(const std::string& segment);

}  // namespace allmende::api
