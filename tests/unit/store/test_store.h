// The store a store test runs on: SQLite in a directory, or -- when ALLMENDE_TEST_STORE names a
// PostgreSQL database (scripts/pg start) -- that database, in a schema of the directory's own
// (so a reopen with the same directory finds its data again, and tests do not see each other).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace allmende::store {

// "" when the tests run on SQLite.
inline std::string testPostgresBase() {
  if (const char* url = std::getenv("ALLMENDE_TEST_STORE"); url && *url) return url;
  const char* file = std::getenv("ALLMENDE_TEST_STORE_FILE");  // the ctest fixture `postgres`
  if (!file || !*file) return "";
  std::string url;
  if (FILE* f = std::fopen(file, "r")) {
    char line[1024];
    if (std::fgets(line, sizeof line, f)) url = line;
    std::fclose(f);
  }
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r' || url.back() == ' ')) url.pop_back();
  return url;
}

inline std::string testPostgresUrl(const std::string& dir) {
  const std::string base = testPostgresBase();
  if (base.empty()) return "";
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : dir) h = (h ^ c) * 1099511628211ull;
  char schema[32];
  std::snprintf(schema, sizeof schema, "u_%016llx", static_cast<unsigned long long>(h));
  std::string url = base;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema;
}

inline Result<std::unique_ptr<Store>> openTestStore(const std::string& dir) {
  const std::string url = testPostgresUrl(dir);
  if (url.empty()) return openSqliteStore({dir + "/db", "normal"});
  PostgresOptions o;
  o.url = url;
  return openPostgresStore(o);
}

}  // namespace allmende::store
