// The SQLite NotificationStore: subscriptions in their own table and the outbox written by the
// writer (outbox.cc), on a connection of their own. One node drains the outbox, so a claim is a
// cursor in memory: rows after the last claimed one, in seq (commit) order.
#include <mutex>
#include <optional>

#include "store/notification_store.h"
#include "store/sqlite/sqlite_handles.h"
#include "store/sqlite/trail.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

// The outbox table is also created by the entity store (outbox.cc); whichever opens first.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS subscriptions (
  tenant TEXT NOT NULL,
  id     TEXT NOT NULL,
  doc    TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant       INTEGER NOT NULL,
  subscription TEXT NOT NULL,
  entity       TEXT NOT NULL,
  payload      TEXT NOT NULL,
  created      INTEGER NOT NULL
);
)sql";

class SqliteNotificationStore final : public NotificationStore {
 public:
  explicit SqliteNotificationStore(Connection conn) : conn_(std::move(conn)) {}

  Status putSubscription(const StoredSubscription& s, bool create) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st =
        Statement::prepare(conn_.get(), create ? "INSERT INTO subscriptions (tenant, id, doc) VALUES (?1, ?2, ?3)"
                                               : "REPLACE INTO subscriptions (tenant, id, doc) VALUES (?1, ?2, ?3)");
    if (!st) return st.status();
    st->bindStatic(1, s.tenant);
    st->bindStatic(2, s.id);
    st->bindStatic(3, s.doc);
    int rc = st->step();
    if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT) {
      return alreadyExists("a subscription with id '" + s.id + "' exists");
    }
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(conn_.get(), rc, "store subscription");
  }

  Result<StoredSubscription> getSubscription(const TenantId& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(), "SELECT doc FROM subscriptions WHERE tenant=?1 AND id=?2");
    if (!st) return st.status();
    st->bindStatic(1, tenant);
    st->bindStatic(2, id);
    int rc = st->step();
    if (rc == SQLITE_DONE) return notFound("no subscription '" + id + "'");
    if (rc != SQLITE_ROW) return sqlite::sqliteError(conn_.get(), rc, "read subscription");
    return StoredSubscription{tenant, id, std::string(st->text(0))};
  }

  Result<std::vector<StoredSubscription>> allSubscriptions() override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(), "SELECT tenant, id, doc FROM subscriptions ORDER BY tenant, id");
    if (!st) return st.status();
    std::vector<StoredSubscription> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      out.push_back({std::string(st->text(0)), std::string(st->text(1)), std::string(st->text(2))});
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "read subscriptions");
    return out;
  }

  Status deleteSubscription(const TenantId& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(), "DELETE FROM subscriptions WHERE tenant=?1 AND id=?2");
    if (!st) return st.status();
    st->bindStatic(1, tenant);
    st->bindStatic(2, id);
    int rc = st->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "delete subscription");
    if (sqlite3_changes(conn_.get()) == 0) return notFound("no subscription '" + id + "'");
    return Status::ok();
  }

  Result<std::vector<OutboxRow>> claimOutbox(size_t max) override {
    std::lock_guard<std::mutex> lock(mu_);
    // Claimed at every idle wake of the notifier: prepared once, reset after each use so that
    // it holds no read transaction.
    auto prepared = cached(claim_,
                           "SELECT o.seq, t.key, o.subscription, o.entity, o.payload, o.created FROM outbox o "
                           "JOIN tenants t ON t.id = o.tenant WHERE o.seq > ?1 ORDER BY o.seq LIMIT ?2");
    if (!prepared) return prepared.status();
    Statement& st = **prepared;
    st.bind(1, lastClaimed_);
    st.bind(2, static_cast<int64_t>(max));
    std::vector<OutboxRow> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      OutboxRow r;
      r.seq = st.int64(0);
      r.tenant = std::string(st.text(1));
      r.subscriptionId = std::string(st.text(2));
      r.entityId = std::string(st.text(3));
      r.payload = std::string(st.text(4));
      r.createdAt = st.int64(5);
      out.push_back(std::move(r));
    }
    st.reset();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "claim outbox");
    if (!out.empty()) lastClaimed_ = out.back().seq;
    return out;
  }

  Status completeOutbox(const std::vector<int64_t>& seqs) override {
    if (seqs.empty()) return Status::ok();
    std::lock_guard<std::mutex> lock(mu_);
    auto prepared = cached(complete_, "DELETE FROM outbox WHERE seq=?1");
    if (!prepared) return prepared.status();
    Statement& st = **prepared;
    ALLMENDE_RETURN_IF_ERROR(conn_.exec("BEGIN IMMEDIATE"));
    for (int64_t seq : seqs) {
      st.bind(1, seq);
      int rc = st.step();
      st.reset();
      if (rc != SQLITE_DONE) {
        Status err = sqlite::sqliteError(conn_.get(), rc, "complete outbox row");
        conn_.exec("ROLLBACK");
        return err;
      }
    }
    return conn_.exec("COMMIT");
  }

  Result<size_t> outboxSize() override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(), "SELECT count(*) FROM outbox");
    if (!st) return st.status();
    if (st->step() != SQLITE_ROW) return internalError("count outbox");
    return static_cast<size_t>(st->int64(0));
  }

 private:
  // The statement in `slot`, prepared on first use.
  Result<Statement*> cached(std::optional<Statement>& slot, std::string_view sql) {
    if (!slot) {
      auto st = Statement::prepare(conn_.get(), sql);
      if (!st) return st.status();
      slot = std::move(st).value();
    }
    return &*slot;
  }

  std::mutex mu_;
  Connection conn_;                            // GUARDED_BY(mu_)
  int64_t lastClaimed_ = 0;                    // GUARDED_BY(mu_)
  std::optional<Statement> claim_, complete_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<NotificationStore>> openSqliteNotificationStore(const std::string& path) {
  auto conn = Connection::open(path, false);
  if (!conn) return conn.status();
  sqlite3_busy_handler(conn->get(), sqlite::shortBusyWait, nullptr);
  ALLMENDE_RETURN_IF_ERROR(conn->exec(kSchema));
  return std::unique_ptr<NotificationStore>(std::make_unique<SqliteNotificationStore>(std::move(conn).value()));
}

}  // namespace allmende::store
