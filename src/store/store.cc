#include "store/store.h"

namespace allmende::store {

// The candidate types of a query hold for every match, also when the spatial or the value index
// drives the scan: the API leaves out the per-entity type check when the selection is an OR of
// types (EntityQuery::selectionExact), so it is made here, on the parsed document.
bool hasAnyType(const Json& entity, const std::vector<std::string>& typeIris) {
  if (typeIris.empty()) return true;
  const Json* types = findMember(entity, "type");
  if (!types || !types->IsArray()) return false;
  for (const auto& t : types->GetArray()) {
    if (!t.IsString()) continue;
    for (const auto& iri : typeIris) {
      if (asView(t) == iri) return true;
    }
  }
  return false;
}

bool hasAnyAttribute(const Json& entity, const std::vector<std::string>& attrs) {
  if (attrs.empty()) return true;
  const Json* a = findMember(entity, "attrs");
  if (!a) return false;
  for (const auto& name : attrs) {
    if (findMember(*a, name)) return true;
  }
  return false;
}

Status deleteMatching(Store& store, const TenantId& tenant, EntityQuery q) {
  q.offset = 0;
  q.count = false;
  for (;;) {
    auto page = store.queryEntities(tenant, q);
    if (!page) return page.status();
    if (page->entities.empty()) return Status::ok();
    std::vector<WriteOp> ops;
    for (const auto& e : page->entities) {
      ops.push_back({std::string(asView(e["id"])), [](const Json*) -> Result<WriteEffect> {
                       WriteEffect effect;
                       effect.kind = WriteEffect::Kind::kDelete;
                       return effect;
                     }});
    }
    for (const auto& st : store.write(tenant, std::move(ops))) ALLMENDE_RETURN_IF_ERROR(st);
  }
}

}  // namespace allmende::store
