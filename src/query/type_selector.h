// The NGSI-LD Entity Type Selection Language (ETSI GS CIM 009 clause 4.17): `A`, `A,B` or `A|B`
// (either type), `(A;B)` (both types), parentheses for grouping.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "query/options.h"

namespace allmende::query {

struct TypeSelector {
  enum class Kind { kLeaf, kAnd, kOr };
  Kind kind = Kind::kLeaf;
  std::string type;                    // kLeaf: the expanded type IRI
  std::vector<TypeSelector> children;  // kAnd, kOr
};

// Parses a type selection; each type (a name per 4.6.2, a compact IRI or an IRI) goes through
// `expand`. Fails with BadRequestData on a syntax error, TooComplexQuery beyond `limits`.
Result<TypeSelector> parseTypeSelector(std::string_view text, const ExpandFn& expand,
                                       const QueryLimits& limits = {});

// True when the entity's types (`typesArray`: the internal form's array of expanded type IRIs,
// or a single string) satisfy `sel`.
bool evaluate(const TypeSelector& sel, const Json& typesArray);

// Every type IRI `sel` mentions, sorted and unique (for an index lookup: an entity can only
// match if it has at least one of them).
std::vector<std::string> mentionedTypes(const TypeSelector& sel);

}  // namespace allmende::query
