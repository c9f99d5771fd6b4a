// Working out and storing the trail of a change (trail.h). Each kind of trail has its own file;
// this one only dispatches to them.
#include "store/sqlite/sqlite_store_impl.h"

namespace allmende::store::sqlite {

void SqliteStore::traceChange(const TenantId& tenant, const Json* before, const Json* after, ChangeTrail& out) const {
  traceNotifications(tenant, before, after, out);
}

Status SqliteStore::storeTrail(int64_t tenant, int64_t seq, const ChangeTrail& trail) {
  (void)seq;
  ALLMENDE_RETURN_IF_ERROR(storeNotifications(tenant, trail));
  return Status::ok();
}

}  // namespace allmende::store::sqlite
