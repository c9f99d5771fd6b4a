// Small IRI helpers shared inside ld/ (not part of the public API).
#pragma once

#include <string>
#include <string_view>

namespace allmende::ld::internal {

// "scheme:rest" without whitespace, or a blank node id "_:x" (the test jsonld.js applies).
bool isAbsoluteIri(std::string_view v);
// A JSON-LD keyword ("@id", "@type", ...).
bool isKeyword(std::string_view v);
// "@" followed by ALPHA only: reserved for future keywords, ignored as terms (JSON-LD 1.1 4.1).
bool hasKeywordForm(std::string_view v);
// Resolves `ref` against the absolute `base` (RFC 3986 5.2, without dot-segment edge cases).
std::string resolveIri(std::string_view base, std::string_view ref);

}  // namespace allmende::ld::internal
