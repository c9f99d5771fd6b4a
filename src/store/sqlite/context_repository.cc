#include "store/sqlite/context_repository.h"

#include <mutex>

#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

ld::ContextKind kindFromName(std::string_view name) {
  return name == "ImplicitlyCreated" ? ld::ContextKind::kImplicitlyCreated : ld::ContextKind::kHosted;
}

class SqliteContextRepository final : public ld::HostedContextRepository {
 public:
  explicit SqliteContextRepository(Connection conn) : conn_(std::move(conn)) {}

  Result<std::vector<ld::ContextInfo>> load() override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(), "SELECT local_id, kind, created, body, tenant FROM hosted_contexts");
    if (!st) return st.status();
    std::vector<ld::ContextInfo> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      ld::ContextInfo info;
      info.localId = st->text(0);
      info.kind = kindFromName(st->text(1));
      info.createdAt = st->int64(2);
      info.body = st->text(3);
      info.owner = st->text(4);
      out.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "load hosted contexts");
    return out;
  }

  Status save(const ld::ContextInfo& info) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(),
                                 "INSERT OR REPLACE INTO hosted_contexts (local_id, kind, created, body, tenant) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st) return st.status();
    st->bindStatic(1, info.localId);
    st->bindStatic(2, ld::contextKindName(info.kind));
    st->bind(3, static_cast<int64_t>(info.createdAt));
    st->bindStatic(4, info.body);
    st->bindStatic(5, info.owner);
    int rc = st->step();
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(conn_.get(), rc, "save hosted context");
  }

  Status remove(std::string_view localId) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(conn_.get(), "DELETE FROM hosted_contexts WHERE local_id=?1");
    if (!st) return st.status();
    st->bind(1, localId);
    int rc = st->step();
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(conn_.get(), rc, "remove hosted context");
  }

 private:
  std::mutex mu_;
  Connection conn_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<ld::HostedContextRepository>> openSqliteContextRepository(const std::string& path) {
  auto conn = Connection::open(path, false);
  if (!conn) return conn.status();
  ALLMENDE_RETURN_IF_ERROR(
      conn->exec("CREATE TABLE IF NOT EXISTS hosted_contexts (local_id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
                 "created INTEGER NOT NULL, body TEXT NOT NULL, tenant TEXT NOT NULL DEFAULT '')"));
  // Files from before contexts had owners: their contexts belong to the default tenant.
  if (!Statement::prepare(conn->get(), "SELECT tenant FROM hosted_contexts LIMIT 0")) {
    ALLMENDE_RETURN_IF_ERROR(conn->exec("ALTER TABLE hosted_contexts ADD COLUMN tenant TEXT NOT NULL DEFAULT ''"));
  }
  return std::unique_ptr<ld::HostedContextRepository>(
      std::make_unique<SqliteContextRepository>(std::move(conn).value()));
}

}  // namespace allmende::store
