// The device registry of IoT ingestion (docs/ingestion.md): per tenant, the sensors that feed
// entities, with their payload mapping and their health (last seen, last error, counters).
//
// Reads come from memory (every measurement looks its device up). Registrations are written
// through to the database; the health counters are kept in memory and written to the database
// at most once per flush interval (a crash loses at most that much of the counters, never a
// measurement: measurements go through the Store).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace allmende::store {

struct DeviceRecord {
  std::string tenant;                   // "" = the default tenant
  std::string id;                       // device id: letters, digits, '-', '_', '.', ':' (it is an MQTT topic level)
  std::string entityId;                 // the entity it feeds
  std::string entityType;               // its type (a term of the core @context or an IRI)
  std::string mapping;                  // JSON text of the payload mapping (ingest/mapping.h)
  std::string mqttUsername;             // "" = "<tenant>.<device>" (ingest/mosquitto_config.h)
  std::string passwordHash;             // the MQTT password in Mosquitto password-file form ($7$ PBKDF2), "" = none
  int64_t expectedIntervalSeconds = 0;  // silent longer than this: flagged; 0 = never
  Micros created = 0;
};

struct DeviceHealth {
  Micros lastSeen = 0;  // last accepted measurement
  Micros lastErrorAt = 0;
  std::string lastError;  // reason of the last rejected payload
  int64_t accepted = 0;
  int64_t rejected = 0;
};

struct Device {
  DeviceRecord record;
  DeviceHealth health;
};

class DeviceRegistry {
 public:
  virtual ~DeviceRegistry() = default;

  // AlreadyExists when (tenant, id) is taken.
  virtual Status createDevice(const DeviceRecord& d) = 0;
  // ResourceNotFound when absent; the health is kept.
  virtual Status updateDevice(const DeviceRecord& d) = 0;
  virtual Status deleteDevice(const std::string& tenant, const std::string& id) = 0;
  // From memory. Thread-safe.
  virtual std::optional<Device> findDevice(const std::string& tenant, const std::string& id) = 0;
  virtual std::vector<Device> listDevices(const std::string& tenant) = 0;
  // Every device of every tenant (the MQTT agent and the Mosquitto configuration).
  virtual std::vector<Device> allDevices() = 0;

  // Counts one payload of the device: accepted (ok) or rejected with the reason. Thread-safe, cheap.
  virtual void recordOutcome(const std::string& tenant, const std::string& id, Micros at, const Status& outcome) = 0;
  // Writes the changed health counters to the database.
  virtual Status flushHealth() = 0;
  // Takes in the registrations another process (the `allmende device` CLI) changed in the
  // database since the last call; the in-memory health of a kept device stays. Cheap when
  // nothing changed. Thread-safe.
  virtual Status refresh() { return Status::ok(); }
};

// Whether the device is silent longer than its expected interval at `now`.
bool isSilent(const Device& d, Micros now);

}  // namespace allmende::store
