// A reader connection of the SQLite store held for one temporal read or purge (these never nest
// in another read, so they take one from the pool directly). Private to store/sqlite.
#pragma once

#include "store/sqlite/sqlite_store_impl.h"

namespace allmende::store::sqlite {

// A reader from the pool for the length of one temporal read (these reads never nest).
class SqliteStore::TemporalReader {
 public:
  // The reads of one answer share one read transaction: one snapshot (an aggregation's periods
  // see the same instances) and one WAL lock instead of one per statement.
  explicit TemporalReader(SqliteStore* s) : store_(s) {
    auto r = s->acquireReader();
    if (!r) {
      status_ = r.status();
      return;
    }
    reader_ = std::move(r).value();
    status_ = reader_->conn.exec("BEGIN");
    inTransaction_ = status_.isOk();
  }
  ~TemporalReader() {
    if (!reader_) return;
    if (inTransaction_) reader_->conn.exec("COMMIT");
    store_->releaseReader(std::move(reader_));
  }
  const Status& status() const { return status_; }
  Reader* operator->() { return reader_.get(); }
  Reader& operator*() { return *reader_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<Reader> reader_;
  Status status_;
  bool inTransaction_ = false;
};

}  // namespace allmende::store::sqlite
