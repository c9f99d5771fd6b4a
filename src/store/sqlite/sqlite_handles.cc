#include "store/sqlite/sqlite_handles.h"

namespace allmende::store::sqlite {

Status sqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_BUSY ||
      primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN) {
    return Status(ErrorType::kServiceUnavailable, "store unavailable (" + detail + ")");
  }
  return internalError(detail);
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db, rc, "prepare");
  return Statement(s);
}

Result<Connection> Connection::open(const std::string& path, bool readOnly) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  Connection c(db);
  if (rc != SQLITE_OK) return sqliteError(db, rc, "open " + path);
  sqlite3_busy_timeout(db, 5000);
  return c;
}

Status Connection::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "";
    sqlite3_free(err);
    return sqliteError(db_, rc, "exec: " + msg);
  }
  return Status::ok();
}

}  // namespace allmende::store::sqlite
