// The PostgreSQL store: entities, their history and the notification outbox in a PostgreSQL 15
// database with PostGIS 3 (docs/postgres.md), selected with `--store postgres://...`.
//
// Each Store::write is one transaction on a connection of its own; concurrent writes commit in
// parallel (PostgreSQL groups their WAL flushes). Reads use a pool of connections outside
// transactions. The schema is versioned and migrated on start (pg_schema.h).
#pragma once

#include <memory>
#include <string>

#include "ld/context_store.h"
#include "store/audit_log.h"
#include "store/dataset_store.h"
#include "store/device_registry.h"
#include "store/notification_store.h"
#include "store/store.h"
#include "store/tenant_registry.h"

namespace allmende::store {

struct PostgresOptions {
  // postgres://user@host:port/database[?schema=NAME&...]: libpq's URL, plus `schema`, the
  // PostgreSQL schema holding Allmende's tables (created when missing; default: the search path).
  std::string url;
  size_t maxConnections = 16;  // of the store's pool (reads and writes)
};

// Whether a --store value names PostgreSQL (postgres:// or postgresql://).
bool isPostgresStore(const std::string& store);

// Connects, migrates the schema, and opens the store. ServiceUnavailable when the database
// cannot be reached; InvalidRequest for a malformed URL.
Result<std::unique_ptr<Store>> openPostgresStore(const PostgresOptions& options);

// The subscriptions and the outbox in the same database (the store writes outbox rows in the
// change's transaction). Opened after openPostgresStore (which migrates the schema).
Result<std::unique_ptr<NotificationStore>> openPostgresNotificationStore(const PostgresOptions& options);

// The tenant registry and API keys (tables tenant_registry, api_keys) and the audit log in the
// database of `url` (a --store URL); the schema is migrated if need be.
Result<std::unique_ptr<TenantRegistry>> openPostgresTenantRegistry(const std::string& url);
Result<std::unique_ptr<AuditLog>> openPostgresAuditLog(const std::string& url);
// Devices of IoT ingestion, open-data datasets and hosted @contexts, likewise.
Result<std::unique_ptr<DeviceRegistry>> openPostgresDeviceRegistry(const std::string& url);
Result<std::unique_ptr<DatasetStore>> openPostgresDatasetStore(const std::string& url);
Result<std::unique_ptr<ld::HostedContextRepository>> openPostgresContextRepository(const std::string& url);

}  // namespace allmende::store
