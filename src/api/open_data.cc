#include "api/open_data.h"

#include <cstdio>

#include "api/handlers.h"
#include "api/open_catalog.h"
#include "api/open_export.h"
#include "api/open_http.h"
#include "api/problem.h"
#include "api/rate_limiter.h"
#include "store/dataset_store.h"

namespace allmende::api {

namespace {

http::Response jsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.setHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Status unavailable() { return Status(ErrorType::kOperationNotSupported, "open data is not configured on this server"); }

// A registered, active tenant (suspended ones publish nothing).
Result<store::TenantRecord> publishingTenant(Call& call, const std::string& name) {
  auto t = call.services().tenants ? call.services().tenants->findTenant(name) : std::nullopt;
  if (!t || t->status != "active") return notFound("no tenant '" + name.substr(0, 64) + "' publishes open data");
  return *t;
}

Result<PublishedDataset> fromRecord(const store::DatasetRecord& r) {
  JsonDocument doc;
  Status st = parseJson(r.definition, doc);
  if (!st.isOk()) return st;
  auto d = parseDataset(r.id, doc);
  if (!d) return d.status();
  return PublishedDataset{std::move(*d), r.created, r.modified};
}

std::vector<PublishedDataset> publishedDatasets(const std::vector<store::DatasetRecord>& records) {
  std::vector<PublishedDataset> out;
  for (const auto& r : records) {
    auto d = fromRecord(r);
    if (d) out.push_back(std::move(*d));  // stored definitions were checked when put
  }
  return out;
}

std::string baseUrl(const Call& call) {
  const std::string& configured = call.services().openBaseUrl;
  if (!configured.empty()) return configured;
  std::string_view host = call.request().header("host");
  return "http://" + std::string(host.empty() ? "localhost" : host);
}

// Per client (remote address) request quota of the anonymous open-data routes.
std::optional<http::Response> rateLimited(Call& call) {
  RateLimiter* limiter = call.services().openLimiter;
  if (!limiter) return std::nullopt;
  int wait = limiter->take("open:" + call.request().remoteAddress);
  if (wait == 0) return std::nullopt;
  http::Response r =
      problemResponse(Status(ErrorType::kTooManyRequests, "the open-data request quota of this client is used up"));
  r.setHeader("Retry-After", std::to_string(wait));
  return r;
}

enum class RdfSyntax { kJsonLd, kTurtle, kRdfXml };

// Content negotiation (RFC 9110 12.5.1) between the RDF syntaxes, by q-value, first wins a tie;
// ?format=jsonld|ttl|rdf overrides. nullopt: none acceptable (406).
std::optional<RdfSyntax> negotiateRdf(const Call& call) {
  if (const std::string* f = call.param("format")) {
    if (*f == "jsonld") return RdfSyntax::kJsonLd;
    if (*f == "ttl") return RdfSyntax::kTurtle;
    if (*f == "rdf") return RdfSyntax::kRdfXml;
    return std::nullopt;
  }
  std::string_view accept = call.request().header("accept");
  if (accept.empty()) return RdfSyntax::kJsonLd;
  std::optional<RdfSyntax> best;
  double bestQ = 0;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    std::string_view item = accept.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? accept.size() + 1 : comma + 1;
    size_t semi = item.find(';');
    std::string_view type = item.substr(0, semi);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    double q = 1;
    if (size_t qa = item.find("q=", semi == std::string_view::npos ? item.size() : semi);
        qa != std::string_view::npos) {
      q = std::atof(std::string(item.substr(qa + 2)).c_str());
    }
    std::optional<RdfSyntax> s;
    if (type == "application/ld+json" || type == "application/json" || type == "*/*" || type == "application/*") {
      s = RdfSyntax::kJsonLd;
    } else if (type == "text/turtle" || type == "text/*") {
      s = RdfSyntax::kTurtle;
    } else if (type == "application/rdf+xml") {
      s = RdfSyntax::kRdfXml;
    }
    if (s && q > bestQ) {
      best = s;
      bestQ = q;
    }
  }
  return best;
}

http::Response catalogResponse(Call& call, const std::vector<TenantCatalog>& tenants, bool platform) {
  auto syntax = negotiateRdf(call);
  if (!syntax) {
    return problemResponse(
        Status(ErrorType::kNotAcceptable,
               "the catalogue is available as application/ld+json, text/turtle, application/rdf+xml"));
  }
  rdf::Graph g = buildCatalog(baseUrl(call), tenants, platform, call.now());
  Micros modified = 0;
  for (const auto& t : tenants) {
    for (const auto& d : t.datasets) modified = std::max(modified, d.modified);
  }
  switch (*syntax) {
    case RdfSyntax::kTurtle:
      return conditionalResponse(call.request(), rdf::toTurtle(g, catalogPrefixes()), "text/turtle", modified);
    case RdfSyntax::kRdfXml:
      return conditionalResponse(call.request(), rdf::toRdfXml(g, catalogPrefixes()), "application/rdf+xml", modified);
    default:
      return conditionalResponse(call.request(), rdf::toJsonLd(g, catalogPrefixes()), "application/ld+json", modified);
  }
}

std::string quoted(const std::string& v) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

std::string recordJson(const store::DatasetRecord& r) {
  // The stored definition with the id and its times.
  std::string def = r.definition;
  std::string head = "{\"id\":" + quoted(r.id) + ",\"created\":\"" + formatDateTime(r.created) + "\",\"modified\":\"" +
                     formatDateTime(r.modified) + "\"";
  return def.size() > 2 ? head + "," + def.substr(1) : head + "}";
}

}  // namespace

http::Response adminListDatasets(Call& call) {
  if (!call.services().datasets) return problemResponse(unavailable());
  const std::string& tenant = call.pathParam("tenant");
  auto t = publishingTenant(call, tenant);
  if (!t) return problemResponse(t.status());
  auto list = call.services().datasets->list(tenant);
  if (!list) return problemResponse(list.status());
  std::string body = "[";
  for (const auto& r : *list) body += (body.size() > 1 ? "," : "") + recordJson(r);
  return jsonResponse(200, body + "]");
}

http::Response adminShowDataset(Call& call) {
  if (!call.services().datasets) return problemResponse(unavailable());
  auto r = call.services().datasets->get(call.pathParam("tenant"), call.pathParam("datasetId"));
  if (!r) return problemResponse(r.status());
  if (!*r) return problemResponse(notFound("no dataset '" + call.pathParam("datasetId").substr(0, 64) + "'"));
  return jsonResponse(200, recordJson(**r));
}

http::Response adminPutDataset(Call& call) {
  Services& s = call.services();
  if (!s.datasets) return problemResponse(unavailable());
  const std::string& tenant = call.pathParam("tenant");
  auto t = publishingTenant(call, tenant);
  if (!t) return problemResponse(t.status());
  std::string_view type = call.request().header("content-type");
  if (type.substr(0, type.find(';')) != "application/json") {
    return problemResponse(Status(ErrorType::kUnsupportedMediaType, "a dataset definition is application/json"));
  }
  JsonDocument body;
  Status st = parseJson(call.request().body, body, s.options.json);
  if (!st.isOk()) return problemResponse(st);
  auto d = parseDataset(call.pathParam("datasetId"), body);
  if (!d) return problemResponse(d.status());
  st = checkDatasetFilters(s, *t, *d);
  if (!st.isOk()) return problemResponse(st);
  auto old = s.datasets->get(tenant, d->id);
  if (!old) return problemResponse(old.status());
  store::DatasetRecord r{tenant, d->id, datasetJson(*d), *old ? (*old)->created : call.now(), call.now()};
  st = s.datasets->put(r);
  if (!st.isOk()) return problemResponse(st);
  http::Response resp = jsonResponse(*old ? 200 : 201, recordJson(r));
  if (!*old) resp.setHeader("Location", "/admin/v1/tenants/" + tenant + "/datasets/" + d->id);
  return resp;
}

http::Response adminDeleteDataset(Call& call) {
  if (!call.services().datasets) return problemResponse(unavailable());
  Status st = call.services().datasets->remove(call.pathParam("tenant"), call.pathParam("datasetId"));
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response openPlatformCatalog(Call& call) {
  if (auto limited = rateLimited(call)) return std::move(*limited);
  Services& s = call.services();
  if (!s.datasets || !s.tenants) return problemResponse(unavailable());
  auto all = s.datasets->list(std::nullopt);
  if (!all) return problemResponse(all.status());
  std::vector<TenantCatalog> tenants;
  for (size_t i = 0; i < all->size();) {
    size_t j = i;
    while (j < all->size() && (*all)[j].tenant == (*all)[i].tenant) ++j;
    auto t = publishingTenant(call, (*all)[i].tenant);
    if (t) {
      std::vector<store::DatasetRecord> part(all->begin() + i, all->begin() + j);
      tenants.push_back({std::move(*t), publishedDatasets(part)});
    }
    i = j;
  }
  return catalogResponse(call, tenants, true);
}

http::Response openTenantCatalog(Call& call) {
  if (auto limited = rateLimited(call)) return std::move(*limited);
  Services& s = call.services();
  if (!s.datasets) return problemResponse(unavailable());
  auto t = publishingTenant(call, call.pathParam("tenant"));
  if (!t) return problemResponse(t.status());
  auto list = s.datasets->list(t->name);
  if (!list) return problemResponse(list.status());
  std::vector<TenantCatalog> tenants{{std::move(*t), publishedDatasets(*list)}};
  return catalogResponse(call, tenants, false);
}

namespace {

// The dataset named in the path of a published tenant.
Result<std::pair<store::TenantRecord, PublishedDataset>> publishedDataset(Call& call) {
  auto t = publishingTenant(call, call.pathParam("tenant"));
  if (!t) return t.status();
  auto rec = call.services().datasets->get(t->name, call.pathParam("datasetId"));
  if (!rec) return rec.status();
  if (!*rec) return notFound("no dataset '" + call.pathParam("datasetId").substr(0, 64) + "'");
  auto d = fromRecord(**rec);
  if (!d) return d.status();
  return std::make_pair(std::move(*t), std::move(*d));
}

// [from, to) of "YYYY-MM-DD.csv" (a UTC day) or "YYYY-MM.csv" (a month); nullopt when neither.
std::optional<std::pair<Micros, Micros>> historyPeriod(const std::string& file) {
  constexpr Micros kDay = 86'400'000'000LL;
  if (file.size() == 14 && file.substr(10) == ".csv") {
    auto from = parseDate(file.substr(0, 10));
    if (from) return std::make_pair(*from, *from + kDay);
  }
  if (file.size() == 11 && file.substr(7) == ".csv") {
    auto from = parseDate(file.substr(0, 7) + "-01");
    if (!from) return std::nullopt;
    int year = std::stoi(file.substr(0, 4)), month = std::stoi(file.substr(5, 2));
    char next[16];
    std::snprintf(next, sizeof next, "%04d-%02d-01", month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1);
    auto to = parseDate(next);
    if (to) return std::make_pair(*from, *to);
  }
  return std::nullopt;
}

}  // namespace

http::Response openHistory(Call& call) {
  if (auto limited = rateLimited(call)) return std::move(*limited);
  Services& s = call.services();
  if (!s.datasets) return problemResponse(unavailable());
  auto pd = publishedDataset(call);
  if (!pd) return problemResponse(pd.status());
  auto period = historyPeriod(call.pathParam("file"));
  if (!period) return problemResponse(notFound("history files are named YYYY-MM-DD.csv or YYYY-MM.csv"));
  // Streamed like the current state (openDistribution).
  const std::string media = "text/csv; charset=utf-8";
  auto v = historyValidators(s, pd->first, pd->second.dataset, period->first, period->second);
  if (!v) return problemResponse(v.status());
  auto body = openHistoryExport(s, pd->first, pd->second.dataset, period->first, period->second);
  if (!body) return problemResponse(body.status());
  return streamedResponse(call.request(), std::move(*body), media, entityTag(v->fingerprint, media),
                          std::max(v->lastModified, pd->second.modified));
}

http::Response openDistribution(Call& call) {
  if (auto limited = rateLimited(call)) return std::move(*limited);
  Services& s = call.services();
  if (!s.datasets) return problemResponse(unavailable());
  auto t = publishingTenant(call, call.pathParam("tenant"));
  if (!t) return problemResponse(t.status());
  const std::string& file = call.pathParam("file");
  const DistributionKind* kind = nullptr;
  for (const auto& k : kDistributions) {
    if (file == k.file) kind = &k;
  }
  if (!kind) return problemResponse(notFound("no distribution '" + file.substr(0, 64) + "'"));
  auto rec = s.datasets->get(t->name, call.pathParam("datasetId"));
  if (!rec) return problemResponse(rec.status());
  if (!*rec) return problemResponse(notFound("no dataset '" + call.pathParam("datasetId").substr(0, 64) + "'"));
  auto d = fromRecord(**rec);
  if (!d) return problemResponse(d.status());
  ExportFormat f = file == "current.csv"       ? ExportFormat::kCsv
                   : file == "current.geojson" ? ExportFormat::kGeoJson
                                               : ExportFormat::kKeyValues;
  // Streamed: the validators come from a pass over the entities without rendering, then the
  // body is rendered page by page while it is sent (docs/opendata.md).
  std::string media = f == ExportFormat::kCsv ? "text/csv; charset=utf-8" : kind->mediaType;
  auto v = exportValidators(s, *t, d->dataset, f);
  if (!v) return problemResponse(v.status());
  auto body = openExport(s, *t, d->dataset, f);
  if (!body) return problemResponse(body.status());
  return streamedResponse(call.request(), std::move(*body), media, entityTag(v->fingerprint, media),
                          std::max(v->lastModified, d->modified));
}

}  // namespace allmende::api
