// The notification trail of a change: the matcher (notify/, behind store::SubscriptionMatcher)
// decides which subscriptions a change notifies, and their rendered notifications are stored as
// outbox rows in the change's transaction, so an acknowledged write never loses one (DESIGN.md).
#include <unistd.h>

#include "common/time.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace allmende::store::sqlite {

namespace {

// seq is AUTOINCREMENT so that it is never reused: a sender reading "rows after the last one I
// claimed" must not miss a row whose number was freed by a completed one.
constexpr std::string_view kOutboxSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant       INTEGER NOT NULL,   -- tenants.id
  subscription TEXT NOT NULL,
  entity       TEXT NOT NULL,
  payload      TEXT NOT NULL,      -- the entity as rendered for the subscription
  created      INTEGER NOT NULL    -- microseconds since the epoch
);
)sql";

}  // namespace

int shortBusyWait(void*, int attempt) {
  if (attempt >= 50000) return 0;  // about 5 s: give up with SQLITE_BUSY
  usleep(attempt < 10 ? 20 : 100);
  return 1;
}

Status SqliteStore::prepareOutbox() {
  // The notifier completes outbox rows on its own connection; when the writer finds the database
  // locked by it for a moment, it retries within microseconds instead of SQLite's default sleeps
  // of 1, 2, 5, 10 ... ms, which would show in the latency of writes.
  sqlite3_busy_handler(writer_.get(), shortBusyWait, nullptr);
  ALLMENDE_RETURN_IF_ERROR(writer_.exec(kOutboxSchema));
  auto st = Statement::prepare(writer_.get(),
                               "INSERT INTO outbox (tenant, subscription, entity, payload, created) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!st) return st.status();
  outboxInsert_ = std::move(st).value();
  return Status::ok();
}

void SqliteStore::traceNotifications(const TenantId& tenant, const Json* before, const Json* after,
                                     ChangeTrail& out) const {
  out.notifications.clear();  // the trail may be worked out twice
  if (matcher_) matcher_->match(tenant, before, after, systemClock().now(), out.notifications);
}

Status SqliteStore::storeNotifications(int64_t tenant, const ChangeTrail& trail) {
  if (trail.notifications.empty()) return Status::ok();
  const Micros now = systemClock().now();
  for (const OutboxEntry& e : trail.notifications) {
    outboxInsert_.bind(1, tenant);
    outboxInsert_.bindStatic(2, e.subscriptionId);
    outboxInsert_.bindStatic(3, e.entityId);
    outboxInsert_.bindStatic(4, e.payload);
    outboxInsert_.bind(5, static_cast<int64_t>(now));
    ALLMENDE_RETURN_IF_ERROR(run(outboxInsert_, "store notification"));
  }
  outboxWritten_ = true;
  return Status::ok();
}

}  // namespace allmende::store::sqlite
