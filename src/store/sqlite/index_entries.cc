#include "store/sqlite/index_entries.h"

#include <algorithm>

namespace allmende::store::sqlite {

namespace {

// Scalars only: strings, numbers, booleans (as 0/1). Arrays contribute their scalar elements,
// as q matches an array when any element matches (NGSI-LD 4.9).
void addScalars(const std::string& attr, const Json& v, std::vector<std::pair<std::string, IndexValue>>& out) {
  if (v.IsString()) {
    out.emplace_back(attr, std::string(asView(v)));
  } else if (v.IsNumber()) {
    out.emplace_back(attr, v.GetDouble());
  } else if (v.IsBool()) {
    out.emplace_back(attr, v.GetBool() ? 1.0 : 0.0);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (!e.IsArray()) addScalars(attr, e.IsObject() && findMember(e, "object") ? *findMember(e, "object") : e, out);
    }
  }
}

// The scalars an attribute instance exposes to q's top-level comparisons, per attribute kind
// (the same members query/q_eval.cc compares).
void addInstanceValues(const std::string& attr, const Json& inst, std::vector<std::pair<std::string, IndexValue>>& out) {
  const Json* type = findMember(inst, "type");
  if (!type || !type->IsString()) return;
  std::string_view kind = asView(*type);
  if (kind == "LanguageProperty") {
    if (const Json* map = findMember(inst, "languageMap"); map && map->IsObject()) {
      for (const auto& m : map->GetObject()) addScalars(attr, m.value, out);
    }
    return;
  }
  for (const char* member : {"value", "object", "vocab", "valueList", "objectList", "json"}) {
    if (const Json* v = findMember(inst, member)) addScalars(attr, *v, out);
  }
}

}  // namespace

bool IndexEntries::Geo::operator==(const Geo& o) const {
  return attr == o.attr && point == o.point && box.minX == o.box.minX && box.minY == o.box.minY &&
         box.maxX == o.box.maxX && box.maxY == o.box.maxY;
}

IndexEntries indexEntriesOf(const Json& entity) {
  IndexEntries out;
  if (const Json* types = findMember(entity, "type"); types && types->IsArray()) {
    for (const auto& t : types->GetArray()) {
      if (t.IsString()) out.types.emplace_back(asView(t));
    }
  }
  const Json* attrs = findMember(entity, "attrs");
  if (!attrs || !attrs->IsObject()) return out;
  for (const auto& attr : attrs->GetObject()) {
    if (!attr.value.IsArray()) continue;
    std::string name(asView(attr.name));
    for (const auto& inst : attr.value.GetArray()) {
      const Json* type = findMember(inst, "type");
      const Json* value = findMember(inst, "value");
      if (type && value && type->IsString() && asView(*type) == "GeoProperty") {
        const Json* gtype = findMember(*value, "type");
        bool point = gtype && gtype->IsString() && asView(*gtype) == "Point";
        if (auto box = geo::bboxOf(*value)) out.geo.push_back({name, *box, point});
        continue;
      }
      addInstanceValues(name, inst, out.values);
    }
  }
  std::sort(out.values.begin(), out.values.end());
  out.values.erase(std::unique(out.values.begin(), out.values.end()), out.values.end());
  return out;
}

}  // namespace allmende::store::sqlite
