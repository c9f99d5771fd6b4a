#include "api/open_export.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "api/entity_query.h"
#include "api/public_read.h"
#include "model/render.h"
#include "store/temporal.h"

namespace allmende::api {

namespace {

// One published type: its expanded IRI and the attributes (term -> IRI) that may leave.
struct TypePlan {
  std::string type;
  std::vector<std::pair<std::string, std::string>> attrs;
  store::EntityQuery query;
  model::RenderOptions render;  // keyValues, projected on id, type and the published attributes
  std::string geometry;         // the expanded `location` when it is published, else ""
};

Result<QueryFilters> filtersFor(const Dataset& d, const std::string& type) {
  QueryFilters f;
  f.selectors.push_back(Selector{{}, "", type});
  f.q = d.q;
  if (!d.area.empty()) {
    JsonDocument area;
    Status st = parseJson(d.area, area);
    if (!st.isOk()) return st;
    f.georel = "within";
    f.geometry = std::string(asView(area["type"]));
    f.coordinates = toJsonString(area["coordinates"]);
    f.geoproperty = "location";
  }
  return f;
}

// The published types of the dataset: public in the tenant's catalogue, with at least one public
// attribute left after the dataset's narrowing. A type that is no longer public is skipped.
Result<std::vector<TypePlan>> planTypes(Services& s, const store::TenantRecord& t, const Dataset& d) {
  const ld::Context& ctx = *s.contexts.core();
  std::vector<TypePlan> plans;
  for (const auto& type : d.types) {
    auto pub = publicAttributes(t, type);
    if (!pub) continue;
    TypePlan plan;
    plan.type = type;
    for (const auto& a : *pub) {
      bool wanted =
          d.attributes.empty() || std::find(d.attributes.begin(), d.attributes.end(), a) != d.attributes.end();
      if (wanted) plan.attrs.emplace_back(a, ctx.expandTerm(a));
    }
    if (plan.attrs.empty()) continue;
    plan.render.format = model::Format::kKeyValues;
    plan.render.projection.pick.emplace();
    plan.render.projection.pick->insert("id");
    plan.render.projection.pick->insert("type");
    for (const auto& [term, iri] : plan.attrs) {
      plan.render.projection.pick->insert(iri);
      if (term == "location") plan.geometry = iri;
    }
    auto filters = filtersFor(d, type);
    if (!filters) return filters.status();
    auto q = planEntityQuery(*filters, ctx, s.store, t.name);
    if (!q) return q.status();
    plan.query = std::move(*q);
    plan.query.limit = kExportPage;
    plans.push_back(std::move(plan));
  }
  return plans;
}

// The value of an attribute's default instance as text (strings raw, others as JSON).
std::string csvValue(const Json& instances) {
  if (!instances.IsArray() || instances.Empty()) return "";
  const Json* inst = &instances[0];
  for (const auto& i : instances.GetArray()) {
    if (i.IsObject() && !findMember(i, "datasetId")) {
      inst = &i;
      break;
    }
  }
  for (const char* key : {"value", "object", "languageMap", "vocab", "json", "valueList", "objectList"}) {
    if (const Json* v = inst->IsObject() ? findMember(*inst, key) : nullptr) {
      return v->IsString() ? std::string(asView(*v)) : toJsonString(*v);
    }
  }
  return "";
}

// RFC 4180 field.
void csvField(std::string& out, const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

class Exporter {
 public:
  Exporter(const ld::Context& ctx, ExportFormat f, std::vector<std::string> columns)
      : ctx_(ctx), format_(f), columns_(std::move(columns)) {}

  void begin(std::string& out) {
    if (format_ == ExportFormat::kGeoJson) out += "{\"type\":\"FeatureCollection\",\"features\":[";
    if (format_ == ExportFormat::kKeyValues) out += "[";
    if (format_ == ExportFormat::kCsv) {
      out += "id,type";
      for (const auto& c : columns_) out += "," + c;
      out += "\r\n";
    }
  }

  void entity(const TypePlan& plan, const Json& e, std::string& out) {
    if (format_ == ExportFormat::kCsv) return csvRow(plan, e, out);
    buf_.Clear();
    JsonWriter w(buf_);
    if (format_ == ExportFormat::kGeoJson)
      model::renderFeature(e, ctx_, plan.render, plan.geometry, w);
    else
      model::renderEntity(e, ctx_, plan.render, w);
    if (count_++) out += ',';
    out.append(buf_.GetString(), buf_.GetSize());
  }

  void end(std::string& out) {
    if (format_ == ExportFormat::kGeoJson) out += "]}";
    if (format_ == ExportFormat::kKeyValues) out += "]";
  }

 private:
  void csvRow(const TypePlan& plan, const Json& e, std::string& out) {
    csvField(out, std::string(asView(e["id"])));
    out += ',';
    csvField(out, plan.type);
    const Json* attrs = findMember(e, "attrs");
    for (const auto& c : columns_) {
      out += ',';
      auto it = std::find_if(plan.attrs.begin(), plan.attrs.end(), [&](const auto& a) { return a.first == c; });
      if (it == plan.attrs.end() || !attrs) continue;  // not public for this type: empty
      if (const Json* inst = findMember(*attrs, it->second)) csvField(out, csvValue(*inst));
    }
    out += "\r\n";
    ++count_;
  }

  const ld::Context& ctx_;
  ExportFormat format_;
  std::vector<std::string> columns_;
  size_t count_ = 0;
  JsonBuffer buf_;  // one entity's JSON, reused
};

// The published entities of a dataset, one page at a time: each type's query in turn, paged by
// the store's keyset cursor (so every page costs the same, whatever its position).
class PublishedScan {
 public:
  using Visitor = std::function<Status(const TypePlan&, const Json&)>;

  static Result<std::unique_ptr<PublishedScan>> open(Services& s, const store::TenantRecord& t, const Dataset& d) {
    auto plans = planTypes(s, t, d);
    if (!plans) return plans.status();
    auto scan = std::unique_ptr<PublishedScan>(new PublishedScan(s.store, t.name, std::move(*plans)));
    if (!s.store.tenantExists(t.name)) scan->plan_ = scan->plans_.size();  // registered, no data yet
    return scan;
  }

  const std::vector<TypePlan>& plans() const { return plans_; }

  // Visits the next page; false when every type is done.
  Result<bool> next(const Visitor& visit) {
    while (plan_ < plans_.size()) {
      TypePlan& plan = plans_[plan_];
      plan.query.after = after_;
      auto page = store_.queryEntities(tenant_, plan.query);
      if (!page) return page.status();
      for (const auto& e : page->entities) ALLMENDE_RETURN_IF_ERROR(visit(plan, e));
      if (page->entities.size() < plan.query.limit || page->cursor == 0) {
        ++plan_;
        after_ = 0;
      } else {
        after_ = page->cursor;
      }
      if (!page->entities.empty()) return true;
    }
    return false;
  }

 private:
  PublishedScan(store::Store& store, std::string tenant, std::vector<TypePlan> plans)
      : store_(store), tenant_(std::move(tenant)), plans_(std::move(plans)) {}
  store::Store& store_;
  std::string tenant_;
  std::vector<TypePlan> plans_;
  size_t plan_ = 0;
  int64_t after_ = 0;
};

std::vector<std::string> csvColumns(const std::vector<TypePlan>& plans) {
  std::set<std::string> columns;
  for (const auto& p : plans) {
    for (const auto& a : p.attrs) columns.insert(a.first);
  }
  return {columns.begin(), columns.end()};
}

Micros modifiedAt(const Json& e) {
  const Json* m = findMember(e, "modifiedAt");
  if (!m || !m->IsString()) return 0;
  auto t = parseDateTime(asView(*m));
  return t ? *t : 0;
}

class Fnv {
 public:
  void mix(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 1099511628211ULL;
    }
    h_ ^= 0xff;  // a separator no UTF-8 text contains
    h_ *= 1099511628211ULL;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 1469598103934665603ULL;
};

// A download being sent: one page rendered per call.
class ExportSource : public http::BodySource {
 public:
  ExportSource(std::unique_ptr<PublishedScan> scan, std::shared_ptr<const ld::Context> ctx, ExportFormat f)
      : scan_(std::move(scan)), context_(std::move(ctx)), exporter_(*context_, f, csvColumns(scan_->plans())) {}

  Step next(std::string& out) override {
    if (!begun_) {
      exporter_.begin(out);
      begun_ = true;
    }
    auto more = scan_->next([&](const TypePlan& plan, const Json& e) {
      exporter_.entity(plan, e, out);
      return Status::ok();
    });
    if (!more) {
      spdlog::warn("open data: export broken off: {}", more.status().toString());
      return Step::kFailed;
    }
    if (*more) return Step::kMore;
    exporter_.end(out);
    return Step::kEnd;
  }

 private:
  std::unique_ptr<PublishedScan> scan_;
  std::shared_ptr<const ld::Context> context_;  // held while the download is sent
  Exporter exporter_;
  bool begun_ = false;
};

const char* formatName(ExportFormat f) {
  return f == ExportFormat::kCsv ? "csv" : f == ExportFormat::kGeoJson ? "geojson" : "keyValues";
}

}  // namespace

Status checkDatasetFilters(Services& services, const store::TenantRecord& tenant, const Dataset& d) {
  auto plans = planTypes(services, tenant, d);
  return plans ? Status::ok() : plans.status();
}

Status forEachPublished(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                        const PublishedVisitor& visit) {
  auto scan = PublishedScan::open(services, tenant, d);
  if (!scan) return scan.status();
  for (;;) {
    auto more = (*scan)->next([&](const TypePlan& plan, const Json& e) { return visit(plan.type, plan.attrs, e); });
    if (!more) return more.status();
    if (!*more) return Status::ok();
  }
}

Result<ExportValidators> exportValidators(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                          ExportFormat format) {
  auto scan = PublishedScan::open(services, tenant, d);
  if (!scan) return scan.status();
  Fnv h;
  h.mix("allmende open-data export 2");  // changes when the rendering does
  h.mix(formatName(format));
  h.mix(datasetJson(d));
  for (const auto& plan : (*scan)->plans()) {
    h.mix(plan.type);
    for (const auto& [term, iri] : plan.attrs) h.mix(iri);
  }
  ExportValidators v;
  for (;;) {
    auto more = (*scan)->next([&](const TypePlan&, const Json& e) {
      h.mix(asView(e["id"]));
      const Json* m = findMember(e, "modifiedAt");
      h.mix(m && m->IsString() ? asView(*m) : std::string_view());
      v.lastModified = std::max(v.lastModified, modifiedAt(e));
      ++v.entities;
      return Status::ok();
    });
    if (!more) return more.status();
    if (!*more) break;
  }
  v.fingerprint = h.value();
  return v;
}

Result<std::shared_ptr<http::BodySource>> openExport(Services& services, const store::TenantRecord& tenant,
                                                     const Dataset& d, ExportFormat format) {
  auto scan = PublishedScan::open(services, tenant, d);
  if (!scan) return scan.status();
  return std::shared_ptr<http::BodySource>(
      std::make_shared<ExportSource>(std::move(*scan), services.contexts.core(), format));
}

Result<ExportResult> exportDataset(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                   ExportFormat format) {
  auto scan = PublishedScan::open(services, tenant, d);
  if (!scan) return scan.status();
  Exporter ex(*services.contexts.core(), format, csvColumns((*scan)->plans()));
  ExportResult result;
  ex.begin(result.body);
  for (;;) {
    auto more = (*scan)->next([&](const TypePlan& plan, const Json& e) {
      ex.entity(plan, e, result.body);
      result.lastModified = std::max(result.lastModified, modifiedAt(e));
      ++result.entities;
      return Status::ok();
    });
    if (!more) return more.status();
    if (!*more) break;
  }
  ex.end(result.body);
  return result;
}

namespace {

// The CSV rows of one entity's history (published attributes of its type only).
void appendHistoryRows(const std::string& id, const TypePlan& plan, const store::TemporalEntity& h,
                       ExportResult& result) {
  for (const auto& a : h.attrs) {
    auto term = std::find_if(plan.attrs.begin(), plan.attrs.end(), [&](const auto& p) { return p.second == a.attr; });
    if (term == plan.attrs.end()) continue;  // only published attributes
    for (const auto& i : a.instances) {
      if (i.h.deleted) continue;
      std::string value;
      if (i.h.doc.empty() && i.h.number) {
        JsonBuffer buf;
        JsonWriter w(buf);
        w.Double(*i.h.number);
        value.assign(buf.GetString(), buf.GetSize());
      } else {
        JsonDocument doc;
        if (parseJson(i.h.doc, doc).isOk() && doc.IsObject()) {
          Json arr(rapidjson::kArrayType);
          arr.PushBack(doc, doc.GetAllocator());
          value = csvValue(arr);
        }
      }
      csvField(result.body, id);
      result.body += ',';
      csvField(result.body, plan.type);
      result.body += ',' + term->first + ',' + (i.h.observedAt ? formatDateTime(*i.h.observedAt) : "") + ',' +
                     formatDateTime(i.h.recordedAt) + ',';
      csvField(result.body, value);
      result.body += "\r\n";
      result.lastModified = std::max(result.lastModified, i.modifiedAt);
      ++result.entities;
    }
  }
}

store::InstanceQuery periodQuery(Micros from, Micros to) {
  store::InstanceQuery q;
  q.time = {store::TimeFilter::Rel::kBetween, store::TimeFilter::Property::kModifiedAt, from, to};
  q.datasetId = "";  // default instances
  q.limit = kHistoryInstances;
  return q;
}

// The entity's first type that the dataset publishes (types: JSON array of IRIs).
const TypePlan* publishedPlan(const std::vector<TypePlan>& plans, const std::vector<std::string>& planIris,
                              const std::string& types) {
  JsonDocument doc;
  if (!parseJson(types, doc).isOk() || !doc.IsArray()) return nullptr;
  for (const auto& t : doc.GetArray()) {
    if (!t.IsString()) continue;
    for (size_t k = 0; k < plans.size(); ++k) {
      if (planIris[k] == asView(t)) return &plans[k];
    }
  }
  return nullptr;
}

}  // namespace

Result<ExportResult> exportHistory(Services& services, const store::TenantRecord& tenant, const Dataset& d, Micros from,
                                   Micros to) {
  store::TemporalStore* temporal = services.store.temporal();
  if (!temporal) return Status(ErrorType::kOperationNotSupported, "this store keeps no history");
  auto scan = PublishedScan::open(services, tenant, d);
  if (!scan) return scan.status();
  ExportResult result;
  result.body = "entityId,type,attribute,observedAt,recordedAt,value\r\n";
  // The entities there are now, in the store's order, each with its type's published attributes.
  for (;;) {
    auto more = (*scan)->next([&](const TypePlan& plan, const Json& e) -> Status {
      store::InstanceQuery q = periodQuery(from, to);
      for (const auto& [term, iri] : plan.attrs) q.attrs.push_back(iri);
      std::string id(asView(e["id"]));
      auto h = temporal->history(tenant.name, id, q);
      if (!h) return h.status().type() == ErrorType::kResourceNotFound ? Status::ok() : h.status();
      appendHistoryRows(id, plan, *h, result);
      return Status::ok();
    });
    if (!more) return more.status();
    if (!*more) break;
  }
  // Then the deleted ones (their history outlives them), by the types their history recorded.
  // A dataset's q or area needs an entity's current state: with one, deleted entities are left out.
  if (!d.q.empty() || !d.area.empty() || (*scan)->plans().empty()) return result;
  const auto& plans = (*scan)->plans();
  std::vector<std::string> planIris;
  store::InstanceQuery q = periodQuery(from, to);
  for (const auto& plan : plans) {
    planIris.push_back(services.contexts.core()->expandTerm(plan.type));
    for (const auto& [term, iri] : plan.attrs) q.attrs.push_back(iri);
  }
  auto ids = temporal->historyIds(tenant.name);
  if (!ids) return ids.status();
  for (const auto& id : *ids) {
    auto current = services.store.getEntity(tenant.name, id);
    if (current) continue;  // exported above if published
    if (current.status().type() != ErrorType::kResourceNotFound) return current.status();
    auto h = temporal->history(tenant.name, id, q);
    if (!h) {
      if (h.status().type() == ErrorType::kResourceNotFound) continue;
      return h.status();
    }
    if (const TypePlan* plan = publishedPlan(plans, planIris, h->types)) appendHistoryRows(id, *plan, *h, result);
  }
  return result;
}

}  // namespace allmende::api
