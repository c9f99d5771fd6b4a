// The audit log (store/audit_log.h) in the embedded store's file: table `audit_log` on a
// connection and a committer thread of its own.
#pragma once

#include <memory>
#include <string>

#include "store/audit_log.h"

namespace allmende::store {

Result<std::unique_ptr<AuditLog>> openSqliteAuditLog(const std::string& path);

}  // namespace allmende::store
