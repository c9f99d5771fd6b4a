// The audit journal: how an audit record (store/audit_log.h) is never lost for a write that
// was committed. The audit log is a file of its own, committed after the change; a crash between
// the two commits would leave a committed change without its record. So the record of the
// request being served (who, when, what, from where) is also written into the store's own
// transaction, as a row of the table `audit_journal` in the store's file: a change and its
// journal row commit together or not at all. Once the audit log has the full record (with the
// answer's status), the journal row is removed; at start, journal rows left by a crash become
// audit records (status 0: the server stopped before it answered).
//
// The request's entry travels with the thread that serves it (JournalScope), so that every write
// path of the store picks it up without an extra parameter through the handlers.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace allmende::store {

struct JournalEntry {
  int64_t id = 0;    // unique, increasing (JournalEntry::nextId)
  std::string text;  // the audit record without status, JSON (AuditRecord fields)
  // Set by the store once a transaction holding the row committed.
  std::atomic<bool> written{false};

  // Wall-clock microseconds, strictly increasing within the process (unique across restarts).
  static int64_t nextId();
};

// Makes `entry` the journal entry of the writes this thread makes until destruction.
class JournalScope {
 public:
  explicit JournalScope(JournalEntry* entry);
  ~JournalScope();
  JournalScope(const JournalScope&) = delete;
  JournalScope& operator=(const JournalScope&) = delete;
  // The entry of the calling thread's current scope, or nullptr.
  static JournalEntry* current();

 private:
  JournalEntry* previous_;
};

// The journal table, created by every party that opens it (the store's writer, the audit log).
inline constexpr const char* kAuditJournalSchema =
    "CREATE TABLE IF NOT EXISTS audit_journal (id INTEGER PRIMARY KEY, rec TEXT NOT NULL)";

}  // namespace allmende::store
