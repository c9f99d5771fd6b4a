// The trail of a change: what an entity write leaves behind besides the entity's new state —
// the attribute instances of the temporal history, the notifications of matching subscriptions.
// It is worked out together with the new state (SqliteStore::work: on the caller's thread for a
// prepared write, else on the writer) from the states before and after, and stored in the same
// transaction as the change, so it is exactly as durable as the change. Private to store/sqlite.
#pragma once

#include <vector>

#include "model/history.h"
#include "store/notification_store.h"

namespace allmende::store::sqlite {

// A busy handler retrying every 20-100 us for about 5 s (outbox.cc): the writer and the
// notifier's connection lock the database only briefly.
int shortBusyWait(void*, int attempt);

struct ChangeTrail {
  model::HistoryChange history;              // attribute instances for the temporal API (history.h)
  std::vector<OutboxEntry> notifications;  // outbox.cc
};

}  // namespace allmende::store::sqlite
