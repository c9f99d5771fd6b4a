#include "ld/core_context.h"

#include <cstdlib>

#include "common/json.h"
#include "ld/context.h"
#include "ld/context_processor.h"

namespace allmende::ld {

namespace internal {
extern const char kCoreContextText[];  // core_context_data.cc, generated from the .jsonld file
}  // namespace internal

std::string_view coreContextText() { return internal::kCoreContextText; }

bool isCoreContextUrl(std::string_view url) {
  // Published under https://uri.etsi.org/ngsi-ld/v1/: ngsi-ld-core-context.jsonld (latest) and
  // ngsi-ld-core-context-v1.3.jsonld ... -v1.9.jsonld.
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return false;
  }
  constexpr std::string_view kPath = "uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context";
  if (!url.starts_with(kPath)) return false;
  url.remove_prefix(kPath.size());
  if (url == ".jsonld") return true;
  if (url.size() != 12 || !url.starts_with("-v1.") || !url.ends_with(".jsonld")) return false;
  return url[4] >= '3' && url[4] <= '9';
}

std::shared_ptr<const Context> coreContext() {
  static const std::shared_ptr<const Context> core = [] {
    JsonDocument doc;
    Status st = parseJson(coreContextText(), doc);
    const Json* ctx = st.isOk() ? findMember(doc, "@context") : nullptr;
    if (ctx == nullptr) std::abort();  // the embedded file is part of the build: a broken one is a bug
    auto processed = processStandaloneContext(*ctx, nullptr);
    if (!processed) std::abort();
    // Re-wrap so that source()/sourceUrl() describe the core context by its URL.
    const Context& c = **processed;
    return std::make_shared<const Context>(c.terms(), c.vocab(), "\"" + std::string(kCoreContextUrl) + "\"",
                                           std::string(kCoreContextUrl));
  }();
  return core;
}

}  // namespace allmende::ld
