// Wiring of the web app (issue 10, docs/web.md) for `allmende serve`: where the built files are,
// which municipality the citizen app shows, and the base map.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "api/services.h"
#include "api/web_assets.h"

namespace allmende::app {

void addWebFlags(CLI::App& serve, api::WebOptions& o);
// Loads the built app (default directory: `web/` beside the executable, where `make build` puts
// it). A missing app is logged and the server runs without it (`/` answers 404); nullptr then.
std::unique_ptr<api::WebAssets> setupWeb(api::WebOptions o, bool demo, api::Services& services);

}  // namespace allmende::app
