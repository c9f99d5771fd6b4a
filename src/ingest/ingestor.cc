#include "ingest/ingestor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <unordered_set>

#include "ingest/mapping.h"
#include "model/expand.h"
#include "model/mutation.h"
#include "store/audit_journal.h"

namespace allmende::ingest {

namespace {

// Payloads are small sensor messages; anything bigger is refused before parsing.
constexpr size_t kMaxPayloadBytes = 64 * 1024;
// Parsed mappings kept (by their text); the cache starts over when full.
constexpr size_t kMaxCachedMappings = 10000;
// Entities known to exist (for the entity quota); the set starts over when full.
constexpr size_t kMaxKnownEntities = 100000;

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

// The devices of a tenant batch, as the audit record's subject: "device:<id>" or
// "devices:<id>,<id>,..." (at most 1024 characters).
std::string batchSubject(const std::vector<const Payload*>& devices) {
  std::unordered_set<std::string_view> seen;
  std::string ids;
  for (const Payload* p : devices) {
    if (ids.size() >= 1024) break;  // a long list is cut anyway
    if (seen.insert(p->device).second) ids.append(ids.empty() ? "" : ",").append(p->device);
  }
  return ((seen.size() == 1 ? "device:" : "devices:") + ids).substr(0, 1024);
}

// The journal row's text (store/audit_journal.h): the record without its status.
std::string journalText(const store::AuditRecord& r) {
  JsonBuffer buf;
  JsonWriter w(buf);
  auto member = [&w](const char* name, std::string_view v) {
    w.Key(name);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("at");
  w.Int64(r.at);
  member("tenant", r.tenant);
  member("subject", r.subject);
  member("auth", r.auth);
  member("roles", r.roles);
  member("action", r.action);
  member("target", r.target);
  member("remote", r.remote);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Status Ingestor::ingest(const std::string& tenant, const std::string& deviceId, std::string_view payload) {
  auto device = devices_.findDevice(tenant, deviceId);
  if (!device) return notFound("no device " + deviceId.substr(0, 200));
  Micros now = clock_.now();
  auto op = prepare(*device, payload, now);
  Status st = op ? admit(tenant, device->record, true) : op.status();
  if (st.isOk()) {
    std::vector<store::WriteOp> ops;
    ops.push_back(std::move(op).value());
    st = store_.write(tenant, std::move(ops))[0];
    if (st.isOk()) entityExists(tenant, device->record.entityId);
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
    std::vector<std::string> entities;    // of `written`
    std::vector<const Payload*> audited;  // written or refused by a quota
    size_t refusedByQuota = 0;
    for (const Payload* p : list) {
      auto device = devices_.findDevice(tenant, p->device);
      if (!device) {
        spdlog::warn("ingest: tenant '{}': message for unknown device '{}' dropped", tenant, p->device.substr(0, 200));
        continue;
      }
      auto op = prepare(*device, p->payload, now);
      Status st = op ? admit(tenant, device->record, false) : op.status();
      if (!st.isOk()) {
        if (op) {
          ++refusedByQuota;
          audited.push_back(p);
        }
        record(tenant, p->device, now, st);
        continue;
      }
      ops.push_back(std::move(op).value());
      written.push_back(p);
      audited.push_back(p);
      entities.push_back(device->record.entityId);
    }
    if (!audited.empty()) writeTenantBatch(tenant, std::move(ops), written, entities, audited, now);
  }
}

void Ingestor::writeTenantBatch(const std::string& tenant, std::vector<store::WriteOp> ops,
                                const std::vector<const Payload*>& written, const std::vector<std::string>& entities,
                                const std::vector<const Payload*>& audited, Micros now) {
  std::unique_ptr<store::JournalEntry> entry;
  store::AuditRecord audit;
  if (audit_) {
    // Like an API write (api/audit.h): the record's journal row commits with the change.
    audit.at = now;
    audit.tenant = tenant;
    audit.subject = batchSubject(audited);
    audit.auth = "mqtt";
    audit.roles = "device";
    audit.action = "PUBLISH";
    audit.target = auditSource_.topicPrefix + "/" + (tenant.empty() ? "@default" : tenant) + "/" +
                   (audit.subject.find(',') == std::string::npos ? audited[0]->device : "+");
    audit.target = audit.target.substr(0, 1024);
    audit.remote = auditSource_.broker;
    entry = std::make_unique<store::JournalEntry>();
    entry->id = store::JournalEntry::nextId();
    entry->text = journalText(audit);
  }
  size_t stored = 0;
  if (!ops.empty()) {
    std::optional<store::JournalScope> scope;
    if (entry) scope.emplace(entry.get());
    auto results = store_.write(tenant, std::move(ops));
    scope.reset();
    for (size_t i = 0; i < written.size(); ++i) {
      record(tenant, written[i]->device, now, results[i]);
      if (!results[i].isOk()) continue;
      ++stored;
      entityExists(tenant, entities[i]);
    }
  }
  if (!audit_) return;
  // 204: every measurement admitted was stored; 207: some were refused by the store or a quota;
  // 403: a quota refused them all. A batch of malformed payloads alone is not audited (the
  // device's counters and lastError show them).
  audit.status = stored == audited.size() ? 204 : stored > 0 ? 207 : 403;
  if (entry->written) {
    audit.journal = entry->id;
    audit_->post(std::move(audit));
  } else {
    (void)audit_->append(std::move(audit));
  }
}

Status Ingestor::admit(const std::string& tenant, const store::DeviceRecord& device, bool requestCounted) {
  if (!quotas_) return Status::ok();
  bool creates = createsEntity(tenant, device.entityId);
  Status st = quotas_->admitMeasurement(tenant, creates, requestCounted);
  // A second measurement of the same batch does not create the entity again.
  if (st.isOk() && creates) entityExists(tenant, device.entityId);
  return st;
}

bool Ingestor::createsEntity(const std::string& tenant, const std::string& entityId) {
  std::string key = tenant + '\n' + entityId;
  {
    std::lock_guard lock(entitiesMutex_);
    if (knownEntities_.count(key)) return false;
  }
  if (!store_.getEntity(tenant, entityId)) return true;
  entityExists(tenant, entityId);
  return false;
}

void Ingestor::entityExists(const std::string& tenant, const std::string& entityId) {
  if (!quotas_) return;
  std::lock_guard lock(entitiesMutex_);
  // Bounded: an entity forgotten is looked up again.
  if (knownEntities_.size() >= kMaxKnownEntities) knownEntities_.clear();
  knownEntities_.insert(tenant + '\n' + entityId);
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
  // Copied into small pools: a JsonDocument reserves 64 KiB at its first allocation, and a batch
  // holds these two per measurement until its write (2 GB of RSS at 20,000 measurements/s).
  auto mergeDoc = std::make_shared<const CompactJson>(*merge);
  auto fragmentDoc = std::make_shared<const CompactJson>(*fragment);
  auto record = std::make_shared<store::DeviceRecord>(device.record);
  std::shared_ptr<const DeviceMapping> m = *mapping;
  return store::WriteOp{device.record.entityId, [=](const Json* current) -> Result<store::WriteEffect> {
                          // NGSI-LD 5.6.17: a measurement merges into the entity, like PATCH /entities/{id};
                          // the first one creates it with the static attributes.
                          Result<JsonDocument> next = Status(ErrorType::kInternalError, "unset");
                          if (current) {
                            next = model::mergeEntity(current, mergeDoc->value, now);
                          } else {
                            auto create = model::expandEntity(creationBody(*record, *m, fragmentDoc->value), *core);
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
