// The open-data dataset definitions (store/dataset_store.h) in SQLite: table `open_datasets`.
#include "store/dataset_store.h"

#include <mutex>

#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view kDatasetSchema = R"sql(
CREATE TABLE IF NOT EXISTS open_datasets (
  tenant     TEXT NOT NULL,
  id         TEXT NOT NULL,
  definition TEXT NOT NULL,
  created    INTEGER NOT NULL,
  modified   INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
)sql";

class SqliteDatasetStore final : public DatasetStore {
 public:
  explicit SqliteDatasetStore(Connection db) : db_(std::move(db)) {}

  Status put(const DatasetRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(),
                                 "INSERT INTO open_datasets (tenant, id, definition, created, modified) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant, id) DO UPDATE SET "
                                 "definition = excluded.definition, modified = excluded.modified");
    if (!st) return st.status();
    st->bind(1, r.tenant);
    st->bind(2, r.id);
    st->bind(3, r.definition);
    st->bind(4, static_cast<int64_t>(r.created));
    st->bind(5, static_cast<int64_t>(r.modified));
    int rc = st->step();
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(db_.get(), rc, "store dataset");
  }

  Result<std::optional<DatasetRecord>> get(const std::string& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(), std::string(kSelect) + " WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    st->bind(1, tenant);
    st->bind(2, id);
    int rc = st->step();
    if (rc == SQLITE_DONE) return std::optional<DatasetRecord>();
    if (rc != SQLITE_ROW) return sqlite::sqliteError(db_.get(), rc, "read dataset");
    return std::optional<DatasetRecord>(row(*st));
  }

  Result<std::vector<DatasetRecord>> list(const std::optional<std::string>& tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(),
                                 std::string(kSelect) + (tenant ? " WHERE tenant = ?1" : "") + " ORDER BY tenant, id");
    if (!st) return st.status();
    if (tenant) st->bind(1, *tenant);
    std::vector<DatasetRecord> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) out.push_back(row(*st));
    if (rc != SQLITE_DONE) return sqlite::sqliteError(db_.get(), rc, "list datasets");
    return out;
  }

  Status remove(const std::string& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(), "DELETE FROM open_datasets WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    st->bind(1, tenant);
    st->bind(2, id);
    int rc = st->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(db_.get(), rc, "delete dataset");
    if (sqlite3_changes(db_.get()) == 0) return notFound("no dataset '" + id.substr(0, 80) + "'");
    return Status::ok();
  }

  Status removeTenant(const std::string& tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = Statement::prepare(db_.get(), "DELETE FROM open_datasets WHERE tenant = ?1");
    if (!st) return st.status();
    st->bind(1, tenant);
    int rc = st->step();
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(db_.get(), rc, "delete datasets");
  }

 private:
  static constexpr std::string_view kSelect = "SELECT tenant, id, definition, created, modified FROM open_datasets";

  static DatasetRecord row(const Statement& st) {
    DatasetRecord r;
    r.tenant = st.text(0);
    r.id = st.text(1);
    r.definition = st.text(2);
    r.created = st.int64(3);
    r.modified = st.int64(4);
    return r;
  }

  std::mutex mu_;
  Connection db_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<DatasetStore>> openSqliteDatasetStore(const std::string& path) {
  auto db = Connection::open(path, false);
  if (!db) return db.status();
  Status st = db->exec(kDatasetSchema);
  if (!st.isOk()) return st;
  return std::unique_ptr<DatasetStore>(std::make_unique<SqliteDatasetStore>(std::move(*db)));
}

}  // namespace allmende::store
