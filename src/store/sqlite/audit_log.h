// The audit log (store/audit_log.h) in a SQLite file of its own (DATA/audit.db, so that its
// commits never wait for the entity writer's lock): table `audit_log`, a committer thread.
#pragma once

#include <memory>
#include <string>

#include "store/audit_log.h"

namespace allmende::store {

// `journalPath`: the store's database file, whose table audit_journal (store/audit_journal.h) is
// read at open (rows a crash left become records) and pruned as records are committed; "" =
// no journal.
Result<std::unique_ptr<AuditLog>> openSqliteAuditLog(const std::string& path, const std::string& journalPath = "");

}  // namespace allmende::store
