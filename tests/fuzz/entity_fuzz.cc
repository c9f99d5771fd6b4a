// Entity bodies (NGSI-LD 5.6.1) with the core @context: expansion and validation of any JSON
// never crash; an entity that expands renders in every representation as valid JSON.
#include "common/json.h"
#include "fuzz_input.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "model/expand.h"
#include "model/render.h"

namespace {

// No network in a fuzz target: every remote @context is unavailable.
class NoLoader : public allmende::ld::ContextLoader {
 public:
  allmende::Result<std::string> load(const std::string&) override {
    return allmende::Status(allmende::ErrorType::kLdContextNotAvailable, "offline");
  }
};

allmende::ld::ContextStore& contexts() {
  static allmende::ld::ContextStore store({}, std::make_unique<NoLoader>());
  return store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allmende;
  JsonDocument body;
  if (!parseJson(fuzz::asText(data, size), body, JsonLimits{32}).isOk() || !body.IsObject()) return 0;
  // An inline @context (application/ld+json) goes through context processing first.
  std::shared_ptr<const ld::Context> ctx = contexts().core();
  if (const Json* c = findMember(body, "@context")) {
    auto resolved = contexts().resolve(*c);
    if (!resolved.isOk()) return 0;
    ctx = *resolved;
  }
  auto entity = model::expandEntity(body, *ctx);
  if (!entity.isOk()) return 0;
  for (auto format : {model::Format::kNormalized, model::Format::kConcise, model::Format::kKeyValues}) {
    model::RenderOptions options;
    options.format = format;
    options.sysAttrs = true;
    JsonBuffer buf;
    JsonWriter w(buf);
    model::renderEntity(*entity, *ctx, options, w);
    JsonDocument out;
    FUZZ_CHECK(parseJson(std::string_view(buf.GetString(), buf.GetSize()), out, JsonLimits{64}).isOk());
  }
  return 0;
}
