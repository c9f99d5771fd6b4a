#include "store/sqlite/audit_log.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view kAuditSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  tenant  TEXT NOT NULL,
  subject TEXT NOT NULL,
  auth    TEXT NOT NULL,
  roles   TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  status  INTEGER NOT NULL,
  remote  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit_log (tenant, seq);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

class SqliteAuditLog final : public AuditLog {
 public:
  SqliteAuditLog(Connection writer, Connection reader) : writer_(std::move(writer)), reader_(std::move(reader)) {
    committer_ = std::thread([this] { commitLoop(); });
  }
  ~SqliteAuditLog() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    committer_.join();
  }

  Status append(AuditRecord record) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return Status(ErrorType::kServiceUnavailable, "shutting down");
    uint64_t ticket = ++enqueued_;
    queue_.push_back(std::move(record));
    cv_.notify_all();
    done_.wait(lock, [&] { return committed_ >= ticket || stopping_; });
    if (committed_ < ticket) return Status(ErrorType::kServiceUnavailable, "shutting down");
    return ticket >= failedFrom_ && ticket <= failedTo_ ? failure_ : Status::ok();
  }

  Result<std::vector<AuditRecord>> query(const std::string& tenant, int64_t afterSeq, size_t limit) override {
    std::lock_guard<std::mutex> lock(readMu_);
    auto st = Statement::prepare(reader_.get(),
                                 "SELECT seq, at, tenant, subject, auth, roles, action, target, status, remote "
                                 "FROM audit_log WHERE tenant=?1 AND seq>?2 ORDER BY seq LIMIT ?3");
    if (!st) return st.status();
    st->bind(1, tenant);
    st->bind(2, afterSeq);
    st->bind(3, static_cast<int64_t>(limit));
    std::vector<AuditRecord> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      AuditRecord r;
      r.seq = st->int64(0);
      r.at = st->int64(1);
      r.tenant = st->text(2);
      r.subject = st->text(3);
      r.auth = st->text(4);
      r.roles = st->text(5);
      r.action = st->text(6);
      r.target = st->text(7);
      r.status = static_cast<int>(st->int64(8));
      r.remote = st->text(9);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(reader_.get(), rc, "query audit log");
    return out;
  }

 private:
  // Group commit: everything queued at that moment goes into one transaction.
  void commitLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      std::deque<AuditRecord> batch;
      batch.swap(queue_);
      uint64_t from = committed_ + 1, upTo = enqueued_;
      lock.unlock();
      Status st = commit(batch);
      lock.lock();
      if (!st.isOk()) {
        failure_ = st;
        failedFrom_ = from;
        failedTo_ = upTo;
      }
      committed_ = upTo;
      done_.notify_all();
    }
    done_.notify_all();
  }

  Status commit(const std::deque<AuditRecord>& batch) {
    ALLMENDE_RETURN_IF_ERROR(writer_.exec("BEGIN IMMEDIATE"));
    auto st = Statement::prepare(writer_.get(),
                                 "INSERT INTO audit_log (at, tenant, subject, auth, roles, action, target, status, "
                                 "remote) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st) {
      writer_.exec("ROLLBACK");
      return st.status();
    }
    for (const auto& r : batch) {
      st->reset();
      st->bind(1, static_cast<int64_t>(r.at));
      st->bind(2, r.tenant);
      st->bind(3, r.subject);
      st->bind(4, r.auth);
      st->bind(5, r.roles);
      st->bind(6, r.action);
      st->bind(7, r.target);
      st->bind(8, static_cast<int64_t>(r.status));
      st->bind(9, r.remote);
      int rc = st->step();
      if (rc != SQLITE_DONE) {
        Status err = sqlite::sqliteError(writer_.get(), rc, "append audit record");
        writer_.exec("ROLLBACK");
        return err;
      }
    }
    return writer_.exec("COMMIT");
  }

  Connection writer_;  // committer thread only
  std::mutex readMu_;
  Connection reader_;  // GUARDED_BY(readMu_)
  std::mutex mu_;
  std::condition_variable cv_, done_;
  std::deque<AuditRecord> queue_;           // GUARDED_BY(mu_)
  uint64_t enqueued_ = 0;                   // GUARDED_BY(mu_)
  uint64_t committed_ = 0;                  // GUARDED_BY(mu_)
  Status failure_;                          // GUARDED_BY(mu_): of the last failed commit, ...
  uint64_t failedFrom_ = 1, failedTo_ = 0;  // GUARDED_BY(mu_): ... for these tickets
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  std::thread committer_;
};

}  // namespace

Result<std::unique_ptr<AuditLog>> openSqliteAuditLog(const std::string& path) {
  auto writer = Connection::open(path, false);
  if (!writer) return writer.status();
  ALLMENDE_RETURN_IF_ERROR(writer->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"));
  ALLMENDE_RETURN_IF_ERROR(writer->exec(kAuditSchema));
  auto reader = Connection::open(path, false);
  if (!reader) return reader.status();
  return std::unique_ptr<AuditLog>(
      std::make_unique<SqliteAuditLog>(std::move(writer).value(), std::move(reader).value()));
}

}  // namespace allmende::store
