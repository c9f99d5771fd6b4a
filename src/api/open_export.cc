#include "api/open_export.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
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
      if (page->entities.size() < plan.query.limit) {
        ++plan_;
        after_ = 0;
      } else if (page->cursor > 0) {
        after_ = page->cursor;
      } else {
        plan.query.offset += plan.query.limit;  // a store without keyset paging: slower, still right
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

// One row of a history file: an instance of a published attribute of an entity.
struct HistoryRow {
  const std::string& id;
  const TypePlan& plan;
  const std::string& term;
  const store::StoredInstance& instance;
};

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

// The rows of a history file, a step at a time: first the entities there are now (a page of the
// store each step), each with its type's published attributes; then the deleted ones (their
// history outlives them: ids of TemporalStore::historyIds without an entity, kDeletedStep a
// step), by the types their history recorded. A dataset's q or area needs an entity's current
// state: with one, deleted entities are left out.
class HistoryWalk {
 public:
  using Visitor = std::function<void(const HistoryRow&)>;
  static constexpr size_t kDeletedStep = 200;

  static Result<std::unique_ptr<HistoryWalk>> open(Services& s, const store::TenantRecord& t, const Dataset& d,
                                                   Micros from, Micros to) {
    store::TemporalStore* temporal = s.store.temporal();
    if (!temporal) return Status(ErrorType::kOperationNotSupported, "this store keeps no history");
    auto scan = PublishedScan::open(s, t, d);
    if (!scan) return scan.status();
    auto walk = std::unique_ptr<HistoryWalk>(new HistoryWalk(s.store, *temporal, t.name, std::move(*scan), from, to));
    walk->deleted_ = d.q.empty() && d.area.empty() && !walk->scan_->plans().empty();
    walk->deletedQuery_ = periodQuery(from, to);
    for (const auto& plan : walk->scan_->plans()) {
      walk->planIris_.push_back(s.contexts.core()->expandTerm(plan.type));
      for (const auto& [term, iri] : plan.attrs) walk->deletedQuery_.attrs.push_back(iri);
    }
    return walk;
  }

  // Visits the rows of the next step; false when done.
  Result<bool> next(const Visitor& visit) {
    if (!currentDone_) {
      auto more = scan_->next([&](const TypePlan& plan, const Json& e) -> Status {
        store::InstanceQuery q = periodQuery(from_, to_);
        for (const auto& [term, iri] : plan.attrs) q.attrs.push_back(iri);
        std::string id(asView(e["id"]));
        auto h = temporal_.history(tenant_, id, q);
        if (!h) return h.status().type() == ErrorType::kResourceNotFound ? Status::ok() : h.status();
        rows(id, plan, *h, visit);
        return Status::ok();
      });
      if (!more) return more.status();
      if (*more) return true;
      currentDone_ = true;
    }
    if (!deleted_) return false;
    if (!ids_) {
      auto ids = temporal_.historyIds(tenant_);
      if (!ids) return ids.status();
      ids_ = std::move(*ids);
    }
    for (size_t end = std::min(ids_->size(), nextId_ + kDeletedStep); nextId_ < end; ++nextId_) {
      const std::string& id = (*ids_)[nextId_];
      auto current = store_.getEntity(tenant_, id);
      if (current) continue;  // visited above if published
      if (current.status().type() != ErrorType::kResourceNotFound) return current.status();
      auto h = temporal_.history(tenant_, id, deletedQuery_);
      if (!h) {
        if (h.status().type() == ErrorType::kResourceNotFound) continue;
        return h.status();
      }
      if (const TypePlan* plan = publishedPlan(scan_->plans(), planIris_, h->types)) rows(id, *plan, *h, visit);
    }
    return nextId_ < ids_->size();
  }

 private:
  HistoryWalk(store::Store& store, store::TemporalStore& temporal, std::string tenant,
              std::unique_ptr<PublishedScan> scan, Micros from, Micros to)
      : store_(store), temporal_(temporal), tenant_(std::move(tenant)), scan_(std::move(scan)), from_(from), to_(to) {}

  static void rows(const std::string& id, const TypePlan& plan, const store::TemporalEntity& h, const Visitor& visit) {
    for (const auto& a : h.attrs) {
      auto term = std::find_if(plan.attrs.begin(), plan.attrs.end(), [&](const auto& p) { return p.second == a.attr; });
      if (term == plan.attrs.end()) continue;  // only published attributes
      for (const auto& i : a.instances) {
        if (!i.h.deleted) visit(HistoryRow{id, plan, term->first, i});
      }
    }
  }

  store::Store& store_;
  store::TemporalStore& temporal_;
  std::string tenant_;
  std::unique_ptr<PublishedScan> scan_;
  Micros from_, to_;
  bool currentDone_ = false;
  bool deleted_ = false;
  std::vector<std::string> planIris_;
  store::InstanceQuery deletedQuery_;
  std::optional<std::vector<std::string>> ids_;
  size_t nextId_ = 0;
};

constexpr const char* kHistoryHead = "entityId,type,attribute,observedAt,recordedAt,value\r\n";

void appendHistoryRow(const HistoryRow& r, std::string& out) {
  const auto& i = r.instance;
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
  csvField(out, r.id);
  out += ',';
  csvField(out, r.plan.type);
  out += ',' + r.term + ',' + (i.h.observedAt ? formatDateTime(*i.h.observedAt) : "") + ',' +
         formatDateTime(i.h.recordedAt) + ',';
  csvField(out, value);
  out += "\r\n";
}

class HistorySource : public http::BodySource {
 public:
  explicit HistorySource(std::unique_ptr<HistoryWalk> walk) : walk_(std::move(walk)) {}
  Step next(std::string& out) override {
    if (!begun_) {
      out += kHistoryHead;
      begun_ = true;
    }
    auto more = walk_->next([&](const HistoryRow& r) { appendHistoryRow(r, out); });
    if (!more) {
      spdlog::warn("open data: history export broken off: {}", more.status().toString());
      return Step::kFailed;
    }
    return *more ? Step::kMore : Step::kEnd;
  }

 private:
  std::unique_ptr<HistoryWalk> walk_;
  bool begun_ = false;
};

}  // namespace

Result<ExportValidators> historyValidators(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                           Micros from, Micros to) {
  auto walk = HistoryWalk::open(services, tenant, d, from, to);
  if (!walk) return walk.status();
  Fnv h;
  h.mix("allmende open-data history 1");
  h.mix(datasetJson(d));
  h.mix(std::to_string(from) + "/" + std::to_string(to));
  ExportValidators v;
  for (;;) {
    auto more = (*walk)->next([&](const HistoryRow& r) {
      h.mix(r.id);
      h.mix(r.plan.type);
      h.mix(r.term);
      h.mix(std::to_string(r.instance.instanceId) + "@" + std::to_string(r.instance.modifiedAt));
      v.lastModified = std::max(v.lastModified, r.instance.modifiedAt);
      ++v.entities;
    });
    if (!more) return more.status();
    if (!*more) break;
  }
  v.fingerprint = h.value();
  return v;
}

Result<std::shared_ptr<http::BodySource>> openHistoryExport(Services& services, const store::TenantRecord& tenant,
                                                            const Dataset& d, Micros from, Micros to) {
  auto walk = HistoryWalk::open(services, tenant, d, from, to);
  if (!walk) return walk.status();
  return std::shared_ptr<http::BodySource>(std::make_shared<HistorySource>(std::move(*walk)));
}

Result<ExportResult> exportHistory(Services& services, const store::TenantRecord& tenant, const Dataset& d, Micros from,
                                   Micros to) {
  auto walk = HistoryWalk::open(services, tenant, d, from, to);
  if (!walk) return walk.status();
  ExportResult result;
  result.body = kHistoryHead;
  for (;;) {
    auto more = (*walk)->next([&](const HistoryRow& r) {
      appendHistoryRow(r, result.body);
      result.lastModified = std::max(result.lastModified, r.instance.modifiedAt);
      ++result.entities;
    });
    if (!more) return more.status();
    if (!*more) break;
  }
  return result;
}

}  // namespace allmende::api
