#include "api/temporal_render.h"

#include <cmath>

#include "model/entity.h"

namespace allmende::api {

namespace {

constexpr std::string_view kInstancePrefix = "urn:ngsi-ld:attribute:instance:";

void key(JsonWriter& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
void str(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void writeTypes(const Call& call, const std::string& typesJson, JsonWriter& w) {
  JsonDocument types;
  types.Parse(typesJson.c_str());
  if (!types.IsArray() || types.Empty()) {
    w.Null();
    return;
  }
  if (types.Size() == 1) return str(w, call.context().compactIri(asView(types[0])));
  w.StartArray();
  for (const auto& t : types.GetArray()) str(w, call.context().compactIri(asView(t)));
  w.EndArray();
}

void writeContext(const Call& call, JsonWriter& w) {
  std::string ctx = call.embeddedContext();
  if (ctx.empty()) return;
  key(w, "@context");
  w.RawValue(ctx.data(), ctx.size(), rapidjson::kObjectType);
}

// NGSI-LD 4.5.9: the member holding the value pairs for each attribute kind.
std::string_view valuesMemberOf(std::string_view kind) {
  if (kind == model::kRelationship) return "objects";
  if (kind == model::kLanguageProperty) return "languageMaps";
  if (kind == model::kVocabProperty) return "vocabs";
  if (kind == model::kListProperty) return "valueLists";
  if (kind == model::kListRelationship) return "objectLists";
  if (kind == model::kJsonProperty) return "jsons";
  return "values";
}

// The normalized temporal representation: the instances in the internal form, rendered as an
// entity whose attributes are arrays.
void renderNormalized(const Call& call, const store::TemporalEntity& e, const TemporalParams& p, JsonWriter& w) {
  JsonDocument doc;
  auto& a = doc.GetAllocator();
  doc.SetObject();
  doc.AddMember("id", jsonString(e.id, a), a);
  JsonDocument types;
  types.Parse(e.types.c_str());
  doc.AddMember("type", Json(types, a), a);
  Json attrs(rapidjson::kObjectType);
  for (const auto& attr : e.attrs) {
    Json list(rapidjson::kArrayType);
    for (const auto& i : attr.instances) {
      JsonDocument inst;
      model::instanceJson(i.h, inst);
      if (Json* m = findMember(inst, "modifiedAt")) *m = jsonString(formatDateTime(i.modifiedAt), inst.GetAllocator());
      inst.AddMember("instanceId", jsonString(instanceIdUri(i.instanceId), inst.GetAllocator()), inst.GetAllocator());
      list.PushBack(Json(inst, a), a);
    }
    if (!list.Empty()) attrs.AddMember(jsonString(attr.attr, a), list, a);
  }
  doc.AddMember("attrs", attrs, a);
  model::RenderOptions o;
  o.sysAttrs = p.sysAttrs;
  o.attributeArrays = true;
  o.contextJson = call.embeddedContext();
  model::renderEntity(doc, call.context(), o, w);
}

void renderValues(const Call& call, const store::TemporalEntity& e, const TemporalParams& p, JsonWriter& w) {
  w.StartObject();
  key(w, "id");
  str(w, e.id);
  key(w, "type");
  writeTypes(call, e.types, w);
  for (const auto& attr : e.attrs) {
    if (attr.instances.empty()) continue;
    key(w, call.context().compactIri(attr.attr));
    // One object per datasetId (4.5.9), the default one first as the store orders them.
    std::vector<std::pair<std::string, std::vector<const store::StoredInstance*>>> groups;
    for (const auto& i : attr.instances) {
      if (groups.empty() || groups.back().first != i.h.datasetId) groups.push_back({i.h.datasetId, {}});
      groups.back().second.push_back(&i);
    }
    if (groups.size() > 1) w.StartArray();
    for (const auto& [datasetId, list] : groups) {
      JsonDocument first;
      model::instanceJson(list.front()->h, first);
      std::string kind(asView(first["type"]));
      w.StartObject();
      key(w, "type");
      str(w, kind);
      key(w, valuesMemberOf(kind));
      w.StartArray();
      for (const auto* i : list) {
        w.StartArray();
        if (i->h.doc.empty() && i->h.number && !i->h.deleted) {  // a plain number: no document to build
          model::numberJson(*i->h.number).Accept(w);
          str(w, formatDateTime(instanceTime(*i, p.time.property)));
          w.EndArray();
          continue;
        }
        JsonDocument inst;
        model::instanceJson(i->h, inst);
        std::string_view member = model::valueMemberOf(kind);
        if (const Json* v = findMember(inst, member.empty() ? "value" : member)) {
          if (kind == model::kVocabProperty && v->IsString())
            str(w, call.context().compactIri(asView(*v)));
          else
            v->Accept(w);
        } else {
          w.Null();
        }
        str(w, formatDateTime(instanceTime(*i, p.time.property)));
        w.EndArray();
      }
      w.EndArray();
      if (!datasetId.empty()) {
        key(w, "datasetId");
        str(w, datasetId);
      }
      w.EndObject();
    }
    if (groups.size() > 1) w.EndArray();
  }
  writeContext(call, w);
  w.EndObject();
}

// One method's value for a period, or null when the method does not apply to the values
// (NGSI-LD 4.5.19: sum, avg, stddev and sumsq need numbers or booleans).
void methodValue(store::AggrMethod m, const store::PeriodAggregate& a, JsonWriter& w) {
  using store::AggrMethod;
  const double n = static_cast<double>(a.numbers);
  switch (m) {
    case AggrMethod::kTotalCount:
      return static_cast<void>(w.Int64(a.count));
    case AggrMethod::kDistinctCount:
      return static_cast<void>(w.Int64(a.distinct));
    case AggrMethod::kSum:
      return static_cast<void>(a.numbers ? w.Double(a.sum) : w.Null());
    case AggrMethod::kSumsq:
      return static_cast<void>(a.numbers ? w.Double(a.sumsq) : w.Null());
    case AggrMethod::kAvg:
      return static_cast<void>(a.numbers ? w.Double(a.sum / n) : w.Null());
    case AggrMethod::kStddev: {
      if (!a.numbers) return static_cast<void>(w.Null());
      // The sample standard deviation (0 for one value).
      double var = a.numbers > 1 ? (a.sumsq - a.sum * a.sum / n) / (n - 1) : 0;
      return static_cast<void>(w.Double(std::sqrt(var > 0 ? var : 0)));
    }
    case AggrMethod::kMin:
      if (a.min) return static_cast<void>(w.Double(*a.min));
      return a.minText ? str(w, *a.minText) : static_cast<void>(w.Null());
    case AggrMethod::kMax:
      if (a.max) return static_cast<void>(w.Double(*a.max));
      return a.maxText ? str(w, *a.maxText) : static_cast<void>(w.Null());
  }
}

const char* methodName(store::AggrMethod m) {
  static const char* kNames[] = {"totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq"};
  return kNames[static_cast<int>(m)];
}

}  // namespace

Micros instanceTime(const store::StoredInstance& i, store::TimeFilter::Property p) {
  switch (p) {
    case store::TimeFilter::Property::kCreatedAt: return i.h.recordedAt;
    case store::TimeFilter::Property::kModifiedAt: return i.modifiedAt;
    case store::TimeFilter::Property::kObservedAt: break;
  }
  return i.h.observedAt.value_or(i.h.recordedAt);
}

std::string instanceIdUri(int64_t iid) { return std::string(kInstancePrefix) + std::to_string(iid); }

int64_t instanceIdOf(std::string_view uri) {
  if (uri.substr(0, kInstancePrefix.size()) != kInstancePrefix) return 0;
  std::string_view n = uri.substr(kInstancePrefix.size());
  if (n.empty() || n.size() > 18 || n.find_first_not_of("0123456789") != std::string_view::npos) return 0;
  return std::stoll(std::string(n));
}

void renderTemporal(const Call& call, const store::TemporalEntity& e, const TemporalParams& p, JsonWriter& w) {
  if (p.format == TemporalFormat::kTemporalValues) return renderValues(call, e, p, w);
  renderNormalized(call, e, p, w);
}

void renderAggregated(const Call& call, const store::AggregatedEntity& e, const TemporalParams& p,
                      JsonWriter& w) {
  w.StartObject();
  key(w, "id");
  str(w, e.id);
  key(w, "type");
  writeTypes(call, e.types, w);
  for (size_t i = 0; i < e.attrs.size();) {
    // The series of one attribute (one per datasetId) are adjacent.
    size_t j = i;
    while (j < e.attrs.size() && e.attrs[j].attr == e.attrs[i].attr) ++j;
    key(w, call.context().compactIri(e.attrs[i].attr));
    if (j - i > 1) w.StartArray();
    for (size_t k = i; k < j; ++k) {
      const store::AttributeAggregate& a = e.attrs[k];
      w.StartObject();
      key(w, "type");
      str(w, a.kind);
      // Each period's bounds are written once per method: format them once.
      std::vector<std::pair<std::string, std::string>> bounds;
      bounds.reserve(a.periods.size());
      for (const auto& period : a.periods)
        bounds.emplace_back(formatDateTime(period.start), formatDateTime(period.end));
      for (auto m : p.methods) {
        key(w, methodName(m));
        w.StartArray();
        for (size_t n = 0; n < a.periods.size(); ++n) {
          w.StartArray();
          methodValue(m, a.periods[n], w);
          str(w, bounds[n].first);
          str(w, bounds[n].second);
          w.EndArray();
        }
        w.EndArray();
      }
      if (!a.datasetId.empty()) {
        key(w, "datasetId");
        str(w, a.datasetId);
      }
      w.EndObject();
    }
    if (j - i > 1) w.EndArray();
    i = j;
  }
  writeContext(call, w);
  w.EndObject();
}

}  // namespace allmende::api
