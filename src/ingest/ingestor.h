// One measurement's way into the broker (docs/ingestion.md): device lookup, payload mapping
// (mapping.h), and the same write path as the NGSI-LD API (Store::write with the merge rule of
// NGSI-LD 5.6.17), so history, subscriptions and quotas follow. Used by the HTTP endpoint
// (api/ingest.cc) and the MQTT agent (mqtt_agent.h). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "ingest/mapping.h"
#include "ld/context_store.h"
#include "store/device_registry.h"
#include "store/store.h"

namespace allmende::ingest {

// One payload as it arrived, for the batched path.
struct Payload {
  std::string tenant, device, payload;
};

class Ingestor {
 public:
  Ingestor(store::Store& store, store::DeviceRegistry& devices, ld::ContextStore& contexts, const Clock& clock)
      : store_(store), devices_(devices), contexts_(contexts), clock_(clock) {}

  // Maps one payload of the device and writes it to the device's entity (created with the
  // mapping's static attributes on the first measurement). ResourceNotFound for an unknown
  // device (not counted); any other failure is counted on the device with its reason.
  Status ingest(const std::string& tenant, const std::string& deviceId, std::string_view payload);

  // The same for many payloads, written with one Store::write per tenant (the MQTT agent).
  // Unknown devices are logged and skipped.
  template <typename It>
  void ingestMany(It begin, It end) {
    std::vector<const Payload*> items;
    for (It it = begin; it != end; ++it) items.push_back(&*it);
    ingestBatch(items);
  }
  void ingestBatch(const std::vector<const Payload*>& items);

  store::DeviceRegistry& devices() { return devices_; }

 private:
  // The write of one payload, or why it cannot be written.
  void record(const std::string& tenant, const std::string& deviceId, Micros now, const Status& st);
  Result<std::shared_ptr<const DeviceMapping>> mappingOf(const std::string& text);
  Result<store::WriteOp> prepare(const store::Device& device, std::string_view payload, Micros now);

  store::Store& store_;
  store::DeviceRegistry& devices_;
  ld::ContextStore& contexts_;
  const Clock& clock_;
  std::mutex mappingsMutex_;
  std::unordered_map<std::string, std::shared_ptr<const DeviceMapping>> mappings_;  // GUARDED_BY(mappingsMutex_)
};

}  // namespace allmende::ingest
