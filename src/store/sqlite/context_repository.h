// Hosted @contexts (NGSI-LD /jsonldContexts) kept in the embedded store's file, so that a URL
// handed out to clients keeps working after a restart.
#pragma once

#include <memory>
#include <string>

#include "ld/context_store.h"

namespace allmende::store {

// Opens the table `hosted_contexts` in the database file at `path` (created if missing), on a
// connection of its own: writes are rare and wait for the entity writer's commit if need be.
Result<std::unique_ptr<ld::HostedContextRepository>> openSqliteContextRepository(const std::string& path);

}  // namespace allmende::store
