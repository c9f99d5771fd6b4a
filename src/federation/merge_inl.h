// Template part of merge.h.
#pragma once

#include "model/entity.h"

namespace allmende::federation {

namespace internal {
void copyTimes(const Json& from, Json& to, JsonAllocator& a);
}

template <typename ExpandName>
void restoreSystemTimes(const Json& received, JsonDocument& expanded, ExpandName expandName) {
  if (!received.IsObject() || !expanded.IsObject()) return;
  JsonAllocator& a = expanded.GetAllocator();
  internal::copyTimes(received, expanded, a);
  Json* attrs = findMember(expanded, "attrs");
  if (!attrs || !attrs->IsObject()) return;
  for (const auto& m : received.GetObject()) {
    std::string_view name = asView(m.name);
    if (name == "id" || name == "type" || name == "scope" || name == "@context" || name == "createdAt" ||
        name == "modifiedAt")
      continue;
    std::string iri = expandName(name);
    Json* attr = findMember(*attrs, iri);
    if (!attr || !attr->IsArray()) continue;
    auto copyFrom = [&](const Json& inst) {
      if (!inst.IsObject()) return;
      Json* target = model::findInstance(*attr, model::datasetIdOf(inst));
      if (target) internal::copyTimes(inst, *target, a);
    };
    if (m.value.IsArray()) {
      for (const auto& inst : m.value.GetArray()) copyFrom(inst);
    } else {
      copyFrom(m.value);
    }
  }
}

}  // namespace allmende::federation
