// `allmende twin run --dem dem.tif --rain SPEC --out DIR [...]`: one flood simulation from the
// command line, with a progress line (simulated time, wall time, ETA, mass error) on stderr.
// README.md ("Heavy-rain simulation") describes the flags.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace allmende::twin {

// Adds the `twin` subcommand to `app`; returns the function to run after parsing (exit code; -1
// when `twin` was not chosen).
std::function<int()> addTwinCommands(CLI::App& app);

}  // namespace allmende::twin
