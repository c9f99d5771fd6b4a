// `allmende backup DIR` and `allmende restore DIR`: online copies of every SQLite database of a
// data directory (SQLite's online backup API), taken while the server runs and writes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "common/status.h"

namespace allmende::app {

// Copies every database file (*.db) of `dataDir` into `backupDir` (created; must not hold
// database files yet). Each file is copied in one read transaction, so each copy is a
// consistent snapshot that holds every write committed before the copy began; the server may
// keep writing meanwhile (WAL readers do not block the writer). Also copies `exports/`.
Status backupDataDirectory(const std::string& dataDir, const std::string& backupDir);

// Puts the databases of `backupDir` into `dataDir` (created). Fails when a server runs on
// `dataDir` (DATA/server.lock), or when `dataDir` already holds databases and `replace` is false.
// Each restored file is checked with PRAGMA integrity_check.
Status restoreDataDirectory(const std::string& backupDir, const std::string& dataDir, bool replace);

// Adds the `backup` and `restore` subcommands; the returned function runs the one parsed and
// returns its exit code, or -1 when neither was parsed.
std::function<int()> addBackupCommands(CLI::App& app);

}  // namespace allmende::app
