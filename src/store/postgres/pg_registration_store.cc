// Context source registrations and subscriptions (store/registration_store.h) in PostgreSQL:
// tables csource_registrations and csource_subscriptions (migration kCSources in pg_schema.cc);
// the version is the 'csources' row of config_version, bumped by a trigger.
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_schema.h"
#include "store/registration_store.h"

namespace allmende::store {

namespace {

using postgres::ConnectionPool;
using postgres::Params;
using postgres::PgResult;

std::string tableOf(CSourceKind kind) {
  return kind == CSourceKind::kRegistration ? "csource_registrations" : "csource_subscriptions";
}

std::string nounOf(CSourceKind kind) {
  return kind == CSourceKind::kRegistration ? "context source registration" : "context source subscription";
}

class PgRegistrationRepository final : public RegistrationRepository {
 public:
  explicit PgRegistrationRepository(const postgres::PgTarget& t) : pool_(t.conninfo, t.schema, 2) {}

  Status put(CSourceKind kind, const CSourceRecord& r, bool create) override {
    Params p;
    p.add(r.tenant);
    p.add(r.id);
    p.add(r.doc);
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    auto res = (*lease)->run(create ? "INSERT INTO " + tableOf(kind) + " (tenant, id, doc) VALUES ($1, $2, $3)"
                                    : "UPDATE " + tableOf(kind) + " SET doc = $3 WHERE tenant = $1 AND id = $2",
                             p);
    if (!res) {
      if ((*lease)->lastState() == "23505")
        return alreadyExists("a " + nounOf(kind) + " with id '" + r.id + "' exists");
      return res.status();
    }
    if (!create && res->affected() == 0) return notFound("no " + nounOf(kind) + " '" + r.id + "'");
    return Status::ok();
  }

  Result<CSourceRecord> get(CSourceKind kind, const std::string& tenant, const std::string& id) override {
    Params p;
    p.add(tenant);
    p.add(id);
    auto r = run("SELECT tenant, id, doc FROM " + tableOf(kind) + " WHERE tenant = $1 AND id = $2", p);
    if (!r) return r.status();
    if (r->rows() == 0) return notFound("no " + nounOf(kind) + " '" + id.substr(0, 200) + "'");
    return row(*r, 0);
  }

  Result<std::vector<CSourceRecord>> list(CSourceKind kind, const std::string& tenant) override {
    Params p;
    p.add(tenant);
    return rows(run("SELECT tenant, id, doc FROM " + tableOf(kind) + " WHERE tenant = $1 ORDER BY id", p));
  }

  Result<std::vector<CSourceRecord>> all(CSourceKind kind) override {
    return rows(run("SELECT tenant, id, doc FROM " + tableOf(kind) + " ORDER BY tenant, id", Params()));
  }

  Status remove(CSourceKind kind, const std::string& tenant, const std::string& id) override {
    Params p;
    p.add(tenant);
    p.add(id);
    auto r = run("DELETE FROM " + tableOf(kind) + " WHERE tenant = $1 AND id = $2", p);
    if (!r) return r.status();
    if (r->affected() == 0) return notFound("no " + nounOf(kind) + " '" + id.substr(0, 200) + "'");
    return Status::ok();
  }

  Result<int64_t> version() override {
    auto r = run("SELECT v FROM config_version WHERE name = 'csources'", Params());
    if (!r) return r.status();
    if (r->rows() == 0) return internalError("config_version has no row 'csources'");
    return r->int64(0, 0);
  }

 private:
  static CSourceRecord row(const PgResult& r, int i) {
    return {std::string(r.text(i, 0)), std::string(r.text(i, 1)), std::string(r.text(i, 2))};
  }

  static Result<std::vector<CSourceRecord>> rows(Result<PgResult> r) {
    if (!r) return r.status();
    std::vector<CSourceRecord> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(row(*r, i));
    return out;
  }

  Result<PgResult> run(const std::string& sql, const Params& p) {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    return (*lease)->run(sql, p);
  }

  ConnectionPool pool_;
};

}  // namespace

Result<std::unique_ptr<RegistrationRepository>> openPostgresRegistrationRepository(const std::string& url) {
  auto target = postgres::prepareDatabase(url);
  if (!target) return target.status();
  return std::unique_ptr<RegistrationRepository>(std::make_unique<PgRegistrationRepository>(*target));
}

}  // namespace allmende::store
