// The NotificationStore on PostgreSQL: subscriptions, and the outbox the store writes in each
// change's transaction (pg_writer.cc).
//
// Claims: every node (process) has a random id and holds a session advisory lock on it for its
// lifetime, on a connection of its own: its liveness. A row is claimed (oldest first, FOR UPDATE
// SKIP LOCKED) when it is unclaimed or claimed by a node that no longer holds its lock -- a node
// killed with kill -9 loses it as soon as PostgreSQL sees its connection close, so a restarted
// server delivers the rows of the one before it at once. A row waits while an earlier row of the
// same entity is held by another live node, so that an entity's notifications stay in order.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_store.h"

namespace allmende::store {

namespace {

using postgres::ConnectionPool;
using postgres::Params;

// The first key of the two-key advisory locks of node liveness (a space of its own: entity
// locks use one bigint key).
constexpr int kNodeLockSpace = 4281453;

int64_t newNodeId() {
  std::random_device rd;
  std::uniform_int_distribution<int64_t> d(1, (int64_t{1} << 31) - 1);
  return d(rd);
}

class PgNotificationStore final : public NotificationStore {
 public:
  PgNotificationStore(const postgres::PgTarget& target)
      : pool_(target.conninfo, target.schema, 4), node_(newNodeId()), channel_(channelOf(target.schema)) {}
  ~PgNotificationStore() override {
    stopping_ = true;
    if (listener_.joinable()) listener_.join();
  }

  // Takes this node's liveness lock and listens for the subscription changes of other nodes.
  Status start(const postgres::PgTarget& target) {
    auto c = postgres::Connection::open(target.conninfo, target.schema);
    if (!c) return c.status();
    liveness_ = std::move(c).value();
    Params p;
    p.add(static_cast<int64_t>(kNodeLockSpace));
    p.add(node_);
    auto r = liveness_->run("SELECT pg_advisory_lock($1::int, $2::int)", p);
    if (!r) return r.status();
    return liveness_->exec("LISTEN " + channel_);
  }

  Result<bool> claimPeriodic(const TenantId& tenant, const std::string& id, Micros now, Micros interval) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(tenant);
    p.add(id);
    p.add(now);
    p.add(interval);
    // One statement: the row is written (and a row returned) only when no node sent within
    // `interval`; concurrent claims of the same slot serialize on the row, one wins.
    auto r = (*lease)->run(
        "INSERT INTO periodic_sent (tenant, id, sent) VALUES ($1, $2, $3) ON CONFLICT (tenant, id) DO UPDATE "
        "SET sent = EXCLUDED.sent WHERE periodic_sent.sent <= EXCLUDED.sent - $4 RETURNING 1",
        p);
    if (!r) return r.status();
    return r->rows() == 1;
  }

  void setChangeListener(std::function<void(const TenantId&, const std::string&)> listener) override {
    if (listener_.joinable()) {
      stopping_ = true;
      listener_.join();
    }
    stopping_ = false;
    onChange_ = std::move(listener);
    if (onChange_) listener_ = std::thread([this] { listen(); });
  }

  Status putSubscription(const StoredSubscription& s, bool create) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(s.tenant);
    p.add(s.id);
    p.add(s.doc);
    p.add(channel_);
    p.add(payload(s.tenant, s.id));
    // The notification goes out with the commit, to every node listening (this one skips it).
    auto r = (*lease)->run(std::string("WITH w AS (INSERT INTO subscriptions (tenant, id, doc) VALUES ($1, $2, $3) ") +
                               (create ? "ON CONFLICT DO NOTHING RETURNING 1) "
                                       : "ON CONFLICT (tenant, id) DO UPDATE SET doc = excluded.doc RETURNING 1) ") +
                               "SELECT pg_notify($4, $5) FROM w",
                           p);
    if (!r) return r.status();
    if (r->rows() == 0) return alreadyExists("a subscription with id '" + s.id + "' exists");
    return Status::ok();
  }

  Result<StoredSubscription> getSubscription(const TenantId& tenant, const std::string& id) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(tenant);
    p.add(id);
    auto r = (*lease)->run("SELECT doc FROM subscriptions WHERE tenant = $1 AND id = $2", p);
    if (!r) return r.status();
    if (r->rows() == 0) return notFound("no subscription '" + id + "'");
    return StoredSubscription{tenant, id, std::string(r->text(0, 0))};
  }

  Result<std::vector<StoredSubscription>> allSubscriptions() override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    auto r = (*lease)->run("SELECT tenant, id, doc FROM subscriptions ORDER BY tenant, id");
    if (!r) return r.status();
    std::vector<StoredSubscription> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back({std::string(r->text(i, 0)), std::string(r->text(i, 1)), std::string(r->text(i, 2))});
    }
    return out;
  }

  Status deleteSubscription(const TenantId& tenant, const std::string& id) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(tenant);
    p.add(id);
    p.add(channel_);
    p.add(payload(tenant, id));
    auto r = (*lease)->run(
        "WITH w AS (DELETE FROM subscriptions WHERE tenant = $1 AND id = $2 RETURNING 1), "
        "sent AS (DELETE FROM periodic_sent WHERE tenant = $1 AND id = $2) "
        "SELECT pg_notify($3, $4) FROM w",
        p);
    if (!r) return r.status();
    if (r->rows() == 0) return notFound("no subscription '" + id + "'");
    return Status::ok();
  }

  Result<std::vector<OutboxRow>> claimOutbox(size_t max) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(node_);
    p.add(static_cast<int64_t>(systemClock().now()));
    p.add(static_cast<int64_t>(max));
    p.add(static_cast<int64_t>(kNodeLockSpace));
    auto r = (*lease)->run(
        "WITH live AS (SELECT objid::bigint AS node FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
        "  AND classid = $4::bigint::oid AND granted "
        "  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())), "
        "free AS (SELECT o.seq FROM outbox o "
        "  WHERE (o.claimed_by IS NULL OR (o.claimed_by <> $1 AND o.claimed_by NOT IN (SELECT node FROM live))) "
        "  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.entity = o.entity AND e.seq < o.seq "
        "    AND e.claimed_by <> $1 AND e.claimed_by IN (SELECT node FROM live)) "
        "  ORDER BY o.seq LIMIT $3 FOR UPDATE OF o SKIP LOCKED) "
        "UPDATE outbox o SET claimed_by = $1, claimed_at = $2 FROM free WHERE o.seq = free.seq "
        "RETURNING o.seq, o.tenant, o.subscription, o.entity, o.payload, o.created",
        p);
    if (!r) return r.status();
    std::vector<OutboxRow> out;
    for (int i = 0; i < r->rows(); ++i) {
      OutboxRow row;
      row.seq = r->int64(i, 0);
      row.tenant = std::string(r->text(i, 1));
      row.subscriptionId = std::string(r->text(i, 2));
      row.entityId = std::string(r->text(i, 3));
      row.payload = std::string(r->text(i, 4));
      row.createdAt = r->int64(i, 5);
      out.push_back(std::move(row));
    }
    std::sort(out.begin(), out.end(), [](const OutboxRow& a, const OutboxRow& b) { return a.seq < b.seq; });
    return out;
  }

  Status completeOutbox(const std::vector<int64_t>& seqs) override {
    if (seqs.empty()) return Status::ok();
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.addArray(seqs);
    auto r = (*lease)->run("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", p);
    return r ? Status::ok() : r.status();
  }

  Result<size_t> outboxSize() override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    auto r = (*lease)->run("SELECT count(*) FROM outbox");
    if (!r) return r.status();
    return static_cast<size_t>(r->int64(0, 0));
  }

 private:
  // The channel of one Allmende schema (channels are per database).
  static std::string channelOf(const std::string& schema) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : schema) h = (h ^ c) * 1099511628211ull;
    char name[48];
    std::snprintf(name, sizeof name, "allmende_subscriptions_%016llx", static_cast<unsigned long long>(h));
    return name;
  }
  // "node TAB tenant TAB id": tenant names and URIs hold no tab.
  std::string payload(const TenantId& tenant, const std::string& id) const {
    return std::to_string(node_) + "\t" + tenant + "\t" + id;
  }

  // The listener thread: waits on the liveness connection for notifications of other nodes.
  void listen() {
    PGconn* conn = liveness_->get();
    while (!stopping_) {
      pollfd fd{PQsocket(conn), POLLIN, 0};
      if (fd.fd < 0) return;  // connection lost: this node no longer follows (nor holds its lock)
      if (::poll(&fd, 1, 200) <= 0) continue;
      if (!PQconsumeInput(conn)) return;
      while (PGnotify* n = PQnotifies(conn)) {
        std::string text = n->extra;
        PQfreemem(n);
        size_t a = text.find('\t'), b = a == std::string::npos ? a : text.find('\t', a + 1);
        if (b == std::string::npos || text.substr(0, a) == std::to_string(node_)) continue;
        onChange_(text.substr(a + 1, b - a - 1), text.substr(b + 1));
      }
    }
  }

  ConnectionPool pool_;
  const int64_t node_;  // this process's id on its claims
  const std::string channel_;
  // Holds the node's lock while the process lives; after start() only the listener thread uses it.
  std::unique_ptr<postgres::Connection> liveness_;
  std::function<void(const TenantId&, const std::string&)> onChange_;
  std::atomic<bool> stopping_{false};
  std::thread listener_;
};

}  // namespace

Result<std::unique_ptr<NotificationStore>> openPostgresNotificationStore(const PostgresOptions& options) {
  auto target = postgres::parseStoreUrl(options.url);
  if (!target) return target.status();
  auto store = std::make_unique<PgNotificationStore>(*target);
  ALLMENDE_RETURN_IF_ERROR(store->start(*target));
  // Fail now rather than at the first notification when the database cannot be reached.
  auto size = store->outboxSize();
  if (!size) return size.status();
  return std::unique_ptr<NotificationStore>(std::move(store));
}

}  // namespace allmende::store
