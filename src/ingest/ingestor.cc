#include "ingest/ingestor.h"

#include <spdlog/spdlog.h>

#include <map>
#include <memory>

#include "ingest/mapping.h"
#include "model/expand.h"
#include "model/mutation.h"

namespace allmende::ingest {

namespace {

// Payloads are small sensor messages; anything bigger is refused before parsing.
constexpr size_t kMaxPayloadBytes = 64 * 1024;
// Parsed mappings kept (by their text); the cache starts over when full.
constexpr size_t kMaxCachedMappings = 10000;

// The entity to create on the first measurement: id, type, static attributes, the measurement.
JsonDocument creationBody(const store::DeviceRecord& r, const DeviceMapping& m, const Json& fragment) {
  JsonDocument body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  body.AddMember("id", jsonString(r.entityId, a), a);
  body.AddMember("type", jsonString(r.entityType, a), a);
  if (!m.staticAttributes.empty()) {
    JsonDocument s;
    if (parseJson(m.staticAttributes, s).isOk() && s.IsObject()) {
      for (auto& member : s.GetObject()) {
        if (!findMember(fragment, asView(member.name))) body.AddMember(Json(member.name, a), Json(member.value, a), a);
      }
    }
  }
  for (const auto& member : fragment.GetObject()) body.AddMember(Json(member.name, a), Json(member.value, a), a);
  return body;
}

}  // namespace

Status Ingestor::ingest(const std::string& tenant, const std::string& deviceId, std::string_view payload) {
  auto device = devices_.findDevice(tenant, deviceId);
  if (!device) return notFound("no device " + deviceId.substr(0, 200));
  Micros now = clock_.now();
  auto op = prepare(*device, payload, now);
  Status st = op ? Status::ok() : op.status();
  if (op) {
    std::vector<store::WriteOp> ops;
    ops.push_back(std::move(op).value());
    st = store_.write(tenant, std::move(ops))[0];
  }
  record(tenant, deviceId, now, st);
  return st;
}

void Ingestor::ingestBatch(const std::vector<const Payload*>& items) {
  Micros now = clock_.now();
  std::map<std::string, std::vector<const Payload*>> byTenant;
  for (const Payload* p : items) byTenant[p->tenant].push_back(p);
  for (auto& [tenant, list] : byTenant) {
    std::vector<store::WriteOp> ops;
    std::vector<const Payload*> written;
    for (const Payload* p : list) {
      auto device = devices_.findDevice(tenant, p->device);
      if (!device) {
        spdlog::warn("ingest: tenant '{}': message for unknown device '{}' dropped", tenant, p->device.substr(0, 200));
        continue;
      }
      auto op = prepare(*device, p->payload, now);
      if (!op) {
        record(tenant, p->device, now, op.status());
        continue;
      }
      ops.push_back(std::move(op).value());
      written.push_back(p);
    }
    if (ops.empty()) continue;
    auto results = store_.write(tenant, std::move(ops));
    for (size_t i = 0; i < written.size(); ++i) record(tenant, written[i]->device, now, results[i]);
  }
}

void Ingestor::record(const std::string& tenant, const std::string& deviceId, Micros now, const Status& st) {
  devices_.recordOutcome(tenant, deviceId, now, st);
  if (!st.isOk()) {
    spdlog::warn("ingest: tenant '{}' device '{}' payload rejected: {}", tenant, deviceId, st.detail());
  }
}

Result<std::shared_ptr<const DeviceMapping>> Ingestor::mappingOf(const std::string& text) {
  std::lock_guard lock(mappingsMutex_);
  auto it = mappings_.find(text);
  if (it != mappings_.end()) return it->second;
  JsonDocument json;
  ALLMENDE_RETURN_IF_ERROR(parseJson(text, json));
  auto mapping = parseMapping(json);
  if (!mapping) return mapping.status();
  if (mappings_.size() >= kMaxCachedMappings) mappings_.clear();
  auto shared = std::make_shared<const DeviceMapping>(std::move(mapping).value());
  mappings_.emplace(text, shared);
  return shared;
}

Result<store::WriteOp> Ingestor::prepare(const store::Device& device, std::string_view payload, Micros now) {
  if (payload.size() > kMaxPayloadBytes) return Status(ErrorType::kBadRequestData, "the payload exceeds 64 KiB");
  auto mapping = mappingOf(device.record.mapping);
  if (!mapping) return mapping.status();
  JsonDocument doc;
  JsonLimits limits;
  limits.maxDepth = 16;
  ALLMENDE_RETURN_IF_ERROR(parseJson(payload, doc, limits));
  auto fragment = mapPayload(**mapping, doc);
  if (!fragment) return fragment.status();
  std::shared_ptr<const ld::Context> core = contexts_.core();
  auto merge = model::expandFragment(*fragment, *core, device.record.entityId);
  if (!merge) return merge.status();
  auto mergeDoc = std::make_shared<JsonDocument>(std::move(merge).value());
  auto fragmentDoc = std::make_shared<JsonDocument>(std::move(fragment).value());
  auto record = std::make_shared<store::DeviceRecord>(device.record);
  std::shared_ptr<const DeviceMapping> m = *mapping;
  return store::WriteOp{device.record.entityId, [=](const Json* current) -> Result<store::WriteEffect> {
                          // NGSI-LD 5.6.17: a measurement merges into the entity, like PATCH /entities/{id};
                          // the first one creates it with the static attributes.
                          Result<JsonDocument> next = Status(ErrorType::kInternalError, "unset");
                          if (current) {
                            next = model::mergeEntity(current, *mergeDoc, now);
                          } else {
                            auto create = model::expandEntity(creationBody(*record, *m, *fragmentDoc), *core);
                            if (!create) return create.status();
                            next = model::createEntity(nullptr, *create, now);
                          }
                          if (!next) return next.status();
                          store::WriteEffect effect;
                          effect.kind = store::WriteEffect::Kind::kUpsert;
                          effect.entity = std::move(next).value();
                          return effect;
                        }};
}

}  // namespace allmende::ingest
