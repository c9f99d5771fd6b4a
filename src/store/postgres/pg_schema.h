// The versioned schema of the PostgreSQL store. Private to store/postgres.
//
// kMigrations[k-1] brings the schema from version k-1 to k. On start, `migrate` takes an
// advisory lock (so that several nodes starting at once migrate once), creates the schema
// (the `schema` URL parameter) and the PostGIS extension if missing, and applies each missing
// migration in its own transaction, recording it in `schema_migrations`. A database whose
// version is newer than this binary knows is refused.
#pragma once

#include <string>

#include "common/status.h"
#include "store/postgres/pg_connection.h"

namespace allmende::store::postgres {

Status migrate(Connection& c, const std::string& schema);

// The version this binary writes.
int schemaVersion();

// Parses a --store URL, connects once and migrates: what each part of the PostgreSQL store
// (registry, devices, ... opened on their own, also by the CLI) does before it opens its pool.
Result<PgTarget> prepareDatabase(const std::string& url);

}  // namespace allmende::store::postgres
