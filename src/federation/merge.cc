#include "federation/merge.h"

#include <optional>

#include "common/time.h"
#include "model/entity.h"

namespace allmende::federation {

namespace internal {
void copyTimes(const Json& from, Json& to, JsonAllocator& a) {
  for (const char* key : {"createdAt", "modifiedAt"}) {
    const Json* v = findMember(from, key);
    if (!v || !v->IsString() || findMember(to, key)) continue;
    to.AddMember(Json(key, a), Json(*v, a), a);
  }
}
}  // namespace internal

namespace {

std::optional<Micros> timeOf(const Json& instance, const char* key) {
  const Json* v = findMember(instance, key);
  if (!v || !v->IsString()) return std::nullopt;
  return parseDateTime(asView(*v));
}

// Adds the strings of array `from` missing from array `to`.
void uniteStrings(Json& to, const Json& from, JsonAllocator& a) {
  if (!to.IsArray() || !from.IsArray()) return;
  for (const auto& s : from.GetArray()) {
    bool seen = false;
    for (const auto& t : to.GetArray()) seen = seen || t == s;
    if (!seen) to.PushBack(Json(s, a), a);
  }
}

// Entity createdAt: the earliest; modifiedAt: the latest.
void mergeEntityTimes(Json& to, const Json& from, JsonAllocator& a) {
  for (const char* key : {"createdAt", "modifiedAt"}) {
    auto theirs = timeOf(from, key);
    if (!theirs) continue;
    auto ours = timeOf(to, key);
    bool take = !ours || (key[0] == 'c' ? *theirs < *ours : *theirs > *ours);
    if (!take) continue;
    if (Json* m = findMember(to, key)) {
      m->SetString(formatDateTime(*theirs).c_str(), a);
    } else {
      to.AddMember(Json(key, a), jsonString(formatDateTime(*theirs), a), a);
    }
  }
}

}  // namespace

bool newerInstance(const Json& candidate, const Json& current) {
  // NGSI-LD 5.7.1.4 / 4.3.6: of two instances with the same datasetId, the one observed last
  // wins; without observedAt, the one modified last.
  for (const char* key : {"observedAt", "modifiedAt"}) {
    auto c = timeOf(candidate, key);
    auto o = timeOf(current, key);
    if (c && o) {
      if (*c != *o) return *c > *o;
      continue;
    }
    if (c || o) return c.has_value();
  }
  return false;
}

void EntityMerger::add(std::vector<JsonDocument> entities, Precedence precedence) {
  for (auto& e : entities) {
    const Json* id = findMember(e, "id");
    if (!id || !id->IsString()) continue;
    std::string key(asView(*id));
    auto it = byId_.find(key);
    if (it == byId_.end()) {
      Slot slot;
      if (const Json* attrs = model::attrsOf(static_cast<const Json&>(e)); attrs && attrs->IsObject()) {
        for (const auto& m : attrs->GetObject()) {
          if (!m.value.IsArray()) continue;
          for (const auto& inst : m.value.GetArray()) {
            slot.from[{std::string(asView(m.name)), std::string(model::datasetIdOf(inst))}] = precedence;
          }
        }
      }
      slot.entity = std::move(e);
      byId_.emplace(std::move(key), slots_.size());
      slots_.push_back(std::move(slot));
    } else {
      mergeInto(slots_[it->second], e, precedence);
    }
  }
}

void EntityMerger::mergeInto(Slot& slot, JsonDocument& incoming, Precedence precedence) {
  JsonDocument& target = slot.entity;
  JsonAllocator& a = target.GetAllocator();
  if (Json* types = findMember(target, "type")) {
    if (const Json* theirs = findMember(incoming, "type")) uniteStrings(*types, *theirs, a);
  }
  if (const Json* theirScope = findMember(incoming, "scope"); theirScope && theirScope->IsArray()) {
    if (Json* scope = findMember(target, "scope")) {
      uniteStrings(*scope, *theirScope, a);
    } else {
      target.AddMember("scope", Json(*theirScope, a), a);
    }
  }
  mergeEntityTimes(target, incoming, a);
  const Json* theirAttrs = model::attrsOf(static_cast<const Json&>(incoming));
  if (!theirAttrs || !theirAttrs->IsObject()) return;
  Json& attrs = model::attrsOf(target);
  for (const auto& m : theirAttrs->GetObject()) {
    if (!m.value.IsArray()) continue;
    std::string name(asView(m.name));
    Json* attr = findMember(attrs, name);
    if (!attr) {
      attrs.AddMember(jsonString(name, a), Json(rapidjson::kArrayType), a);
      attr = findMember(attrs, name);
    }
    for (const auto& inst : m.value.GetArray()) {
      auto key = std::make_pair(name, std::string(model::datasetIdOf(inst)));
      Json* current = model::findInstance(*attr, key.second);
      if (!current) {
        // The default instance (no datasetId) comes first (internal form).
        if (key.second.empty() && !attr->Empty()) {
          Json copy(inst, a);
          attr->PushBack(copy, a);
          for (size_t i = attr->Size() - 1; i > 0; --i) (*attr)[i].Swap((*attr)[i - 1]);
        } else {
          attr->PushBack(Json(inst, a), a);
        }
        slot.from[key] = precedence;
        continue;
      }
      Precedence held = slot.from[key];
      bool replace = precedence > held || (precedence == held && newerInstance(inst, *current));
      if (replace) {
        current->CopyFrom(inst, a);
        slot.from[key] = precedence;
      }
    }
  }
}

void mergeTemporalEntity(Json& target, const Json& incoming, JsonAllocator& a) {
  if (!target.IsObject() || !incoming.IsObject()) return;
  for (const auto& m : incoming.GetObject()) {
    std::string_view name = asView(m.name);
    if (name == "id" || name == "@context") continue;
    Json* mine = findMember(target, name);
    if (!mine) {
      target.AddMember(Json(m.name, a), Json(m.value, a), a);
      continue;
    }
    if (name == "type" || name == "scope") {
      if (!mine->IsArray()) {
        Json one(*mine, a);
        mine->SetArray();
        mine->PushBack(one, a);
      }
      if (m.value.IsArray()) {
        uniteStrings(*mine, m.value, a);
      } else if (m.value.IsString()) {
        Json one(rapidjson::kArrayType);
        one.PushBack(Json(m.value, a), a);
        uniteStrings(*mine, one, a);
      }
      continue;
    }
    // An attribute: instances (arrays, or one instance object) are concatenated; simplified
    // forms ({"type", "values": [...]}, aggregated {"avg": [...]}) concatenate their lists.
    auto asArray = [&a](Json& v) {
      if (v.IsArray()) return;
      Json one(v, a);
      v.SetArray();
      v.PushBack(one, a);
    };
    if (mine->IsObject() && m.value.IsObject() && !findMember(*mine, "value") && !findMember(*mine, "object")) {
      for (const auto& list : m.value.GetObject()) {
        if (!list.value.IsArray()) continue;
        Json* ours = findMember(*mine, asView(list.name));
        if (!ours) {
          mine->AddMember(Json(list.name, a), Json(list.value, a), a);
        } else if (ours->IsArray()) {
          for (const auto& v : list.value.GetArray()) ours->PushBack(Json(v, a), a);
        }
      }
      continue;
    }
    asArray(*mine);
    if (m.value.IsArray()) {
      for (const auto& v : m.value.GetArray()) mine->PushBack(Json(v, a), a);
    } else {
      mine->PushBack(Json(m.value, a), a);
    }
  }
}

std::vector<JsonDocument> EntityMerger::take() {
  std::vector<JsonDocument> out;
  out.reserve(slots_.size());
  for (auto& s : slots_) out.push_back(std::move(s.entity));
  slots_.clear();
  byId_.clear();
  return out;
}

}  // namespace allmende::federation
