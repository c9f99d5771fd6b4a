#include "model/mutation.h"

#include "model/entity.h"

namespace allmende::model {

namespace {

constexpr std::string_view kNullUri = "urn:ngsi-ld:null";

void setMember(Json& obj, std::string_view name, Json value, JsonAllocator& a) {
  if (Json* m = findMember(obj, name)) {
    *m = std::move(value);
  } else {
    obj.AddMember(jsonString(name, a), value, a);
  }
}

// createdAt (kept from `createdAt` when given) and modifiedAt on an instance and its sub-attributes.
void stamp(Json& inst, const std::string& now, const Json* previous, JsonAllocator& a) {
  const Json* created = previous ? findMember(*previous, "createdAt") : nullptr;
  setMember(inst, "createdAt", created ? Json(*created, a) : jsonString(now, a), a);
  setMember(inst, "modifiedAt", jsonString(now, a), a);
  for (auto& m : inst.GetObject()) {
    if (m.value.IsObject() && !isCoreInstanceMember(asView(m.name))) {
      const Json* prevSub = previous ? findMember(*previous, asView(m.name)) : nullptr;
      stamp(m.value, now, prevSub, a);
    }
  }
}

bool isNullValue(const Json& inst) {
  const Json* t = findMember(inst, "type");
  if (!t || !t->IsString()) return false;
  const Json* v = findMember(inst, valueMemberOf(asView(*t)));
  return v && v->IsString() && asView(*v) == kNullUri;
}

void putDefaultFirst(Json& instances) {
  for (rapidjson::SizeType i = 1; i < instances.Size(); ++i) {
    if (datasetIdOf(instances[i]).empty()) std::swap(instances[0], instances[i]);
  }
}

// A new state document starting as a copy of `current`.
JsonDocument copyOf(const Json& current) {
  JsonDocument d;
  d.CopyFrom(current, d.GetAllocator());
  return d;
}

void touchEntity(JsonDocument& e, const std::string& now) { setMember(e, "modifiedAt", jsonString(now, e.GetAllocator()), e.GetAllocator()); }

void addTypes(JsonDocument& e, const Json& fragment) {
  const Json* types = findMember(fragment, "type");
  if (!types) return;
  auto& a = e.GetAllocator();
  Json& mine = e["type"];
  for (const auto& t : types->GetArray()) {
    bool have = false;
    for (const auto& m : mine.GetArray()) have = have || m == t;
    if (!have) mine.PushBack(Json(t, a), a);
  }
}

void takeScope(JsonDocument& e, const Json& fragment) {
  if (const Json* s = findMember(fragment, "scope")) setMember(e, "scope", Json(*s, e.GetAllocator()), e.GetAllocator());
}

// Merges `patch` into `target` (both instances): members replaced, sub-attributes merged
// recursively, a sub-attribute with value urn:ngsi-ld:null removed.
void mergeInstance(Json& target, const Json& patch, const std::string& now, JsonAllocator& a) {
  // A change of kind replaces the old value member.
  const Json* newType = findMember(patch, "type");
  if (newType) {
    const Json* oldType = findMember(target, "type");
    if (oldType && *oldType != *newType) target.RemoveMember(Json(rapidjson::StringRef(valueMemberOf(asView(*oldType)).data(), valueMemberOf(asView(*oldType)).size())));
  }
  for (const auto& m : patch.GetObject()) {
    std::string_view key = asView(m.name);
    if (key == "createdAt") continue;
    if (!isCoreInstanceMember(key) && m.value.IsObject()) {
      Json* sub = findMember(target, key);
      if (isNullValue(m.value)) {
        if (sub) target.RemoveMember(m.name);
        continue;
      }
      if (sub && sub->IsObject()) {
        mergeInstance(*sub, m.value, now, a);
        continue;
      }
      Json fresh(m.value, a);
      stamp(fresh, now, nullptr, a);
      target.AddMember(Json(m.name, a), fresh, a);
      continue;
    }
    setMember(target, key, Json(m.value, a), a);
  }
  setMember(target, "modifiedAt", jsonString(now, a), a);
}

Result<JsonDocument> requireExisting(const Json* current) {
  if (!current) return notFound("entity not found");
  return copyOf(*current);
}

enum class Overwrite { kAlways, kNever, kOnlyExisting };

// Puts each instance of the fragment's attributes into the entity according to `mode`.
void putAttributes(JsonDocument& e, const Json& fragment, const std::string& now, Overwrite mode,
                   AttributeReport* report) {
  auto& a = e.GetAllocator();
  Json& attrs = attrsOf(e);
  const Json* in = attrsOf(fragment);
  if (!in) return;
  for (const auto& attr : in->GetObject()) {
    std::string name(asView(attr.name));
    Json* existing = findMember(attrs, name);
    bool applied = false;
    std::string reason;
    for (const auto& inst : attr.value.GetArray()) {
      std::string_view ds = datasetIdOf(inst);
      Json* old = existing ? findInstance(*existing, ds) : nullptr;
      if (old && mode == Overwrite::kNever) {
        reason = "attribute already exists and noOverwrite was requested";
        continue;
      }
      if (!old && mode == Overwrite::kOnlyExisting) {
        reason = "attribute does not exist";
        continue;
      }
      Json fresh(inst, a);
      stamp(fresh, now, old, a);
      if (old) {
        *old = std::move(fresh);
      } else {
        if (!existing) {
          attrs.AddMember(jsonString(name, a), Json(rapidjson::kArrayType), a);
          existing = findMember(attrs, name);
        }
        existing->PushBack(fresh, a);
        putDefaultFirst(*existing);
      }
      applied = true;
    }
    if (report) {
      if (applied) {
        report->updated.push_back(name);
      } else {
        report->notUpdated.emplace_back(name, reason);
      }
    }
  }
}

Result<JsonDocument> freshEntity(const Json& entity, const std::string& now, const Json* createdAt) {
  JsonDocument e = copyOf(entity);
  auto& a = e.GetAllocator();
  setMember(e, "createdAt", createdAt ? Json(*createdAt, a) : jsonString(now, a), a);
  setMember(e, "modifiedAt", jsonString(now, a), a);
  for (auto& attr : attrsOf(e).GetObject()) {
    for (auto& inst : attr.value.GetArray()) stamp(inst, now, nullptr, a);
  }
  return e;
}

}  // namespace

Result<JsonDocument> createEntity(const Json* current, const Json& entity, Micros now) {
  if (current) return alreadyExists("entity " + std::string(asView(entity["id"])) + " already exists");
  return freshEntity(entity, formatDateTime(now), nullptr);
}

Result<JsonDocument> replaceEntity(const Json* current, const Json& entity, Micros now) {
  if (!current) return notFound("entity " + std::string(asView(entity["id"])) + " not found");
  return freshEntity(entity, formatDateTime(now), findMember(*current, "createdAt"));
}

Result<JsonDocument> upsertEntity(const Json* current, const Json& entity, Micros now, bool updateMode) {
  if (!current) return createEntity(nullptr, entity, now);
  if (!updateMode) return replaceEntity(current, entity, now);
  JsonDocument e = copyOf(*current);
  std::string ts = formatDateTime(now);
  addTypes(e, entity);
  takeScope(e, entity);
  putAttributes(e, entity, ts, Overwrite::kAlways, nullptr);
  touchEntity(e, ts);
  return e;
}

Result<JsonDocument> mergeEntity(const Json* current, const Json& fragment, Micros now) {
  auto r = requireExisting(current);
  if (!r) return r;
  JsonDocument& e = *r;
  auto& a = e.GetAllocator();
  std::string ts = formatDateTime(now);
  addTypes(e, fragment);
  takeScope(e, fragment);
  Json& attrs = attrsOf(e);
  if (const Json* in = attrsOf(fragment)) {
    for (const auto& attr : in->GetObject()) {
      Json* existing = findMember(attrs, asView(attr.name));
      for (const auto& inst : attr.value.GetArray()) {
        std::string_view ds = datasetIdOf(inst);
        Json* old = existing ? findInstance(*existing, ds) : nullptr;
        if (isNullValue(inst)) {
          if (old) existing->Erase(old);
          continue;
        }
        if (old) {
          mergeInstance(*old, inst, ts, a);
          continue;
        }
        Json fresh(inst, a);
        stamp(fresh, ts, nullptr, a);
        if (!existing) {
          attrs.AddMember(Json(attr.name, a), Json(rapidjson::kArrayType), a);
          existing = findMember(attrs, asView(attr.name));
        }
        existing->PushBack(fresh, a);
        putDefaultFirst(*existing);
      }
      if (existing && existing->Empty()) attrs.RemoveMember(attr.name);
    }
  }
  touchEntity(e, ts);
  return r;
}

Result<JsonDocument> appendAttributes(const Json* current, const Json& fragment, Micros now, bool noOverwrite,
                                      AttributeReport* report) {
  auto r = requireExisting(current);
  if (!r) return r;
  std::string ts = formatDateTime(now);
  addTypes(*r, fragment);
  takeScope(*r, fragment);
  putAttributes(*r, fragment, ts, noOverwrite ? Overwrite::kNever : Overwrite::kAlways, report);
  touchEntity(*r, ts);
  return r;
}

Result<JsonDocument> updateAttributes(const Json* current, const Json& fragment, Micros now, AttributeReport* report) {
  auto r = requireExisting(current);
  if (!r) return r;
  std::string ts = formatDateTime(now);
  putAttributes(*r, fragment, ts, Overwrite::kOnlyExisting, report);
  touchEntity(*r, ts);
  return r;
}

namespace {
// Applies `change` to the existing instance of `attr` with the datasetId of each given instance;
// ResourceNotFound when one does not exist.
template <typename Change>
Result<JsonDocument> changeInstances(const Json* current, const std::string& attr, const Json& instances, Micros now,
                                     Change change) {
  auto r = requireExisting(current);
  if (!r) return r;
  JsonDocument& e = *r;
  std::string ts = formatDateTime(now);
  Json* existing = findMember(attrsOf(e), attr);
  for (const auto& inst : instances.GetArray()) {
    Json* old = existing ? findInstance(*existing, datasetIdOf(inst)) : nullptr;
    if (!old) return notFound("attribute not found in entity (with that datasetId)");
    change(*old, inst, ts, e.GetAllocator());
  }
  touchEntity(e, ts);
  return r;
}
}  // namespace

Result<JsonDocument> partialAttributeUpdate(const Json* current, const std::string& attr, const Json& instances,
                                            Micros now) {
  return changeInstances(current, attr, instances, now, mergeInstance);
}

Result<JsonDocument> replaceAttribute(const Json* current, const std::string& attr, const Json& instances,
                                      Micros now) {
  return changeInstances(current, attr, instances, now,
                         [](Json& old, const Json& inst, const std::string& ts, JsonAllocator& a) {
                           Json fresh(inst, a);
                           stamp(fresh, ts, &old, a);
                           old = std::move(fresh);
                         });
}

Result<JsonDocument> deleteAttribute(const Json* current, const std::string& attr, std::string_view datasetId,
                                     bool deleteAll, Micros now) {
  auto r = requireExisting(current);
  if (!r) return r;
  JsonDocument& e = *r;
  Json& attrs = attrsOf(e);
  Json* existing = findMember(attrs, attr);
  if (!existing) return notFound("attribute not found in entity");
  touchEntity(e, formatDateTime(now));
  if (deleteAll) {
    attrs.RemoveMember(Json(rapidjson::StringRef(attr.data(), attr.size())));
    return r;
  }
  Json* inst = findInstance(*existing, datasetId);
  if (!inst) return notFound("attribute instance with that datasetId not found");
  existing->Erase(inst);
  if (existing->Empty()) attrs.RemoveMember(Json(rapidjson::StringRef(attr.data(), attr.size())));
  return r;
}

}  // namespace allmende::model
