#include "store/sqlite/dictionary.h"

namespace allmende::store::sqlite {

Status Dictionary::open(sqlite3* writer) {
  writer_ = writer;
  char* err = nullptr;
  std::string create = "CREATE TABLE IF NOT EXISTS " + table_ + " (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)";
  if (sqlite3_exec(writer, create.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "";
    sqlite3_free(err);
    return internalError("create " + table_ + ": " + msg);
  }
  auto load = Statement::prepare(writer, "SELECT id, key FROM " + table_);
  if (!load) return load.status();
  std::lock_guard<std::mutex> lock(mu_);
  while (load->step() == SQLITE_ROW) committed_.emplace(std::string(load->text(1)), load->int64(0));
  auto insert = Statement::prepare(writer, "INSERT INTO " + table_ + " (key) VALUES (?1)");
  if (!insert) return insert.status();
  insert_ = std::move(insert).value();
  return Status::ok();
}

std::optional<int64_t> Dictionary::find(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = committed_.find(key);
  if (it == committed_.end()) return std::nullopt;
  return it->second;
}

Result<int64_t> Dictionary::intern(std::string_view key) {
  if (!pending_.empty()) {
    if (auto it = pending_.find(key); it != pending_.end()) return it->second;
  }
  if (auto id = find(key)) return *id;
  insert_.bind(1, key);
  int rc = insert_.step();
  insert_.reset();
  if (rc != SQLITE_DONE) return sqliteError(writer_, rc, "intern into " + table_);
  int64_t id = sqlite3_last_insert_rowid(writer_);
  pending_.emplace(std::string(key), id);
  order_.emplace_back(key);
  return id;
}

void Dictionary::rollbackTo(size_t mark) {
  while (order_.size() > mark) {
    pending_.erase(order_.back());
    order_.pop_back();
  }
}

void Dictionary::publish() {
  if (pending_.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  committed_.insert(pending_.begin(), pending_.end());
  pending_.clear();
  order_.clear();
}

void Dictionary::discard() {
  pending_.clear();
  order_.clear();
}

}  // namespace allmende::store::sqlite
