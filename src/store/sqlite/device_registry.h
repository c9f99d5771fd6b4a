// The device registry (store/device_registry.h) in the embedded store's database file, on a
// connection of its own (tables `ingest_devices`, kDeviceSchema).
#pragma once

#include <memory>
#include <string>

#include "store/device_registry.h"

namespace allmende::store {

// Opens the registry in the database file at `path` (tables created if missing).
Result<std::unique_ptr<DeviceRegistry>> openSqliteDeviceRegistry(const std::string& path);

}  // namespace allmende::store
