// JSON-LD 1.1 context processing (JSON-LD 1.1 API 4.1), adapted to NGSI-LD: the user @context is
// processed on an empty active context, then the core context's term definitions are applied
// last and win over user definitions (NGSI-LD 4.5: the core @context is always implicitly
// included, last, and its terms cannot be overridden). The core @vocab therefore also wins.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/json.h"
#include "common/status.h"
#include "ld/context.h"

namespace allmende::ld {

// Returns the text of the JSON-LD document at an absolute URL ({"@context": ...}).
// On failure it returns LdContextNotAvailable (NGSI-LD 5.5.2).
using DocumentSource = std::function<Result<std::string>(const std::string& url)>;

struct ProcessOptions {
  int maxDepth = 32;            // nesting of remote contexts and @import
  int maxRemoteContexts = 64;   // remote documents dereferenced while processing one value
  JsonLimits jsonLimits;        // applied to fetched documents
};

// Processes an @context value (a URL string, an object, null, or an array of those) into a
// Context. URLs of the core context (isCoreContextUrl) are never fetched; other URLs go through
// `fetch`. Failures: a malformed context (invalid term definition, keyword redefinition, cyclic
// IRI mapping, invalid @version/@vocab/@container/@type, @reverse, cyclic or too deep context
// references) -> BadRequestData (NGSI-LD 5.5.2: input data not meeting the requirements); a remote
// document that cannot be fetched, is not JSON, or has no "@context" -> LdContextNotAvailable.
Result<std::shared_ptr<const Context>> processContext(const Json& value, const DocumentSource& fetch,
                                                      const ProcessOptions& options = {});

// Processes one document's @context alone, without applying the core context (used for the core
// context itself). Same failures as processContext.
Result<std::shared_ptr<const Context>> processStandaloneContext(const Json& value,
                                                                const DocumentSource& fetch,
                                                                const ProcessOptions& options = {});

}  // namespace allmende::ld
