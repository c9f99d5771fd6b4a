// The PostgreSQL store: its start, retrieval by id, tenants and discovery. Queries:
// pg_query.cc; writes: pg_writer.cc; history: pg_temporal.cc.
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store_impl.h"

namespace allmende::store {

namespace postgres {

Status parseDoc(const char* text, JsonDocument& doc) {
  if (parseJsonText(text, doc).IsError()) return internalError("corrupt entity document in store");
  return Status::ok();
}

Status PgStore::init() {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  ALLMENDE_RETURN_IF_ERROR(migrate(**lease, pool_.schema()));
  auto tenants = (*lease)->run("SELECT name FROM tenants");
  if (!tenants) return tenants.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < tenants->rows(); ++i) knownTenants_.emplace(tenants->text(i, 0));
  return Status::ok();
}

bool PgStore::tenantExists(const TenantId& tenant) {
  if (tenant.empty()) return true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (knownTenants_.count(tenant)) return true;
  }
  // Another node may have created it.
  auto lease = pool_.lease();
  if (!lease) return false;
  Params p;
  p.add(tenant);
  auto r = (*lease)->run("SELECT 1 FROM tenants WHERE name = $1", p);
  if (!r || r->rows() == 0) return false;
  noteTenant(tenant);
  return true;
}

bool PgStore::tenantKnown(const TenantId& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  return knownTenants_.count(tenant) > 0;
}

void PgStore::noteTenant(const TenantId& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  knownTenants_.insert(tenant);
}

Result<JsonDocument> PgStore::getEntity(const TenantId& tenant, const std::string& id) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Params p;
  p.add(tenant);
  p.add(id);
  auto r = (*lease)->run("SELECT doc FROM entities WHERE tenant = $1 AND id = $2", p);
  if (!r) return r.status();
  if (r->rows() == 0) return notFound("entity " + id + " not found");
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseDoc(r->cstr(0, 0), doc));
  return doc;
}

Result<std::vector<AttributeStat>> PgStore::attributeStats(const TenantId& tenant) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Params p;
  p.add(tenant);
  std::vector<AttributeStat> out;
  auto types = (*lease)->run("SELECT type, count(*) FROM entity_types WHERE tenant = $1 GROUP BY type", p);
  if (!types) return types.status();
  for (int i = 0; i < types->rows(); ++i) {
    AttributeStat a;
    a.type = types->text(i, 0);
    a.entities = static_cast<size_t>(types->int64(i, 1));
    out.push_back(std::move(a));
  }
  auto attrs = (*lease)->run(
      "SELECT y.type, j.key, j.value -> 0 ->> 'type', count(*) FROM entity_types y "
      "JOIN entities e ON e.tenant = y.tenant AND e.seq = y.seq, json_each(e.doc -> 'attrs') j "
      "WHERE y.tenant = $1 GROUP BY 1, 2, 3",
      p);
  if (!attrs) return attrs.status();
  for (int i = 0; i < attrs->rows(); ++i) {
    AttributeStat a;
    a.type = attrs->text(i, 0);
    a.attribute = attrs->text(i, 1);
    a.kind = attrs->isNull(i, 2) ? "" : std::string(attrs->text(i, 2));
    a.entities = static_cast<size_t>(attrs->int64(i, 3));
    out.push_back(std::move(a));
  }
  return out;
}

StoreStats PgStore::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace postgres

bool isPostgresStore(const std::string& store) { return postgres::isPostgresUrl(store); }

Result<std::unique_ptr<Store>> openPostgresStore(const PostgresOptions& options) {
  auto target = postgres::parseStoreUrl(options.url);
  if (!target) return target.status();
  auto store = std::make_unique<postgres::PgStore>(options, *target);
  ALLMENDE_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace allmende::store
