#include "store/store.h"

namespace allmende::store {

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
