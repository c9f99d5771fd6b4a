// RAII handles for the SQLite C API, private to store/sqlite.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace allmende::store::sqlite {

// A status for a failed SQLite call: disk full and I/O errors become ServiceUnavailable (the
// request may be retried), everything else InternalError.
Status sqliteError(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Statement() { sqlite3_finalize(s_); }

  static Result<Statement> prepare(sqlite3* db, std::string_view sql);

  sqlite3_stmt* get() const { return s_; }
  // Resets bindings and state for reuse.
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  void bind(int i, std::string_view text) {
    sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bindStatic(int i, std::string_view text) {
    sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
  void bindNull(int i) { sqlite3_bind_null(s_, i); }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  std::string_view text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
  }
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool isNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  explicit Statement(sqlite3_stmt* s) : s_(s) {}
  sqlite3_stmt* s_ = nullptr;
};

class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Connection& operator=(Connection&& o) noexcept {
    std::swap(db_, o.db_);
    return *this;
  }
  ~Connection() { sqlite3_close_v2(db_); }

  // Opens (creating if needed) the database file with WAL journaling.
  static Result<Connection> open(const std::string& path, bool readOnly);

  sqlite3* get() const { return db_; }
  bool inTransaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }
  // Runs one or more statements without results.
  Status exec(std::string_view sql);

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace allmende::store::sqlite
