// The NotificationStore on PostgreSQL: subscriptions, and the outbox the store writes in each
// change's transaction (pg_writer.cc).
//
// Claims: every node (process) has a random id and holds a session advisory lock on it for its
// lifetime, on a connection of its own: its liveness. A row is claimed (oldest first, FOR UPDATE
// SKIP LOCKED) when it is unclaimed or claimed by a node that no longer holds its lock -- a node
// killed with kill -9 loses it as soon as PostgreSQL sees its connection close, so a restarted
// server delivers the rows of the one before it at once. A row waits while an earlier row of the
// same entity is held by another live node, so that an entity's notifications stay in order.
#include <unistd.h>

#include <algorithm>
#include <random>

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
      : pool_(target.conninfo, target.schema, 4), node_(newNodeId()) {}

  // Takes this node's liveness lock.
  Status start(const postgres::PgTarget& target) {
    auto c = postgres::Connection::open(target.conninfo, target.schema);
    if (!c) return c.status();
    liveness_ = std::move(c).value();
    Params p;
    p.add(static_cast<int64_t>(kNodeLockSpace));
    p.add(node_);
    auto r = liveness_->run("SELECT pg_advisory_lock($1::int, $2::int)", p);
    return r ? Status::ok() : r.status();
  }

  Status putSubscription(const StoredSubscription& s, bool create) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(s.tenant);
    p.add(s.id);
    p.add(s.doc);
    auto r =
        (*lease)->run(create ? "INSERT INTO subscriptions (tenant, id, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                             : "INSERT INTO subscriptions (tenant, id, doc) VALUES ($1, $2, $3) "
                               "ON CONFLICT (tenant, id) DO UPDATE SET doc = excluded.doc",
                      p);
    if (!r) return r.status();
    if (r->affected() == 0) return alreadyExists("a subscription with id '" + s.id + "' exists");
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
    auto r = (*lease)->run("DELETE FROM subscriptions WHERE tenant = $1 AND id = $2", p);
    if (!r) return r.status();
    if (r->affected() == 0) return notFound("no subscription '" + id + "'");
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
  ConnectionPool pool_;
  const int64_t node_;                              // this process's id on its claims
  std::unique_ptr<postgres::Connection> liveness_;  // holds the node's lock while the process lives
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
