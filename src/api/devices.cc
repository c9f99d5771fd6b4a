// The device registry's admin API, /admin/v1/devices (docs/ingestion.md). The tenant is the one
// of the NGSILD-Tenant header; access class tenant-admin (router.cc).
#include "api/handlers.h"
#include "api/ingest.h"
#include "api/problem.h"
#include "ingest/ingestor.h"
#include "ingest/mapping.h"
#include "ingest/mosquitto_config.h"
#include "model/entity.h"
#include "model/expand.h"

namespace allmende::api {

namespace {

void writeString(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void writeDevice(JsonWriter& w, const store::Device& d, Micros now) {
  const store::DeviceRecord& r = d.record;
  w.StartObject();
  writeString(w, "id", r.id);
  w.Key("entity");
  w.StartObject();
  writeString(w, "id", r.entityId);
  writeString(w, "type", r.entityType);
  w.EndObject();
  w.Key("mapping");
  JsonDocument m;
  if (parseJson(r.mapping, m).isOk()) {
    if (auto mapping = ingest::parseMapping(m))
      ingest::writeMapping(*mapping, w);
    else
      w.Null();
  } else {
    w.Null();
  }
  writeString(w, "mqttUsername", ingest::mqttUsername(r));
  w.Key("hasPassword");
  w.Bool(!r.passwordHash.empty());
  w.Key("expectedInterval");
  w.Int64(r.expectedIntervalSeconds);
  writeString(w, "createdAt", formatDateTime(r.created));
  if (d.health.lastSeen) writeString(w, "lastSeen", formatDateTime(d.health.lastSeen));
  if (d.health.lastErrorAt) {
    writeString(w, "lastErrorAt", formatDateTime(d.health.lastErrorAt));
    writeString(w, "lastError", d.health.lastError);
  }
  w.Key("accepted");
  w.Int64(d.health.accepted);
  w.Key("rejected");
  w.Int64(d.health.rejected);
  w.Key("silent");
  bool silent = store::isSilent(d, now);
  w.Bool(silent);
  if (silent) {
    // The moment its interval ran out: since then the device is overdue.
    Micros since = (d.health.lastSeen > 0 ? d.health.lastSeen : r.created) + r.expectedIntervalSeconds * 1000000;
    writeString(w, "silentSince", formatDateTime(since));
  }
  w.EndObject();
}

Status stringMember(const Json& body, std::string_view name, std::string& out) {
  const Json* v = findMember(body, name);
  if (!v || v->IsNull()) return Status::ok();
  if (!v->IsString()) return badRequestData("\"" + std::string(name) + "\" must be a string");
  out = std::string(asView(*v));
  return Status::ok();
}

}  // namespace

std::string deviceJson(const store::Device& d, Micros now) {
  JsonBuffer buf;
  JsonWriter w(buf);
  writeDevice(w, d, now);
  return std::string(buf.GetString(), buf.GetSize());
}

Status readDeviceBody(const Json& body, const ld::Context& core, store::DeviceRecord& r) {
  if (!body.IsObject()) return badRequestData("the body must be a JSON object");
  const Json* entity = findMember(body, "entity");
  if (!entity || !entity->IsObject()) return badRequestData("\"entity\" must be an object with \"id\" and \"type\"");
  ALLMENDE_RETURN_IF_ERROR(stringMember(*entity, "id", r.entityId));
  ALLMENDE_RETURN_IF_ERROR(stringMember(*entity, "type", r.entityType));
  if (!model::isUri(r.entityId)) return badRequestData("entity id '" + r.entityId.substr(0, 200) + "' is not a URI");
  auto type = model::expandTypeName(r.entityType, core);
  if (!type) return type.status();
  const Json* mapping = findMember(body, "mapping");
  if (!mapping) return badRequestData("\"mapping\" is required (docs/ingestion.md)");
  auto parsed = ingest::parseMapping(*mapping);
  if (!parsed) return parsed.status();
  for (const auto& f : parsed->fields) {
    auto attr = model::expandAttributeName(f.attribute, core);
    if (!attr) return attr.status();
  }
  if (!parsed->staticAttributes.empty()) {
    JsonDocument s;
    ALLMENDE_RETURN_IF_ERROR(parseJson(parsed->staticAttributes, s));
    auto frag = model::expandFragment(s, core, r.entityId);
    if (!frag) return frag.status();
  }
  JsonBuffer buf;
  JsonWriter w(buf);
  ingest::writeMapping(*parsed, w);
  r.mapping.assign(buf.GetString(), buf.GetSize());
  if (const Json* mqtt = findMember(body, "mqtt")) {
    if (!mqtt->IsObject()) return badRequestData("\"mqtt\" must be an object");
    std::string password;
    ALLMENDE_RETURN_IF_ERROR(stringMember(*mqtt, "username", r.mqttUsername));
    ALLMENDE_RETURN_IF_ERROR(stringMember(*mqtt, "password", password));
    if (!password.empty()) r.passwordHash = ingest::mosquittoPasswordHash(password);
  }
  if (const Json* interval = findMember(body, "expectedInterval")) {
    if (!interval->IsInt64() || interval->GetInt64() < 0) {
      return badRequestData("\"expectedInterval\" must be a number of seconds >= 0");
    }
    r.expectedIntervalSeconds = interval->GetInt64();
  }
  return Status::ok();
}

Status readNewDevice(const Json& body, const ld::Context& core, store::DeviceRecord& r) {
  if (body.IsObject()) ALLMENDE_RETURN_IF_ERROR(stringMember(body, "id", r.id));
  if (!isValidTenantName(r.id)) return badRequestData("device \"id\" must be 1-64 letters, digits, '-', '_', '.', ':'");
  return readDeviceBody(body, core, r);
}

namespace {

Status parseAdminJson(Call& call, JsonDocument& body) {
  std::string_view type = call.request().header("content-type");
  if (type.substr(0, type.find(';')) != "application/json") {
    return Status(ErrorType::kUnsupportedMediaType, "the admin API takes application/json");
  }
  return parseJson(call.request().body, body, call.services().options.json);
}

ingest::Ingestor* ingestorOf(Call& call, Status& st) {
  ingest::Ingestor* i = call.services().ingestor;
  st = i ? call.resolveTenant(false) : Status(ErrorType::kOperationNotSupported, "ingestion is not enabled");
  if (!st.isOk() && st.type() == ErrorType::kNonexistentTenant) st = Status::ok();  // a tenant without entities yet
  return i;
}

}  // namespace

http::Response adminListDevices(Call& call) {
  Status st;
  auto* ingestor = ingestorOf(call, st);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(st);
  bool silentOnly = false;
  if (const std::string* s = call.param("silent")) silentOnly = *s == "true";
  Micros now = call.now();
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& d : ingestor->devices().listDevices(call.tenant())) {
    if (!silentOnly || store::isSilent(d, now)) writeDevice(w, d, now);
  }
  w.EndArray();
  return plainJsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
}

http::Response adminCreateDevice(Call& call) {
  Status st;
  auto* ingestor = ingestorOf(call, st);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(st);
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseAdminJson(call, body));
  store::DeviceRecord r;
  r.tenant = call.tenant();
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readNewDevice(body, *call.services().contexts.core(), r));
  r.created = call.now();
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(ingestor->devices().createDevice(r));
  http::Response resp = plainJsonResponse(201, deviceJson(store::Device{r, {}}, call.now()));
  resp.setHeader("Location", "/admin/v1/devices/" + r.id);
  return resp;
}

http::Response adminShowDevice(Call& call) {
  Status st;
  auto* ingestor = ingestorOf(call, st);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(st);
  auto d = ingestor->devices().findDevice(call.tenant(), call.pathParam("deviceId"));
  if (!d) return problemResponse(notFound("no device " + call.pathParam("deviceId").substr(0, 200)));
  return plainJsonResponse(200, deviceJson(*d, call.now()));
}

http::Response adminReplaceDevice(Call& call) {
  Status st;
  auto* ingestor = ingestorOf(call, st);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(st);
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseAdminJson(call, body));
  store::DeviceRecord r;
  r.tenant = call.tenant();
  r.id = call.pathParam("deviceId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readDeviceBody(body, *call.services().contexts.core(), r));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(ingestor->devices().updateDevice(r));
  return emptyResponse(204);
}

// The Mosquitto password and ACL files of every tenant's devices (platform-admin).
http::Response adminMosquittoConfig(Call& call) {
  ingest::Ingestor* ingestor = call.services().ingestor;
  if (!ingestor) return problemResponse(Status(ErrorType::kOperationNotSupported, "ingestion is not enabled"));
  const std::string& file = call.pathParam("file");
  auto devices = ingestor->devices().allDevices();
  http::Response r;
  r.setHeader("Content-Type", "text/plain");
  if (file == "passwd") {
    r.body = ingest::mosquittoPasswordFile(devices);
  } else if (file == "acl") {
    const std::string* agent = call.param("agent");
    const std::string* prefix = call.param("prefix");
    r.body =
        ingest::mosquittoAclFile(devices, agent ? *agent : "allmende-ingest", prefix ? *prefix : "allmende/ingest");
  } else {
    return problemResponse(notFound("no Mosquitto file " + file.substr(0, 40) + " (passwd, acl)"));
  }
  return r;
}

http::Response adminDeleteDevice(Call& call) {
  Status st;
  auto* ingestor = ingestorOf(call, st);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(st);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(ingestor->devices().deleteDevice(call.tenant(), call.pathParam("deviceId")));
  return emptyResponse(204);
}

}  // namespace allmende::api
