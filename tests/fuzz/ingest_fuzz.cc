// IoT ingestion (docs/ingestion.md): any sensor payload, under each kind of mapping, and any
// mapping text never crash the mapping engine; what it maps is an object of Properties that the
// entity expansion accepts or refuses with a Status.
#include "common/json.h"
#include "fuzz_input.h"
#include "ingest/mapping.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "model/expand.h"

namespace {

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

constexpr const char* kMappings[] = {
    R"({})",
    R"({"timestamp": "/meta/ts", "fields": [{"source": "/m/0", "attribute": "a", "scale": 0.1, "offset": -40},
        {"source": "b", "type": "integer"}, {"source": "c", "type": "boolean"}, {"source": "d", "type": "string"}]})",
    R"({"format": "measurements", "timestamp": "ts"})",
    R"({"format": "ttn"})",
    R"({"format": "chirpstack", "fields": [{"source": "x", "type": "number"}]})",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allmende;
  if (size == 0) return 0;
  std::string_view text = fuzz::asText(data + 1, size - 1);
  JsonDocument payload;
  if (!parseJson(text, payload, JsonLimits{16}).isOk()) return 0;
  // The input as a mapping, too.
  (void)ingest::parseMapping(payload);
  JsonDocument mappingJson;
  if (!parseJson(kMappings[data[0] % std::size(kMappings)], mappingJson).isOk()) __builtin_trap();
  auto mapping = ingest::parseMapping(mappingJson);
  if (!mapping) __builtin_trap();
  auto fragment = ingest::mapPayload(*mapping, payload);
  if (!fragment) return 0;
  if (!fragment->IsObject() || fragment->MemberCount() == 0) __builtin_trap();
  (void)model::expandFragment(*fragment, *contexts().core(), "urn:ngsi-ld:S:1");
  return 0;
}
