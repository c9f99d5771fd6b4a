// The audit log: every administrative action and every write, who, when, what and from where.
// Append-only: the interface has no way to change or remove a record, and the SQLite table
// refuses UPDATE and DELETE (triggers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace allmende::store {

struct AuditRecord {
  int64_t seq = 0;  // assigned by the log, increasing
  Micros at = 0;
  std::string tenant;   // the tenant acted on ("" = default tenant or platform level)
  std::string subject;  // API key id, JWT sub, "admin-key", "anonymous"
  std::string auth;     // "api-key", "jwt", "none"
  std::string roles;    // space separated
  std::string action;   // HTTP method
  std::string target;   // path (no query string, no body: they may hold secrets)
  int status = 0;       // HTTP status of the answer
  std::string remote;   // client address
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends and returns once the record is committed (records of concurrent callers share one
  // commit). Thread-safe.
  virtual Status append(AuditRecord record) = 0;
  // The tenant's records with seq > afterSeq, oldest first, at most `limit`.
  virtual Result<std::vector<AuditRecord>> query(const std::string& tenant, int64_t afterSeq, size_t limit) = 0;
};

}  // namespace allmende::store
