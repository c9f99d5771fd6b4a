// Helpers shared by the model unit tests: JSON from text, and the core @context.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "ld/core_context.h"

namespace allmende::model::testing {

inline JsonDocument json(const std::string& text) {
  JsonDocument d;
  Status st = parseJson(text, d);
  EXPECT_TRUE(st.isOk()) << st.toString() << " in " << text;
  return d;
}

inline const ld::Context& core() { return *ld::coreContext(); }

inline std::string kDefault(const std::string& term) { return "https://uri.etsi.org/ngsi-ld/default-context/" + term; }

}  // namespace allmende::model::testing
