// `allmende device list|show|add|replace|remove`: the device registry of IoT ingestion
// (docs/ingestion.md) in the data directory, the same registrations as /admin/v1/devices, whether
// or not a server runs on it (a running server takes changes in within about a second).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace allmende::app {

// Adds the subcommands to `app`; returns the function to run after parsing (exit code; -1 when
// none of them was chosen).
std::function<int()> addDeviceCommands(CLI::App& app);

}  // namespace allmende::app
