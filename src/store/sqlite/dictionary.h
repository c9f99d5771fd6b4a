// Integer ids for the strings every index row would otherwise repeat: tenant names and the IRIs
// of entity types and attributes. Index keys shrink from ~60 to a few bytes.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/sqlite/sqlite_handles.h"

namespace allmende::store::sqlite {

// Hashes std::string and std::string_view alike, so that a look-up by view allocates nothing.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using KeyMap = std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>>;

// One table `name(id INTEGER PRIMARY KEY, key TEXT UNIQUE)`, mirrored in memory. Readers see
// only committed ids; the writer thread interns new keys inside its transaction and publishes
// them after the commit (or forgets them after a rollback).
class Dictionary {
 public:
  explicit Dictionary(std::string table) : table_(std::move(table)) {}

  // Creates the table if needed, loads it and prepares the writer's insert statement.
  Status open(sqlite3* writer);

  // The committed id of `key`. Thread-safe.
  std::optional<int64_t> find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).has_value(); }

  // Writer thread: the id of `key`, inserted into the table (uncommitted) when new.
  Result<int64_t> intern(std::string_view key);
  // Writer thread: a mark, and dropping the ids interned after it (their rows were rolled back
  // with a savepoint taken at the mark).
  size_t mark() const { return order_.size(); }
  void rollbackTo(size_t mark);
  // Writer thread: after COMMIT, make the interned ids visible; after ROLLBACK, drop them.
  void publish();
  void discard();

 private:
  std::string table_;
  sqlite3* writer_ = nullptr;
  Statement insert_;
  mutable std::mutex mu_;
  KeyMap committed_;                // GUARDED_BY(mu_)
  KeyMap pending_;                  // writer thread only
  std::vector<std::string> order_;  // writer thread only: pending_ keys in order
};

}  // namespace allmende::store::sqlite
