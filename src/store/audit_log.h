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
  // The request's audit journal entry (store/audit_journal.h), 0 = none. Status 0 marks a record
  // recovered from the journal: the change committed, the server stopped before it answered.
  int64_t journal = 0;
};

// Which records a query returns: filters and paging by seq (NGSI-LD-style offset-free paging:
// pass the last seq seen as afterSeq).
struct AuditQuery {
  int64_t afterSeq = 0;
  size_t limit = 100;
  std::string subject;       // "" = any
  std::string action;        // HTTP method, "" = any
  std::string targetPrefix;  // the path starts with this, "" = any
  int status = -1;           // -1 = any
  Micros since = 0;          // at >= since (0 = no bound)
  Micros until = 0;          // at < until (0 = no bound)
};

struct JournalEntry;  // store/audit_journal.h

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends and returns once the record is committed (records of concurrent callers share one
  // commit). Thread-safe.
  virtual Status append(AuditRecord record) = 0;
  // Queues the record and returns at once: for a record whose journal row committed with its
  // change already (store/audit_journal.h), so that a crash cannot lose it. Thread-safe.
  virtual void post(AuditRecord record) = 0;
  // Writes the journal row of a request whose writes do not go through the store's transactions
  // (registry, subscriptions, @contexts, ...) before it makes them: an intent, committed when
  // this returns OK. Thread-safe.
  virtual Status journal(JournalEntry& entry) = 0;
  // The tenant's records that pass the filters, with seq > q.afterSeq, oldest first, at most q.limit.
  virtual Result<std::vector<AuditRecord>> query(const std::string& tenant, const AuditQuery& q) = 0;
  Result<std::vector<AuditRecord>> query(const std::string& tenant, int64_t afterSeq, size_t limit) {
    AuditQuery q;
    q.afterSeq = afterSeq;
    q.limit = limit;
    return query(tenant, q);
  }
};

}  // namespace allmende::store
