#include "model/entity.h"

#include <cctype>

namespace allmende::model {

std::string_view valueMemberOf(std::string_view kind) {
  if (kind == kProperty || kind == kGeoProperty) return "value";
  if (kind == kRelationship) return "object";
  if (kind == kLanguageProperty) return "languageMap";
  if (kind == kVocabProperty) return "vocab";
  if (kind == kListProperty) return "valueList";
  if (kind == kListRelationship) return "objectList";
  if (kind == kJsonProperty) return "json";
  return "";
}

bool isCoreInstanceMember(std::string_view n) {
  static constexpr std::string_view kCore[] = {"type",      "value",     "object",     "languageMap", "vocab",
                                               "valueList", "objectList", "json",      "observedAt",  "unitCode",
                                               "datasetId", "createdAt", "modifiedAt", "deletedAt",   "objectType",
                                               "lang",      "previousValue", "instanceId"};
  for (auto c : kCore) {
    if (n == c) return true;
  }
  return false;
}

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 2048) return false;
  for (unsigned char c : name) {
    // NGSI-LD 4.6.2 forbids these in attribute and type names (they break the query languages).
    if (c < 0x20 || c == '<' || c == '>' || c == '"' || c == '\'' || c == '=' || c == ';' || c == '(' ||
        c == ')' || c == ' ')
      return false;
  }
  return true;
}

bool isUri(std::string_view s) {
  if (s.empty() || s.size() > 2048 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == ':') return i + 1 < s.size();
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

Json& attrsOf(JsonDocument& entity) {
  if (Json* a = findMember(entity, "attrs")) return *a;
  entity.AddMember("attrs", Json(rapidjson::kObjectType), entity.GetAllocator());
  return *findMember(entity, "attrs");
}

const Json* attrsOf(const Json& entity) { return findMember(entity, "attrs"); }

std::string_view datasetIdOf(const Json& instance) {
  const Json* d = findMember(instance, "datasetId");
  return d && d->IsString() ? asView(*d) : std::string_view();
}

const Json* findInstance(const Json& attr, std::string_view datasetId) {
  if (!attr.IsArray()) return nullptr;
  for (const auto& inst : attr.GetArray()) {
    if (datasetIdOf(inst) == datasetId) return &inst;
  }
  return nullptr;
}

Json* findInstance(Json& attr, std::string_view datasetId) {
  if (!attr.IsArray()) return nullptr;
  for (auto& inst : attr.GetArray()) {
    if (datasetIdOf(inst) == datasetId) return &inst;
  }
  return nullptr;
}

}  // namespace allmende::model
