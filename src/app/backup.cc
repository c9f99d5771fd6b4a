#include "app/backup.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "app/tenancy_setup.h"

namespace allmende::app {

namespace fs = std::filesystem;

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Status sqliteError(const std::string& what, sqlite3* db) {
  return Status(ErrorType::kServiceUnavailable, what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

Result<Db> openDb(const fs::path& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return sqliteError("cannot open " + path.string(), raw);
  sqlite3_busy_timeout(raw, 10000);
  return db;
}

// The database files of a directory: regular files named *.db.
std::vector<fs::path> databases(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".db") out.push_back(e.path());
  }
  return out;
}

// Copies `from` into `to` page by page in one step, i.e. in one read transaction of `from`: a
// consistent snapshot. SQLITE_BUSY/LOCKED (a writer's checkpoint at that instant) is retried.
Status copyDatabase(const fs::path& from, const fs::path& to) {
  auto src = openDb(from, SQLITE_OPEN_READWRITE);
  if (!src) return src.status();
  auto dst = openDb(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!dst) return dst.status();
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(dst->get(), "main", src->get(), "main");
    if (!b) return sqliteError("cannot back up " + from.string(), dst->get());
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE) break;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 50) {
      return Status(ErrorType::kServiceUnavailable, "cannot copy " + from.string() + ": " + sqlite3_errstr(rc));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The copy stands alone: fold its WAL into the file.
  sqlite3_exec(dst->get(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  return Status::ok();
}

Status integrityCheck(const fs::path& path) {
  auto db = openDb(path, SQLITE_OPEN_READONLY);
  if (!db) return db.status();
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db->get(), "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
    return sqliteError("cannot check " + path.string(), db->get());
  }
  std::string result;
  if (sqlite3_step(st) == SQLITE_ROW) result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (result != "ok") return Status(ErrorType::kInternalError, path.string() + " is damaged: " + result);
  return Status::ok();
}

Status copyExports(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::exists(from / "exports", ec)) return Status::ok();
  fs::copy(from / "exports", to / "exports", fs::copy_options::recursive | fs::copy_options::skip_existing, ec);
  if (ec) return Status(ErrorType::kServiceUnavailable, "cannot copy exports/: " + ec.message());
  return Status::ok();
}

}  // namespace

Status backupDataDirectory(const std::string& dataDir, const std::string& backupDir) {
  std::vector<fs::path> dbs = databases(dataDir);
  if (dbs.empty()) return notFound("no database files (*.db) in " + dataDir);
  std::error_code ec;
  fs::create_directories(backupDir, ec);
  if (ec) return Status(ErrorType::kServiceUnavailable, "cannot create " + backupDir + ": " + ec.message());
  if (!databases(backupDir).empty()) return alreadyExists(backupDir + " already holds a backup");
  for (const auto& db : dbs) {
    // Written under a temporary name and renamed: a backup interrupted half-way is no backup.
    fs::path part = fs::path(backupDir) / (db.filename().string() + ".part");
    fs::remove(part, ec);
    ALLMENDE_RETURN_IF_ERROR(copyDatabase(db, part));
    fs::rename(part, fs::path(backupDir) / db.filename(), ec);
    if (ec) return Status(ErrorType::kServiceUnavailable, "cannot rename " + part.string() + ": " + ec.message());
    fs::remove(fs::path(part.string() + "-wal"), ec);
    fs::remove(fs::path(part.string() + "-shm"), ec);
  }
  return copyExports(dataDir, backupDir);
}

Status restoreDataDirectory(const std::string& backupDir, const std::string& dataDir, bool replace) {
  std::vector<fs::path> dbs = databases(backupDir);
  if (dbs.empty()) return notFound("no database files (*.db) in " + backupDir);
  for (const auto& db : dbs) ALLMENDE_RETURN_IF_ERROR(integrityCheck(db));
  std::error_code ec;
  fs::create_directories(dataDir, ec);
  if (ec) return Status(ErrorType::kServiceUnavailable, "cannot create " + dataDir + ": " + ec.message());
  int lock = lockDataDirectory(dataDir);
  if (lock < 0) return Status(ErrorType::kConflict, "a server is running on " + dataDir + ": stop it first");
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};
  std::vector<fs::path> present = databases(dataDir);
  if (!present.empty() && !replace) {
    return alreadyExists(dataDir + " already holds databases (restore with --replace to overwrite them)");
  }
  for (const auto& db : present) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fs::path(db.string() + suffix), ec);
  }
  for (const auto& db : dbs) {
    fs::path target = fs::path(dataDir) / db.filename();
    fs::copy_file(db, target, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status(ErrorType::kServiceUnavailable, "cannot copy " + db.string() + ": " + ec.message());
  }
  return copyExports(backupDir, dataDir);
}

std::function<int()> addBackupCommands(CLI::App& app) {
  struct Args {
    std::string dataDir = "./data", dir;
    bool replace = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* backup = app.add_subcommand("backup", "copy every database of the data directory while the server runs");
  backup->add_option("dir", args->dir, "backup directory (created; must hold no backup yet)")->required();
  backup->add_option("--data", args->dataDir, "data directory")->capture_default_str();
  CLI::App* restore = app.add_subcommand("restore", "put a backup into a data directory (the server stopped)");
  restore->add_option("dir", args->dir, "backup directory written by allmende backup")->required();
  restore->add_option("--data", args->dataDir, "data directory")->capture_default_str();
  restore->add_flag("--replace", args->replace, "overwrite the databases the data directory holds");
  return [=]() -> int {
    Status st;
    if (backup->parsed()) {
      st = backupDataDirectory(args->dataDir, args->dir);
    } else if (restore->parsed()) {
      st = restoreDataDirectory(args->dir, args->dataDir, args->replace);
    } else {
      return -1;
    }
    if (!st.isOk()) {
      std::fprintf(stderr, "%s\n", st.toString().c_str());
      return 1;
    }
    std::printf("%s %s\n", backup->parsed() ? "backup written to" : "restored into",
                (backup->parsed() ? args->dir : args->dataDir).c_str());
    return 0;
  };
}

}  // namespace allmende::app
