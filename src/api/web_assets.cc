#include "api/web_assets.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/open_http.h"
#include "api/problem.h"
#include "api/public_read.h"
#include "api/web_hazard.h"

namespace allmende::api {

namespace {

constexpr size_t kMaxTotalBytes = 64 << 20;
constexpr size_t kGzipMinBytes = 512;

struct MediaTypeOf {
  std::string_view extension;
  std::string_view mediaType;
  bool compressible;
};

constexpr MediaTypeOf kMediaTypes[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json", true},
    {".webmanifest", "application/manifest+json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".map", "application/json", true},
    {".png", "image/png", false},
    {".jpg", "image/jpeg", false},
    {".ico", "image/x-icon", true},
    {".woff2", "font/woff2", false},
};

const MediaTypeOf& mediaTypeOf(std::string_view name) {
  static constexpr MediaTypeOf kOther{"", "application/octet-stream", false};
  for (const auto& m : kMediaTypes) {
    if (name.size() >= m.extension.size() && name.substr(name.size() - m.extension.size()) == m.extension) return m;
  }
  return kOther;
}

// `connectOrigin`: one more origin the page may fetch from ("" = none).
std::string buildCsp(const WebOptions& o, std::string_view connectOrigin = "") {
  std::string img = "img-src 'self' data:";
  if (std::string origin = tileOrigin(o.tileUrl); !origin.empty()) img += " " + origin;
  std::string connect = "connect-src 'self'";
  if (!connectOrigin.empty()) connect += " " + std::string(connectOrigin);
  // No inline script or style anywhere: Leaflet positions through the CSSOM, which CSP allows.
  return "default-src 'none'; script-src 'self'; style-src 'self'; " + img + "; " + connect +
         "; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
         "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

void securityHeaders(http::Response& r, const WebAssets& web, bool consolePage = false) {
  r.setHeader("Content-Security-Policy",
              consolePage ? web.consoleContentSecurityPolicy() : web.contentSecurityPolicy());
  r.setHeader("X-Content-Type-Options", "nosniff");
  r.setHeader("Referrer-Policy", "no-referrer");
  r.setHeader("Permissions-Policy", "geolocation=(self), camera=(), microphone=()");
}

}  // namespace

http::Response webFileResponse(const http::Request& request, const WebAsset& a, const WebAssets& web,
                               std::string_view cacheControl) {
  http::Response r;
  securityHeaders(r, web, a.consolePage);
  if (cacheControl.empty()) cacheControl = a.immutable ? "public, max-age=31536000, immutable" : "no-cache";
  r.setHeader("Cache-Control", std::string(cacheControl));
  r.setHeader("ETag", a.etag);
  r.setHeader("Vary", "Accept-Encoding");
  std::string_view inm = request.header("if-none-match");
  if (!inm.empty() && inm.find(a.etag) != std::string_view::npos) {
    r.status = 304;
    return r;
  }
  r.setHeader("Content-Type", a.mediaType);
  if (!a.gzipped.empty() && acceptsGzip(request.header("accept-encoding"))) {
    r.setHeader("Content-Encoding", "gzip");
    r.body = a.gzipped;
  } else {
    r.body = a.body;
  }
  return r;
}

namespace {

bool validTenantName(std::string_view t) {
  if (t.size() > 64) return false;
  for (char c : t) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// The public layers of a registered tenant: its catalogue's public types with their public
// attributes (api/public_read.h, the same rule as the anonymous read).
void writeLayers(JsonWriter& w, const store::TenantRecord& t) {
  JsonDocument settings;
  w.Key("layers");
  if (!parseJson(t.settings, settings).isOk() || !settings.IsObject() || !findMember(settings, "dataModels")) {
    w.Null();
    return;
  }
  w.StartArray();
  const Json* models = findMember(settings, "dataModels");
  if (models->IsArray()) {
    for (const auto& m : models->GetArray()) {
      const Json* type = m.IsObject() ? findMember(m, "type") : nullptr;
      if (!type || !type->IsString()) continue;
      auto attrs = publicAttributes(t, std::string(asView(*type)));
      if (!attrs) continue;
      w.StartObject();
      w.Key("type");
      w.String(type->GetString(), type->GetStringLength());
      w.Key("attributes");
      w.StartArray();
      for (const auto& a : *attrs) w.String(a.data(), static_cast<rapidjson::SizeType>(a.size()));
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
}

// `/app-config.json`: what the citizen app needs to know about this deployment. `layers` null
// means "no catalogue": every entity is readable (open mode) and the app shows its known layers.
http::Response appConfig(Call& call, const WebAssets& web) {
  const WebOptions& o = web.options();
  std::string tenant = o.tenant;
  if (const std::string* t = call.param("tenant")) tenant = *t;
  if (!validTenantName(tenant)) return problemResponse(Status(ErrorType::kBadRequestData, "invalid tenant name"));
  std::optional<store::TenantRecord> record;
  if (call.services().tenants && !tenant.empty()) record = call.services().tenants->findTenant(tenant);
  bool suspended = record && record->status != "active";
  if (suspended) record.reset();  // a suspended tenant shows nothing
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("tenant");
  w.String(tenant.data(), static_cast<rapidjson::SizeType>(tenant.size()));
  std::string name = record && !record->displayName.empty() ? record->displayName : o.title;
  w.Key("name");
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.Key("area");
  JsonDocument area;
  if (record && !record->area.empty() && parseJson(record->area, area).isOk()) {
    area.Accept(w);
  } else {
    w.Null();
  }
  w.Key("tiles");
  if (o.tileUrl.empty()) {
    w.Null();
  } else {
    w.StartObject();
    w.Key("url");
    w.String(o.tileUrl.data(), static_cast<rapidjson::SizeType>(o.tileUrl.size()));
    w.Key("attribution");
    w.String(o.tileAttribution.data(), static_cast<rapidjson::SizeType>(o.tileAttribution.size()));
    w.Key("maxZoom");
    w.Int(o.tileMaxZoom);
    w.EndObject();
  }
  w.Key("authRequired");
  w.Bool(call.services().access != nullptr);
  if (record) {
    writeLayers(w, *record);
  } else {
    w.Key("layers");
    w.Null();
  }
  if (suspended) {
    w.Key("hazard");
    w.Null();
  } else {
    writeHazard(w, call, tenant);
  }
  w.EndObject();
  WebAsset a;
  a.body.assign(buf.GetString(), buf.GetSize());
  a.mediaType = "application/json";
  a.etag = entityTag(a.body, a.mediaType);
  return webFileResponse(call.request(), a, web);
}

// `/console-config.json`: how the console signs in on this deployment. `oidc` null: API keys
// (and pasted tokens) only; else the identity provider the console sends its users to.
http::Response consoleConfig(Call& call, const WebAssets& web) {
  const WebOptions& o = web.options();
  JsonBuffer buf;
  JsonWriter w(buf);
  auto str = [&w](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("oidc");
  if (o.oidcIssuer.empty() || o.oidcClientId.empty()) {
    w.Null();
  } else {
    w.StartObject();
    w.Key("issuer");
    str(o.oidcIssuer);
    w.Key("clientId");
    str(o.oidcClientId);
    w.Key("scopes");
    str(o.oidcScopes);
    w.Key("tenantClaim");
    str(o.oidcTenantClaim);
    w.EndObject();
  }
  w.EndObject();
  WebAsset a;
  a.body.assign(buf.GetString(), buf.GetSize());
  a.mediaType = "application/json";
  a.etag = entityTag(a.body, a.mediaType);
  return webFileResponse(call.request(), a, web);
}

// The stored file a request path names: "/" is the citizen app, "/console" the console.
std::string fileName(const http::Request& r) {
  std::string_view p = r.path;
  if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (p == "/") return "index.html";
  if (p == "/console") return "console/index.html";
  return std::string(p.substr(1));
}

}  // namespace

std::string tileOrigin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view s = url.substr(0, scheme);
  if (s != "http" && s != "https") return "";
  size_t end = url.find('/', scheme + 3);
  std::string origin(url.substr(0, end));
  // A subdomain placeholder ({s}, as Leaflet's) becomes a CSP wildcard host label.
  if (size_t at = origin.find("{s}"); at != std::string::npos) origin.replace(at, 3, "*");
  if (origin.find_first_of("{} ;,'\"") != std::string::npos) return "";
  return origin;
}

std::string urlOrigin(std::string_view url) {
  std::string origin = tileOrigin(url);
  return origin.find('*') == std::string::npos ? origin : "";
}

WebAssets::WebAssets(WebOptions options)
    : options_(std::move(options)),
      csp_(buildCsp(options_)),
      consoleCsp_(buildCsp(options_, options_.oidcClientId.empty() ? "" : urlOrigin(options_.oidcIssuer))) {}

Result<std::unique_ptr<WebAssets>> WebAssets::load(WebOptions options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root(options.dir);
  if (options.dir.empty() || !fs::is_directory(root, ec)) {
    return Status(ErrorType::kResourceNotFound, "no web app at '" + options.dir + "' (make build builds it)");
  }
  std::unique_ptr<WebAssets> web(new WebAssets(std::move(options)));
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string name = fs::relative(it->path(), root, ec).generic_string();
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Status(ErrorType::kInternalError, "cannot read " + it->path().string());
    WebAsset a;
    a.body = std::move(text).str();
    total += a.body.size();
    if (total > kMaxTotalBytes) return Status(ErrorType::kInternalError, "the web app exceeds 64 MiB");
    const MediaTypeOf& m = mediaTypeOf(name);
    a.mediaType = std::string(m.mediaType);
    if (m.compressible && a.body.size() >= kGzipMinBytes) {
      a.gzipped = gzip(a.body);
      if (a.gzipped.size() >= a.body.size()) a.gzipped.clear();
    }
    a.etag = entityTag(a.body, a.mediaType);
    a.immutable = name.rfind("assets/", 0) == 0;
    a.consolePage = name == "console/index.html";
    web->files_.emplace(std::move(name), std::move(a));
  }
  if (ec) return Status(ErrorType::kInternalError, "cannot list " + root.string() + ": " + ec.message());
  if (!web->find("index.html")) return Status(ErrorType::kResourceNotFound, "no index.html in " + root.string());
  return web;
}

const WebAsset* WebAssets::find(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

http::Response serveWebApp(Call& call) {
  const WebAssets* web = call.services().web;
  if (!web) return problemResponse(notFound("the web app is not installed on this server (see docs/web.md)"));
  std::string name = fileName(call.request());
  if (name == "app-config.json") return appConfig(call, *web);
  if (name == "console-config.json") return consoleConfig(call, *web);
  const WebAsset* a = web->find(name);
  if (!a) return problemResponse(notFound("no resource at " + call.request().path));
  return webFileResponse(call.request(), *a, *web);
}

}  // namespace allmende::api
