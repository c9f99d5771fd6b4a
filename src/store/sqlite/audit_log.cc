#include "store/sqlite/audit_log.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/json.h"
#include "store/audit_journal.h"
#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view kColumns = "at, tenant, subject, auth, roles, action, target, status, remote, journal";
// Journal rows are pruned in batches, at most this often (each prune is a transaction in the
// store's file, where it takes turns with the entity writer).
constexpr auto kPruneInterval = std::chrono::seconds(1);
constexpr size_t kPruneBatch = 1000;

// seq is the rowid: records are never deleted (triggers), so it is never reused without
// AUTOINCREMENT, whose sqlite_sequence row cost a page write in every commit (logs made before
// keep it). No index on `journal`: only recovery after a crash looks records up by it, by a scan.
constexpr std::string_view kAuditSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  seq     INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  tenant  TEXT NOT NULL,
  subject TEXT NOT NULL,
  auth    TEXT NOT NULL,
  roles   TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  status  INTEGER NOT NULL,
  remote  TEXT NOT NULL,
  journal INTEGER
);
CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit_log (tenant, seq);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

class SqliteAuditLog final : public AuditLog {
 public:
  SqliteAuditLog(Connection writer, Connection reader, std::optional<Connection> journal)
      : writer_(std::move(writer)), reader_(std::move(reader)), journal_(std::move(journal)) {}

  // Prepares the statements every commit and prune runs (preparing them each time cost more
  // than the rest of a commit), then starts the committer.
  Status start() {
    auto prep = [](sqlite3* db, Statement& s, std::string_view sql) -> Status {
      auto r = Statement::prepare(db, sql);
      if (!r) return r.status();
      s = std::move(r).value();
      return Status::ok();
    };
    ALLMENDE_RETURN_IF_ERROR(prep(writer_.get(), begin_, "BEGIN IMMEDIATE"));
    ALLMENDE_RETURN_IF_ERROR(prep(writer_.get(), commit_, "COMMIT"));
    ALLMENDE_RETURN_IF_ERROR(
        prep(writer_.get(), insert_,
             "INSERT INTO audit_log (" + std::string(kColumns) + ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"));
    if (journal_) {
      ALLMENDE_RETURN_IF_ERROR(prep(journal_->get(), journalBegin_, "BEGIN IMMEDIATE"));
      ALLMENDE_RETURN_IF_ERROR(prep(journal_->get(), journalCommit_, "COMMIT"));
      ALLMENDE_RETURN_IF_ERROR(prep(journal_->get(), journalDelete_, "DELETE FROM audit_journal WHERE id=?1"));
      ALLMENDE_RETURN_IF_ERROR(
          prep(journal_->get(), journalInsert_, "INSERT OR IGNORE INTO audit_journal (id, rec) VALUES (?1, ?2)"));
    }
    committer_ = std::thread([this] { commitLoop(); });
    return Status::ok();
  }

  // Journal rows left by a crash (their change committed, their record did not): each becomes a
  // record with status 0 unless the log has it already; then the rows go. Before start().
  Status recover() {
    if (!journal_) return Status::ok();
    auto rows = Statement::prepare(journal_->get(), "SELECT id, rec FROM audit_journal ORDER BY id");
    if (!rows) return rows.status();
    std::map<int64_t, std::string> left;  // journal rows: id -> record text
    int rc;
    while ((rc = rows->step()) == SQLITE_ROW) left.emplace(rows->int64(0), std::string(rows->text(1)));
    if (rc != SQLITE_DONE) return sqlite::sqliteError(journal_->get(), rc, "read the audit journal");
    if (left.empty()) return Status::ok();
    std::vector<int64_t> ids;
    for (const auto& [id, _] : left) ids.push_back(id);
    // Which of them the log has (committed before the crash): one scan, after crashes only.
    auto known = Statement::prepare(writer_.get(), "SELECT journal FROM audit_log WHERE journal >= ?1");
    if (!known) return known.status();
    known->bind(1, left.begin()->first);
    while ((rc = known->step()) == SQLITE_ROW) left.erase(known->int64(0));
    if (rc != SQLITE_DONE) return sqlite::sqliteError(writer_.get(), rc, "look up journaled records");
    std::deque<AuditRecord> missing;
    for (const auto& [id, text] : left) missing.push_back(recordFromJournal(id, text));
    if (!missing.empty()) ALLMENDE_RETURN_IF_ERROR(commit(missing));
    return prune(ids);
  }
  ~SqliteAuditLog() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (committer_.joinable()) committer_.join();
  }

  void post(AuditRecord record) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;  // its journal row stays; the next start recovers it
    ++enqueued_;
    queue_.push_back(std::move(record));
    cv_.notify_all();
  }

  Status journal(JournalEntry& entry) override {
    if (!journal_) return Status::ok();
    std::lock_guard<std::mutex> lock(journalMu_);
    journalInsert_.bind(1, entry.id);
    journalInsert_.bindStatic(2, entry.text);
    int rc = journalInsert_.step();
    journalInsert_.reset();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(journal_->get(), rc, "journal the audit record");
    entry.written = true;
    return Status::ok();
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

  Result<std::vector<AuditRecord>> query(const std::string& tenant, const AuditQuery& q) override {
    {
      // Records posted before this query (their requests were answered) are read too.
      std::unique_lock<std::mutex> lock(mu_);
      const uint64_t posted = enqueued_;
      done_.wait(lock, [&] { return committed_ >= posted || stopping_; });
    }
    std::lock_guard<std::mutex> lock(readMu_);
    std::string sql = "SELECT seq, " + std::string(kColumns) + " FROM audit_log WHERE tenant=?1 AND seq>?2";
    if (!q.subject.empty()) sql += " AND subject=?4";
    if (!q.action.empty()) sql += " AND action=?5";
    if (!q.targetPrefix.empty()) sql += " AND substr(target, 1, length(?6))=?6";
    if (q.status >= 0) sql += " AND status=?7";
    if (q.since != 0) sql += " AND at>=?8";
    if (q.until != 0) sql += " AND at<?9";
    auto st = Statement::prepare(reader_.get(), sql + " ORDER BY seq LIMIT ?3");
    if (!st) return st.status();
    st->bind(1, tenant);
    st->bind(2, q.afterSeq);
    st->bind(3, static_cast<int64_t>(q.limit));
    if (!q.subject.empty()) st->bind(4, q.subject);
    if (!q.action.empty()) st->bind(5, q.action);
    if (!q.targetPrefix.empty()) st->bind(6, q.targetPrefix);
    if (q.status >= 0) st->bind(7, static_cast<int64_t>(q.status));
    if (q.since != 0) st->bind(8, static_cast<int64_t>(q.since));
    if (q.until != 0) st->bind(9, static_cast<int64_t>(q.until));
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
      r.journal = st->isNull(10) ? 0 : st->int64(10);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(reader_.get(), rc, "query audit log");
    return out;
  }

 private:
  static AuditRecord recordFromJournal(int64_t id, std::string_view text) {
    AuditRecord r;
    r.journal = id;
    JsonDocument d;
    if (!parseJson(text, d).isOk() || !d.IsObject()) {
      r.target = "(unreadable journal entry)";
      return r;
    }
    auto str = [&d](std::string_view m) {
      const Json* v = findMember(d, m);
      return v && v->IsString() ? std::string(asView(*v)) : std::string();
    };
    const Json* at = findMember(d, "at");
    r.at = at && at->IsInt64() ? at->GetInt64() : 0;
    r.tenant = str("tenant");
    r.subject = str("subject");
    r.auth = str("auth");
    r.roles = str("roles");
    r.action = str("action");
    r.target = str("target");
    r.remote = str("remote");
    r.status = 0;
    return r;
  }

  // Group commit: everything queued at that moment goes into one transaction. Journal rows of
  // committed records are removed in batches.
  void commitLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    auto lastPrune = std::chrono::steady_clock::now();
    for (;;) {
      if (pruneIds_.empty()) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      } else {
        cv_.wait_until(lock, lastPrune + kPruneInterval, [&] { return stopping_ || !queue_.empty(); });
      }
      if (!pruneIds_.empty() && (stopping_ || pruneIds_.size() >= kPruneBatch ||
                                 std::chrono::steady_clock::now() - lastPrune >= kPruneInterval)) {
        std::vector<int64_t> ids;
        ids.swap(pruneIds_);
        lock.unlock();
        (void)prune(ids);  // a row that stays is recovered (and found present) at the next start
        lock.lock();
        lastPrune = std::chrono::steady_clock::now();
      }
      if (queue_.empty() && stopping_) break;
      if (queue_.empty()) continue;
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
      } else {
        for (const auto& r : batch) {
          if (r.journal != 0) pruneIds_.push_back(r.journal);
        }
      }
      committed_ = upTo;
      done_.notify_all();
    }
    done_.notify_all();
  }

  // Runs a prepared statement without results (BEGIN, COMMIT, ...).
  static Status run(sqlite3* db, Statement& s, const char* what) {
    int rc = s.step();
    s.reset();
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(db, rc, what);
  }

  // Before start() (recovery) the statements are not prepared yet: plain SQL then.
  Status prune(const std::vector<int64_t>& ids) {
    if (!journal_ || ids.empty()) return Status::ok();
    std::lock_guard<std::mutex> lock(journalMu_);
    sqlite3* db = journal_->get();
    if (!journalDelete_.get()) {
      for (int64_t id : ids) {
        ALLMENDE_RETURN_IF_ERROR(journal_->exec("DELETE FROM audit_journal WHERE id=" + std::to_string(id)));
      }
      return Status::ok();
    }
    ALLMENDE_RETURN_IF_ERROR(run(db, journalBegin_, "begin pruning the audit journal"));
    for (int64_t id : ids) {
      journalDelete_.bind(1, id);
      Status st = run(db, journalDelete_, "prune the audit journal");
      if (!st.isOk()) {
        journal_->exec("ROLLBACK");
        return st;
      }
    }
    Status st = run(db, journalCommit_, "commit pruning the audit journal");
    if (!st.isOk()) journal_->exec("ROLLBACK");
    return st;
  }

  Status commit(const std::deque<AuditRecord>& batch) {
    sqlite3* db = writer_.get();
    const bool prepared = insert_.get() != nullptr;  // false only during recovery
    std::optional<Statement> once;
    if (!prepared) {
      auto st = Statement::prepare(
          db, "INSERT INTO audit_log (" + std::string(kColumns) + ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
      if (!st) return st.status();
      once = std::move(st).value();
    }
    Statement& insert = prepared ? insert_ : *once;
    ALLMENDE_RETURN_IF_ERROR(prepared ? run(db, begin_, "begin audit commit") : writer_.exec("BEGIN IMMEDIATE"));
    for (const auto& r : batch) {
      insert.bind(1, static_cast<int64_t>(r.at));
      insert.bind(2, r.tenant);
      insert.bind(3, r.subject);
      insert.bind(4, r.auth);
      insert.bind(5, r.roles);
      insert.bind(6, r.action);
      insert.bind(7, r.target);
      insert.bind(8, static_cast<int64_t>(r.status));
      insert.bind(9, r.remote);
      if (r.journal != 0)
        insert.bind(10, r.journal);
      else
        insert.bindNull(10);
      Status st = run(db, insert, "append audit record");
      if (!st.isOk()) {
        writer_.exec("ROLLBACK");
        return st;
      }
    }
    Status st = prepared ? run(db, commit_, "commit audit records") : writer_.exec("COMMIT");
    if (!st.isOk()) writer_.exec("ROLLBACK");
    return st;
  }

  Connection writer_;                  // committer thread only (and recovery, before it starts)
  Statement begin_, commit_, insert_;  // on writer_, committer thread only
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
  std::mutex journalMu_;
  std::optional<Connection> journal_;  // GUARDED_BY(journalMu_): the store's file, nullopt = no journal
  // On journal_. GUARDED_BY(journalMu_)
  Statement journalBegin_, journalCommit_, journalDelete_, journalInsert_;
  std::vector<int64_t> pruneIds_;  // GUARDED_BY(mu_): journal rows whose records committed
};

}  // namespace

Result<std::unique_ptr<AuditLog>> openSqliteAuditLog(const std::string& path, const std::string& journalPath) {
  auto writer = Connection::open(path, false);
  if (!writer) return writer.status();
  ALLMENDE_RETURN_IF_ERROR(writer->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"));
  ALLMENDE_RETURN_IF_ERROR(writer->exec(kAuditSchema));
  // Logs from before the journal: add its column.
  if (!Statement::prepare(writer->get(), "SELECT journal FROM audit_log LIMIT 0")) {
    ALLMENDE_RETURN_IF_ERROR(writer->exec("ALTER TABLE audit_log ADD COLUMN journal INTEGER"));
  }
  auto reader = Connection::open(path, false);
  if (!reader) return reader.status();
  std::optional<Connection> journal;
  if (!journalPath.empty()) {
    auto j = Connection::open(journalPath, false);
    if (!j) return j.status();
    ALLMENDE_RETURN_IF_ERROR(j->exec(kAuditJournalSchema));
    journal = std::move(j).value();
  }
  auto log = std::make_unique<SqliteAuditLog>(std::move(writer).value(), std::move(reader).value(), std::move(journal));
  ALLMENDE_RETURN_IF_ERROR(log->recover());
  ALLMENDE_RETURN_IF_ERROR(log->start());
  return std::unique_ptr<AuditLog>(std::move(log));
}

}  // namespace allmende::store
