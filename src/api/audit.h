// What goes into the audit log (store/audit_log.h), decided in one place: every call of the
// admin API and every write (any method but GET/HEAD) that reached its handler or was refused
// with 403 -- who (principal), when, what (method, path, status), from where (client address).
// Unauthenticated refusals (401) and quota refusals (429) are not logged, so that a flood of
// them cannot flood the log.
#pragma once

#include <memory>
#include <optional>

#include "api/call.h"
#include "http/message.h"
#include "store/audit_journal.h"

namespace allmende::api {

// Records the call with its answer if it is audited; a no-op without an audit log.
void auditCall(Call& call, const http::Response& response);

// The audit record of a call that reaches its handler, made so that it cannot be lost for a
// change that committed (store/audit_journal.h): built before the handler runs and carried, as
// the thread's journal entry, into every store transaction the handler makes; a call whose
// writes go elsewhere (registry, subscriptions, @contexts, datasets, devices) journals it first,
// as an intent. finish() records it with the answer: queued when its journal row is committed
// (the answer need not wait), else appended and waited for as before.
class AuditScope {
 public:
  explicit AuditScope(Call& call);
  ~AuditScope();
  // Nullopt, or the answer to give instead of running the handler (the intent could not be
  // written: 503, nothing changed).
  std::optional<http::Response> begin();
  void finish(const http::Response& response);

 private:
  Call& call_;
  std::unique_ptr<store::JournalEntry> entry_;  // null: not audited
  std::optional<store::JournalScope> scope_;
};

// GET /admin/v1/tenants/{tenant}/audit?after=<seq>&limit=<n>
http::Response adminTenantAudit(Call& call);

}  // namespace allmende::api
