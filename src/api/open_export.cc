#include "api/open_export.h"

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
    model::RenderOptions o;
    o.format = model::Format::kKeyValues;
    o.projection.pick.emplace();
    o.projection.pick->insert("id");
    o.projection.pick->insert("type");
    std::string geometry;
    for (const auto& [term, iri] : plan.attrs) {
      o.projection.pick->insert(iri);
      if (term == "location") geometry = iri;
    }
    JsonBuffer buf;
    JsonWriter w(buf);
    if (format_ == ExportFormat::kGeoJson)
      model::renderFeature(e, ctx_, o, geometry, w);
    else
      model::renderEntity(e, ctx_, o, w);
    if (count_++) out += ',';
    out.append(buf.GetString(), buf.GetSize());
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
};

}  // namespace

Status checkDatasetFilters(Services& services, const store::TenantRecord& tenant, const Dataset& d) {
  auto plans = planTypes(services, tenant, d);
  return plans ? Status::ok() : plans.status();
}

Status forEachPublished(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                        const PublishedVisitor& visit) {
  auto plans = planTypes(services, tenant, d);
  if (!plans) return plans.status();
  if (!services.store.tenantExists(tenant.name)) return Status::ok();  // registered, no data yet
  for (auto& plan : *plans) {
    for (size_t offset = 0;; offset += kExportPage) {
      plan.query.offset = offset;
      auto page = services.store.queryEntities(tenant.name, plan.query);
      if (!page) return page.status();
      for (const auto& e : page->entities) {
        Status st = visit(plan.type, plan.attrs, e);
        if (!st.isOk()) return st;
      }
      if (page->entities.size() < kExportPage) break;
    }
  }
  return Status::ok();
}

Result<ExportResult> exportDataset(Services& services, const store::TenantRecord& tenant, const Dataset& d,
                                   ExportFormat format) {
  auto plans = planTypes(services, tenant, d);
  if (!plans) return plans.status();
  std::set<std::string> columns;
  for (const auto& p : *plans) {
    for (const auto& a : p.attrs) columns.insert(a.first);
  }
  Exporter ex(*services.contexts.core(), format, {columns.begin(), columns.end()});
  ExportResult result;
  ex.begin(result.body);
  TypePlan current;
  Status st = forEachPublished(services, tenant, d, [&](const std::string& type, const auto& attrs, const Json& e) {
    if (current.type != type) {
      current.type = type;
      current.attrs = attrs;
    }
    ex.entity(current, e, result.body);
    if (const Json* m = findMember(e, "modifiedAt"); m && m->IsString()) {
      if (auto t = parseDateTime(asView(*m))) result.lastModified = std::max(result.lastModified, *t);
    }
    ++result.entities;
    return Status::ok();
  });
  if (!st.isOk()) return st;
  ex.end(result.body);
  return result;
}

Result<ExportResult> exportHistory(Services& services, const store::TenantRecord& tenant, const Dataset& d, Micros from,
                                   Micros to) {
  store::TemporalStore* temporal = services.store.temporal();
  if (!temporal) return Status(ErrorType::kOperationNotSupported, "this store keeps no history");
  ExportResult result;
  result.body = "entityId,type,attribute,observedAt,recordedAt,value\r\n";
  Status st = forEachPublished(services, tenant, d, [&](const std::string& type, const auto& attrs, const Json& e) {
    store::InstanceQuery q;
    q.time = {store::TimeFilter::Rel::kBetween, store::TimeFilter::Property::kModifiedAt, from, to};
    q.datasetId = "";  // default instances
    q.limit = kHistoryInstances;
    std::map<std::string, std::string> termOf;
    for (const auto& [term, iri] : attrs) {
      q.attrs.push_back(iri);
      termOf[iri] = term;
    }
    std::string id(asView(e["id"]));
    auto h = temporal->history(tenant.name, id, q);
    if (!h) return h.status().type() == ErrorType::kResourceNotFound ? Status::ok() : h.status();
    for (const auto& a : h->attrs) {
      auto term = termOf.find(a.attr);
      if (term == termOf.end()) continue;  // only published attributes
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
        csvField(result.body, type);
        result.body += ',' + term->second + ',' + (i.h.observedAt ? formatDateTime(*i.h.observedAt) : "") + ',' +
                       formatDateTime(i.h.recordedAt) + ',';
        csvField(result.body, value);
        result.body += "\r\n";
        result.lastModified = std::max(result.lastModified, i.modifiedAt);
        ++result.entities;
      }
    }
    return Status::ok();
  });
  if (!st.isOk()) return st;
  return result;
}

}  // namespace allmende::api
