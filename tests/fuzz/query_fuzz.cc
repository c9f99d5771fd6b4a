// The NGSI-LD query languages (4.9 q, 4.19 scopeQ, 4.17 type selection): parsing any text never
// crashes, and what parses evaluates against an entity without crashing.
#include "common/json.h"
#include "fuzz_input.h"
#include "query/q.h"
#include "query/scope_query.h"
#include "query/type_selector.h"

namespace {

const allmende::JsonDocument& sampleEntity() {
  static allmende::JsonDocument doc = [] {
    allmende::JsonDocument d;
    d.Parse(R"({"id":"urn:ngsi-ld:T:1","type":["T","U"],"scope":["/a/b","/c"],"attrs":{)"
            R"("a":[{"type":"Property","value":3,"observedAt":"2026-11-25T10:00:00Z","b":{"type":"Property","value":"x"}}],)"
            R"("s":[{"type":"Property","value":{"k":[1,"two",{"z":null}]}}],)"
            R"("r":[{"type":"Relationship","object":"urn:ngsi-ld:T:2"}],)"
            R"("l":[{"type":"LanguageProperty","languageMap":{"de":"Wasser","en":"water"}}]}})");
    return d;
  }();
  return doc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allmende;
  auto f = fuzz::fields(fuzz::asText(data, size), 3);
  auto identity = [](std::string_view term) { return std::string(term); };
  const Json& entity = sampleEntity();
  if (auto q = query::parseQ(f[0], identity); q.isOk()) {
    query::evaluate(*q, entity, [&](std::string_view) { return &entity; });
    query::referencedAttributes(*q);
  }
  if (auto s = query::parseScopeQ(f[1]); s.isOk()) query::evaluate(*s, entity["scope"]);
  if (auto t = query::parseTypeSelector(f[2], identity); t.isOk()) {
    query::evaluate(*t, entity["type"]);
    query::mentionedTypes(*t);
  }
  return 0;
}
