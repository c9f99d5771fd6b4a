#include "store/audit_journal.h"

#include <algorithm>
#include <chrono>

namespace allmende::store {

namespace {
thread_local JournalEntry* tCurrent = nullptr;
std::atomic<int64_t> gLastId{0};
}  // namespace

int64_t JournalEntry::nextId() {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  int64_t last = gLastId.load();
  int64_t next;
  do {
    next = std::max(last + 1, now);
  } while (!gLastId.compare_exchange_weak(last, next));
  return next;
}

JournalScope::JournalScope(JournalEntry* entry) : previous_(tCurrent) { tCurrent = entry; }
JournalScope::~JournalScope() { tCurrent = previous_; }
JournalEntry* JournalScope::current() { return tCurrent; }

}  // namespace allmende::store
