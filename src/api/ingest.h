// IoT ingestion over HTTP and the device registry's admin API (docs/ingestion.md).
#pragma once

#include "api/call.h"
#include "http/message.h"

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

// The tenant a path segment of the ingestion API names ("@default" = the default tenant "").
std::string ingestTenant(const std::string& segment);

}  // namespace allmende::api
