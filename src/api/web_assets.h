// The web app (issue 10): the citizen app at `/` and the operator console at `/console/`, built
// by Vite from `web/` into static files that the binary serves itself (no Node.js at run time).
//
// The built files are read from a directory once at start (`--web-dir`, docs/web.md), kept in
// memory together with their gzip form and entity tag, and answered with cache headers (hashed
// files under `assets/` are immutable, everything else is revalidated), gzip when accepted and a
// strict Content-Security-Policy. `/app-config.json` is made per request: the municipality the
// app shows, its public layers and the base map of this deployment.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/call.h"
#include "common/status.h"
#include "http/message.h"

namespace allmende::api {

struct WebOptions {
  std::string dir;              // the built app (web/dist); "" or missing: no web app (404)
  std::string tenant;           // the municipality the citizen app shows by default ("" = default tenant)
  std::string title;            // its name when the tenant registry has none
  std::string tileUrl;          // base map tiles, e.g. https://tiles.example.de/{z}/{x}/{y}.png; "" = none
  std::string tileAttribution;  // shown on the map with the tiles
  int tileMaxZoom = 19;
  // The console's sign-in through the identity provider (OIDC authorization code flow with PKCE,
  // in the browser): "" = API keys and pasted tokens only. Served at /console-config.json.
  std::string oidcIssuer;
  std::string oidcClientId;
  std::string oidcScopes = "openid profile";
  std::string oidcTenantClaim = "tenant";  // = --jwt-tenant-claim: the console's default tenant
};

struct WebAsset {
  std::string body;
  std::string gzipped;  // "" when gzip does not pay (small or already compressed)
  std::string mediaType;
  std::string etag;
  bool immutable = false;    // content-hashed name: cached for a year
  bool consolePage = false;  // the console's document: its policy also allows the identity provider
};

class WebAssets {
 public:
  // Reads every file under options.dir. Fails when the directory is missing or unreadable, when
  // it has no index.html, or when the files exceed 64 MiB together.
  static Result<std::unique_ptr<WebAssets>> load(WebOptions options);

  // The file at `name` (relative, '/'-separated, e.g. "assets/map-1a2b.js"); nullptr when absent.
  const WebAsset* find(std::string_view name) const;
  const WebOptions& options() const { return options_; }
  size_t fileCount() const { return files_.size(); }
  // The Content-Security-Policy of every answer: only this origin, plus the tile server's
  // origin for images when a base map is configured.
  const std::string& contentSecurityPolicy() const { return csp_; }
  // The console's: connect-src also allows the OIDC issuer's origin (discovery, token endpoint).
  const std::string& consoleContentSecurityPolicy() const { return consoleCsp_; }

 private:
  explicit WebAssets(WebOptions options);

  WebOptions options_;
  std::map<std::string, WebAsset, std::less<>> files_;
  std::string csp_;
  std::string consoleCsp_;
};

// The origin to allow in img-src for a tile URL template ("https://{s}.tile.example.de/..." ->
// "https://*.tile.example.de"); "" when the template has no http(s) origin.
std::string tileOrigin(std::string_view tileUrl);
// The origin of an http(s) URL without placeholders ("" otherwise), e.g. the OIDC issuer's.
std::string urlOrigin(std::string_view url);

// The answer for one file of the web app: 304 when the client holds it (If-None-Match), else the
// body, gzipped when accepted; security headers and `cacheControl` ("" = by the asset: immutable
// or no-cache).
http::Response webFileResponse(const http::Request& request, const WebAsset& a, const WebAssets& web,
                               std::string_view cacheControl = "");

// Handler of `GET /`, `/{file}`, `/assets/{file}`, `/console`: the file, 304, or 404.
http::Response serveWebApp(Call& call);

}  // namespace allmende::api
