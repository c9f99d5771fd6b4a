// `allmende tenant create|list|show|suspend|activate|delete` and `allmende key
// create|list|revoke`: they work on the data directory (the database file), whether or not a
// server runs on it; a running server sees the change within a second
// (store/tenant_registry.h). docs/tenancy.md describes them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace allmende::app {

// Adds the subcommands to `app`; returns the function to run after parsing (exit code; -1 when
// none of them was chosen).
std::function<int()> addTenantCommands(CLI::App& app);

}  // namespace allmende::app
