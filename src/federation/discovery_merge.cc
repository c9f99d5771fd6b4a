#include "federation/discovery_merge.h"

#include <string_view>

namespace allmende::federation {

namespace {

bool isCount(std::string_view name) { return name == "entityCount" || name == "attributeCount"; }

const Json* idOf(const Json& v) {
  const Json* id = v.IsObject() ? findMember(v, "id") : nullptr;
  return id && id->IsString() ? id : nullptr;
}

// An array of names or of objects with ids: what `incoming` adds to `target`.
void mergeArray(Json& target, const Json& incoming, JsonAllocator& a) {
  for (const auto& v : incoming.GetArray()) {
    Json* same = nullptr;
    const Json* vid = idOf(v);
    for (auto& t : target.GetArray()) {
      if (v.IsString() ? (t.IsString() && asView(t) == asView(v))
                       : (vid && idOf(t) && asView(*idOf(t)) == asView(*vid))) {
        same = &t;
        break;
      }
    }
    if (!same) {
      target.PushBack(Json(v, a), a);
    } else if (same->IsObject() && v.IsObject()) {
      mergeDiscovery(*same, v, a);
    }
  }
}

}  // namespace

void mergeDiscovery(Json& target, const Json& incoming, JsonAllocator& a) {
  if (target.IsArray() && incoming.IsArray()) {
    mergeArray(target, incoming, a);
    return;
  }
  if (!target.IsObject() || !incoming.IsObject()) return;
  for (const auto& m : incoming.GetObject()) {
    std::string_view name = asView(m.name);
    if (name == "id" || name == "type" || name == "@context") continue;
    Json* mine = findMember(target, name);
    if (!mine) {
      target.AddMember(Json(m.name, a), Json(m.value, a), a);
    } else if (isCount(name) && mine->IsUint64() && m.value.IsUint64()) {
      mine->SetUint64(mine->GetUint64() + m.value.GetUint64());
    } else if (mine->IsArray() && m.value.IsArray()) {
      mergeArray(*mine, m.value, a);
    }
  }
}

}  // namespace allmende::federation
