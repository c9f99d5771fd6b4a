// What every query language parser of this module needs: term expansion and complexity limits.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace allmende::query {

// Expands a user term (attribute name, type name, vocab value) to its IRI with the request's
// @context (supplied by ld/). An empty ExpandFn means identity.
using ExpandFn = std::function<std::string(std::string_view term)>;

// Complexity limits of q, scopeQ and type selections. Exceeding one fails with TooComplexQuery
// (NGSI-LD 5.5.2: "the query ... is too complex and cannot be resolved").
struct QueryLimits {
  size_t maxLength = 8192;        // characters of the query text
  size_t maxDepth = 32;           // nesting of parentheses and linked-entity braces
  size_t maxTerms = 256;          // query terms (leaves) in one expression
  size_t maxPatternLength = 256;  // characters of a ~= / !~= pattern (std::regex is backtracking)
};

}  // namespace allmende::query
