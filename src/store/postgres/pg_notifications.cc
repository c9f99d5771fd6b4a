// The NotificationStore on PostgreSQL: subscriptions, and the outbox the store writes in each
// change's transaction (pg_writer.cc). Claims are leases, so that the rows of a node that died
// (or of this node before a restart) are taken over: rows are claimed oldest first with
// FOR UPDATE SKIP LOCKED, marked with this node's id and a lease; a row claimed by another node
// is taken over once its lease has passed. This node's own claims hold until completed.
#include <unistd.h>

#include <algorithm>
#include <random>

#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_store.h"

namespace allmende::store {

namespace {

using postgres::ConnectionPool;
using postgres::Params;

std::string newNodeId() {
  char host[128] = {0};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(rd());
}

class PgNotificationStore final : public NotificationStore {
 public:
  PgNotificationStore(const postgres::PgTarget& target, int leaseSeconds)
      : pool_(target.conninfo, target.schema, 4), node_(newNodeId()), leaseMicros_(int64_t{leaseSeconds} * 1'000'000) {}

  Status putSubscription(const StoredSubscription& s, bool create) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(s.tenant);
    p.add(s.id);
    p.add(s.doc);
    auto r = (*lease)->run(create ? "INSERT INTO subscriptions (tenant, id, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
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
    const Micros now = systemClock().now();
    Params p;
    p.add(node_);
    p.add(static_cast<int64_t>(now + leaseMicros_));
    p.add(static_cast<int64_t>(now));
    p.add(static_cast<int64_t>(max));
    auto r = (*lease)->run(
        "UPDATE outbox o SET claimed_by = $1, lease_until = $2 WHERE o.seq IN ("
        " SELECT seq FROM outbox WHERE claimed_by IS NULL OR (claimed_by <> $1 AND lease_until < $3)"
        " ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
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
  const std::string node_;  // this process's name on its claims
  const int64_t leaseMicros_;
};

}  // namespace

Result<std::unique_ptr<NotificationStore>> openPostgresNotificationStore(const PostgresOptions& options) {
  auto target = postgres::parseStoreUrl(options.url);
  if (!target) return target.status();
  auto store = std::make_unique<PgNotificationStore>(*target, options.outboxLeaseSeconds);
  // Fail now rather than at the first notification when the database cannot be reached.
  auto size = store->outboxSize();
  if (!size) return size.status();
  return std::unique_ptr<NotificationStore>(std::move(store));
}

}  // namespace allmende::store
