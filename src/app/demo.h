// The demo municipality "Musterhausen" (invented): a few dozen entities of the Smart Data Models
// types a small town uses first, written through the same model and store path as the API.
#pragma once

#include "common/status.h"
#include "common/time.h"
#include "ld/context.h"
#include "store/store.h"

namespace allmende::app {

// Upserts the demo entities into the default tenant. Idempotent.
Status seedDemo(store::Store& store, const ld::Context& ctx, const Clock& clock);

}  // namespace allmende::app
