// Working out and storing the trail of a change (trail.h). Each kind of trail has its own file;
// this one only dispatches to them.
#include <chrono>

#include "store/sqlite/sqlite_store_impl.h"

namespace allmende::store::sqlite {

void SqliteStore::traceChange(const TenantId& tenant, const Json* before, const Json* after, ChangeTrail& out) const {
  // An entity deletion has no modifiedAt to take the deletion time from: the wall clock's.
  const Micros now =
      after ? 0
            : std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
  out.history = {};
  model::diffHistory(before, after, now, out.history);
  traceNotifications(tenant, before, after, out);
}

Status SqliteStore::storeTrail(int64_t tenant, int64_t seq, const ChangeTrail& trail, bool created) {
  (void)seq;
  ALLMENDE_RETURN_IF_ERROR(history_.store(tenant, trail.history, terms_, created));
  ALLMENDE_RETURN_IF_ERROR(storeNotifications(tenant, trail));
  return Status::ok();
}

}  // namespace allmende::store::sqlite
