// The embedded store: one SQLite database file in WAL mode.
//
// Writes go through one writer thread that commits every request waiting at that moment in one
// transaction (group commit); reads use a pool of read-only connections and never wait for it.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace allmende::store {

struct SqliteOptions {
  std::string path;  // database file; created with the schema when missing
  // "normal": a committed write survives a crash of the process (kill -9); "full": also a crash
  // of the machine (fsync at every group commit).
  std::string durability = "normal";
  size_t maxOpsPerCommit = 4096;  // upper bound on one group commit
  size_t maxReaders = 4;          // read connections; further readers wait for one
  int checkpointMillis = 200;     // period of the background WAL checkpoint
  int walRestartFrames = 8192;    // log size (pages) at which the writer restarts the log
  // Writes with this many ops are prepared on the caller's thread. 1 (every write) took 32 % of
  // the writer's instructions per single create off the writer thread but left the total as it
  // was, and single creates ran 13-18 % slower on the loaded 2-core machine (bench/write_instructions).
  size_t prepareMinOps = 16;
  size_t readerCacheKiB = 16384;  // page cache of each read connection
  // Fault injection for tests: a write of the entity with this id fails with an internal error
  // after its row is written, as an SQL error in the middle of an op would.
  std::string faultEntityId;
};

// Opens or creates the store. Fails with ServiceUnavailable if the file cannot be opened.
Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options);

}  // namespace allmende::store
