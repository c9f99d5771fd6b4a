// One measurement's way into the broker (docs/ingestion.md): device lookup, payload mapping
// (mapping.h), and the same write path as the NGSI-LD API (Store::write with the merge rule of
// NGSI-LD 5.6.17), so history, subscriptions and quotas follow. Used by the HTTP endpoint
// (api/ingest.cc) and the MQTT agent (mqtt_agent.h). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "ingest/mapping.h"
#include "ld/context_store.h"
#include "store/audit_log.h"
#include "store/device_registry.h"
#include "store/store.h"

namespace allmende::ingest {

// One payload as it arrived, for the batched path.
struct Payload {
  std::string tenant, device, payload;
};

// The tenant quotas a measurement must fit in, as API writes do (docs/tenancy.md); implemented
// by the API layer's access control. Thread-safe.
class IngestQuotas {
 public:
  virtual ~IngestQuotas() = default;
  // Ok when one more measurement of `tenant` may be stored; else Forbidden (entity, history or
  // storage quota reached) or TooManyRequests (request quota). `createsEntity`: it creates its
  // entity. `requestCounted`: the request quota and the storage quotas were met already (an
  // HTTP ingest call passed the router's checks).
  virtual Status admitMeasurement(const std::string& tenant, bool createsEntity, bool requestCounted) = 0;
};

// What the batched (MQTT) path records in the audit log: where its messages come from.
struct IngestAuditSource {
  std::string topicPrefix = "allmende/ingest";  // the record's target is <prefix>/<tenant>/<device>
  std::string broker;                           // the record's remote address (host:port)
};

class Ingestor {
 public:
  Ingestor(store::Store& store, store::DeviceRegistry& devices, ld::ContextStore& contexts, const Clock& clock)
      : store_(store), devices_(devices), contexts_(contexts), clock_(clock) {}

  // Maps one payload of the device and writes it to the device's entity (created with the
  // mapping's static attributes on the first measurement). ResourceNotFound for an unknown
  // device (not counted); any other failure is counted on the device with its reason.
  Status ingest(const std::string& tenant, const std::string& deviceId, std::string_view payload);

  // The same for many payloads, written with one Store::write per tenant (the MQTT agent) for
  // each kMaxBatch of them (what a batch holds until its write is bounded by that).
  // Unknown devices are logged and skipped.
  static constexpr size_t kMaxBatch = 2000;
  template <typename It>
  void ingestMany(It begin, It end) {
    std::vector<const Payload*> items;
    for (It it = begin; it != end; ++it) {
      items.push_back(&*it);
      if (items.size() == kMaxBatch) {
        ingestBatch(items);
        items.clear();
      }
    }
    if (!items.empty()) ingestBatch(items);
  }
  void ingestBatch(const std::vector<const Payload*>& items);

  store::DeviceRegistry& devices() { return devices_; }

  // Set before the first measurement. Quotas apply to both paths (the entity quota only to the
  // HTTP path's creates: the router checked the rest); the audit log records each tenant batch
  // of the MQTT path (an HTTP ingest call is audited by the router). Null: none.
  void setQuotas(IngestQuotas* quotas) { quotas_ = quotas; }
  void setAuditLog(store::AuditLog* audit, IngestAuditSource source) {
    audit_ = audit;
    auditSource_ = std::move(source);
  }

 private:
  // The write of one payload, or why it cannot be written.
  void record(const std::string& tenant, const std::string& deviceId, Micros now, const Status& st);
  Result<std::shared_ptr<const DeviceMapping>> mappingOf(const std::string& text);
  Result<store::WriteOp> prepare(const store::Device& device, std::string_view payload, Micros now);
  // The quotas' verdict on one measurement of the device (ok without quotas).
  Status admit(const std::string& tenant, const store::DeviceRecord& device, bool requestCounted);
  // Whether the device's entity does not exist yet (looked up once per entity, then remembered).
  bool createsEntity(const std::string& tenant, const std::string& entityId);
  void entityExists(const std::string& tenant, const std::string& entityId);
  // One tenant's part of a batch: the store write of `written` (their `entities`), under the
  // batch's audit journal entry when audited, and its audit record naming `audited` (the written
  // ones and those a quota refused).
  void writeTenantBatch(const std::string& tenant, std::vector<store::WriteOp> ops,
                        const std::vector<const Payload*>& written, const std::vector<std::string>& entities,
                        const std::vector<const Payload*>& audited, Micros now);

  store::Store& store_;
  store::DeviceRegistry& devices_;
  ld::ContextStore& contexts_;
  const Clock& clock_;
  std::mutex mappingsMutex_;
  std::unordered_map<std::string, std::shared_ptr<const DeviceMapping>> mappings_;  // GUARDED_BY(mappingsMutex_)
  IngestQuotas* quotas_ = nullptr;
  store::AuditLog* audit_ = nullptr;
  IngestAuditSource auditSource_;
  std::mutex entitiesMutex_;
  std::unordered_set<std::string> knownEntities_;  // "<tenant>\n<entity id>"; GUARDED_BY(entitiesMutex_)
};

}  // namespace allmende::ingest
