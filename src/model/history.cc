#include "model/history.h"

#include <cmath>

#include "model/entity.h"

namespace allmende::model {

namespace {

constexpr std::string_view kNullUri = "urn:ngsi-ld:null";

std::optional<Micros> timeMember(const Json& inst, std::string_view name) {
  const Json* t = findMember(inst, name);
  if (!t || !t->IsString()) return std::nullopt;
  return parseDateTime(asView(*t));
}

bool isKept(std::string_view member) {
  return member == "observedAt" || member == "createdAt" || member == "modifiedAt" || member == "datasetId";
}

// The modifiedAt of the entity (the time of the change), 0 when absent.
Micros changeTime(const Json& entity) {
  const Json* m = findMember(entity, "modifiedAt");
  auto t = m && m->IsString() ? parseDateTime(asView(*m)) : std::nullopt;
  return t.value_or(0);
}

std::string kindOf(const Json& inst) {
  const Json* t = findMember(inst, "type");
  return t && t->IsString() ? std::string(asView(*t)) : std::string(kProperty);
}

HistoryInstance deletion(const std::string& attr, const Json& inst, Micros at) {
  HistoryInstance h;
  h.attr = attr;
  h.datasetId = std::string(datasetIdOf(inst));
  h.recordedAt = at;
  h.deleted = true;
  h.doc = "{\"type\":\"" + kindOf(inst) + "\"}";
  return h;
}

void addTypesIfChanged(const Json* before, const Json* after, HistoryChange& out) {
  const Json* newTypes = after ? findMember(*after, "type") : nullptr;
  if (!newTypes) return;
  const Json* oldTypes = before ? findMember(*before, "type") : nullptr;
  if (oldTypes && *oldTypes == *newTypes) return;
  out.types = toJsonString(*newTypes);
}

}  // namespace

Json numberJson(double v) {
  // Whole numbers come back as integers (10, not 10.0), as they were most likely written.
  if (std::floor(v) == v && std::fabs(v) < 9e15) return Json(static_cast<int64_t>(v));
  return Json(v);
}

HistoryInstance historyInstanceOf(const std::string& attr, const Json& instance) {
  HistoryInstance h;
  h.attr = attr;
  h.datasetId = std::string(datasetIdOf(instance));
  h.observedAt = timeMember(instance, "observedAt");
  auto modified = timeMember(instance, "modifiedAt");
  if (!modified) modified = timeMember(instance, "createdAt");
  h.recordedAt = modified.value_or(0);
  const Json* value = findMember(instance, "value");
  const bool property = kindOf(instance) == kProperty;
  bool plainNumber = property && value && value->IsNumber();
  if (property && value && value->IsNumber()) h.number = value->GetDouble();
  if (property && value && value->IsBool()) h.number = value->GetBool() ? 1.0 : 0.0;
  // Anything beyond type, value and the kept members needs the document.
  for (const auto& m : instance.GetObject()) {
    std::string_view k = asView(m.name);
    if (k != "type" && k != "value" && !isKept(k)) plainNumber = false;
  }
  if (plainNumber) return h;
  // The instance without the kept members, written straight from the instance (no copy).
  h.doc = "{";
  for (const auto& m : instance.GetObject()) {
    if (isKept(asView(m.name))) continue;
    if (h.doc.size() > 1) h.doc += ',';
    appendJson(m.name, h.doc);
    h.doc += ':';
    appendJson(m.value, h.doc);
  }
  h.doc += '}';
  return h;
}

void instanceJson(const HistoryInstance& h, JsonDocument& out) {
  auto& a = out.GetAllocator();
  out.SetObject();
  if (!h.doc.empty()) {
    JsonDocument rest;
    parseJsonText(h.doc.c_str(), rest);
    if (rest.IsObject()) out.CopyFrom(rest, a);
  }
  if (!findMember(out, "type")) out.AddMember("type", Json(kProperty.data(), a), a);
  if (h.deleted) {
    // NGSI-LD 4.5.7: a deleted attribute appears with the null value and its deletedAt.
    std::string_view member = valueMemberOf(asView(out["type"]));
    if (member.empty()) member = "value";
    if (!findMember(out, member)) out.AddMember(jsonString(member, a), jsonString(kNullUri, a), a);
    out.AddMember("deletedAt", jsonString(formatDateTime(h.recordedAt), a), a);
  } else if (h.number && !findMember(out, "value")) {
    out.AddMember("value", numberJson(*h.number), a);
  }
  if (!h.datasetId.empty()) out.AddMember("datasetId", jsonString(h.datasetId, a), a);
  if (h.observedAt) out.AddMember("observedAt", jsonString(formatDateTime(*h.observedAt), a), a);
  if (!h.deleted) {
    out.AddMember("createdAt", jsonString(formatDateTime(h.recordedAt), a), a);
    out.AddMember("modifiedAt", jsonString(formatDateTime(h.recordedAt), a), a);
  }
}

void diffHistory(const Json* before, const Json* after, Micros deletedAt, HistoryChange& out) {
  if (!before && !after) return;
  const Json& some = after ? *after : *before;
  if (const Json* id = findMember(some, "id"); id && id->IsString()) out.entityId = std::string(asView(*id));
  out.entityDeleted = !after;
  addTypesIfChanged(before, after, out);
  const Json* oldAttrs = before ? attrsOf(*before) : nullptr;
  const Json* newAttrs = after ? attrsOf(*after) : nullptr;
  const Micros goneAt = after ? changeTime(*after) : deletedAt;
  if (newAttrs) {
    for (const auto& attr : newAttrs->GetObject()) {
      std::string name(asView(attr.name));
      const Json* old = oldAttrs ? findMember(*oldAttrs, name) : nullptr;
      for (const auto& inst : attr.value.GetArray()) {
        const Json* prev = old ? findInstance(*old, datasetIdOf(inst)) : nullptr;
        if (prev && *prev == inst) continue;
        out.instances.push_back(historyInstanceOf(name, inst));
      }
    }
  }
  if (oldAttrs) {
    for (const auto& attr : oldAttrs->GetObject()) {
      std::string name(asView(attr.name));
      const Json* now = newAttrs ? findMember(*newAttrs, name) : nullptr;
      for (const auto& inst : attr.value.GetArray()) {
        if (now && findInstance(*now, datasetIdOf(inst))) continue;
        out.instances.push_back(deletion(name, inst, goneAt));
      }
    }
  }
}

}  // namespace allmende::model
