// Context source registrations and subscriptions (store/registration_store.h) in SQLite: tables
// csource_registrations and csource_subscriptions, and csource_version, a counter the triggers
// bump with every change (so that a cache sees changes made by another process on the file).
#include "store/registration_store.h"

#include <mutex>

#include "store/sqlite/sqlite_handles.h"
#include "store/sqlite/trail.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS csource_registrations (
  tenant TEXT NOT NULL,
  id     TEXT NOT NULL,
  doc    TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS csource_subscriptions (
  tenant TEXT NOT NULL,
  id     TEXT NOT NULL,
  doc    TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS csource_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO csource_version (one, version) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS csource_registrations_ins AFTER INSERT ON csource_registrations
  BEGIN UPDATE csource_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS csource_registrations_upd AFTER UPDATE ON csource_registrations
  BEGIN UPDATE csource_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS csource_registrations_del AFTER DELETE ON csource_registrations
  BEGIN UPDATE csource_version SET version = version + 1; END;
)sql";

const char* tableOf(CSourceKind kind) {
  return kind == CSourceKind::kRegistration ? "csource_registrations" : "csource_subscriptions";
}

const char* nounOf(CSourceKind kind) {
  return kind == CSourceKind::kRegistration ? "context source registration" : "context source subscription";
}

class SqliteRegistrationRepository final : public RegistrationRepository {
 public:
  explicit SqliteRegistrationRepository(Connection db) : db_(std::move(db)) {}

  Status put(CSourceKind kind, const CSourceRecord& r, bool create) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string table = tableOf(kind);
    auto st = Statement::prepare(db_.get(), create ? "INSERT INTO " + table + " (tenant, id, doc) VALUES (?1, ?2, ?3)"
                                                   : "UPDATE " + table + " SET doc = ?3 WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    st->bindStatic(1, r.tenant);
    st->bindStatic(2, r.id);
    st->bindStatic(3, r.doc);
    int rc = st->step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
      return alreadyExists(std::string("a ") + nounOf(kind) + " with id '" + r.id + "' exists");
    if (rc != SQLITE_DONE) return sqlite::sqliteError(db_.get(), rc, "store csource record");
    if (!create && sqlite3_changes(db_.get()) == 0)
      return notFound(std::string("no ") + nounOf(kind) + " '" + r.id + "'");
    return Status::ok();
  }

  Result<CSourceRecord> get(CSourceKind kind, const std::string& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(),
                                 std::string("SELECT doc FROM ") + tableOf(kind) + " WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    st->bindStatic(1, tenant);
    st->bindStatic(2, id);
    int rc = st->step();
    if (rc == SQLITE_DONE) return notFound(std::string("no ") + nounOf(kind) + " '" + id.substr(0, 200) + "'");
    if (rc != SQLITE_ROW) return sqlite::sqliteError(db_.get(), rc, "read csource record");
    return CSourceRecord{tenant, id, std::string(st->text(0))};
  }

  Result<std::vector<CSourceRecord>> list(CSourceKind kind, const std::string& tenant) override {
    return select(std::string("SELECT tenant, id, doc FROM ") + tableOf(kind) + " WHERE tenant = ?1 ORDER BY id",
                  &tenant);
  }

  Result<std::vector<CSourceRecord>> all(CSourceKind kind) override {
    return select(std::string("SELECT tenant, id, doc FROM ") + tableOf(kind) + " ORDER BY tenant, id", nullptr);
  }

  Status remove(CSourceKind kind, const std::string& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st =
        Statement::prepare(db_.get(), std::string("DELETE FROM ") + tableOf(kind) + " WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    st->bindStatic(1, tenant);
    st->bindStatic(2, id);
    int rc = st->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(db_.get(), rc, "delete csource record");
    if (sqlite3_changes(db_.get()) == 0)
      return notFound(std::string("no ") + nounOf(kind) + " '" + id.substr(0, 200) + "'");
    return Status::ok();
  }

  Result<int64_t> version() override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(), "SELECT version FROM csource_version");
    if (!st) return st.status();
    int rc = st->step();
    if (rc != SQLITE_ROW) return sqlite::sqliteError(db_.get(), rc, "read csource version");
    return st->int64(0);
  }

 private:
  Result<std::vector<CSourceRecord>> select(const std::string& sql, const std::string* tenant) {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(), sql);
    if (!st) return st.status();
    if (tenant) st->bindStatic(1, *tenant);
    std::vector<CSourceRecord> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      out.push_back({std::string(st->text(0)), std::string(st->text(1)), std::string(st->text(2))});
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(db_.get(), rc, "list csource records");
    return out;
  }

  std::mutex mu_;
  Connection db_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<RegistrationRepository>> openSqliteRegistrationRepository(const std::string& path) {
  auto db = Connection::open(path, false);
  if (!db) return db.status();
  sqlite3_busy_handler(db->get(), sqlite::shortBusyWait, nullptr);
  ALLMENDE_RETURN_IF_ERROR(db->exec(kSchema));
  return std::unique_ptr<RegistrationRepository>(std::make_unique<SqliteRegistrationRepository>(std::move(*db)));
}

}  // namespace allmende::store
