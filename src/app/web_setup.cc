#include "app/web_setup.h"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace allmende::app {

namespace {

// `web/` beside the running executable (build/web after make build).
std::string defaultWebDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("web") : (exe.parent_path() / "web").string();
}

}  // namespace

void addWebFlags(CLI::App& serve, api::WebOptions& o) {
  serve.add_option("--web-dir", o.dir, "directory of the built web app (default: web/ beside the executable)");
  serve.add_option("--web-tenant", o.tenant, "the municipality (tenant) the citizen app shows by default");
  serve.add_option("--web-title", o.title, "its name when the tenant registry has none");
  serve.add_option("--web-tiles", o.tileUrl,
                   "base map tile URL template ({z}/{x}/{y}, optional {s}); \"\" = no base map, the "
                   "municipality's outline and the data only");
  serve.add_option("--web-tiles-attribution", o.tileAttribution, "attribution shown with the base map");
  serve.add_option("--web-tiles-max-zoom", o.tileMaxZoom, "highest zoom level of the tile server")
      ->check(CLI::Range(1, 24))
      ->capture_default_str();
  serve.add_option("--oidc-issuer", o.oidcIssuer,
                   "the console signs users in at this OpenID provider (authorization code + PKCE); "
                   "usually = --jwt-issuer");
  serve.add_option("--oidc-client-id", o.oidcClientId, "the console's client id at the OpenID provider");
  serve.add_option("--oidc-scopes", o.oidcScopes, "scopes the console asks for")->capture_default_str();
}

std::unique_ptr<api::WebAssets> setupWeb(api::WebOptions o, bool demo, api::Services& services) {
  if (o.dir.empty()) o.dir = defaultWebDir();
  if (!o.oidcClientId.empty() && api::urlOrigin(o.oidcIssuer).empty()) {
    spdlog::warn("console sign-in through the identity provider is off: --oidc-issuer '{}' is no http(s) URL",
                 o.oidcIssuer);
    o.oidcClientId.clear();
  }
  if (o.title.empty() && demo && o.tenant.empty()) o.title = "Musterhausen";
  auto web = api::WebAssets::load(std::move(o));
  if (!web) {
    spdlog::warn("web app not served: {}", web.status().toString());
    return nullptr;
  }
  services.web = web->get();
  spdlog::info("web app: {} files from {}", (*web)->fileCount(), (*web)->options().dir);
  return std::move(*web);
}

}  // namespace allmende::app
